"""The cap is a database fact: 45 logged-in members press "register" at the same moment
against a real gunicorn server with 4 worker processes, on SQLite and on PostgreSQL; exactly
the capacity (20) is confirmed, the other 25 wait in line, nobody is on the list twice; then
one confirmed person cancels through the web and the first in line is confirmed."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import PG_URL, csrf_from
from .liveserver import GUNICORN, LiveServer

requests = pytest.importorskip("requests")

PEOPLE = 45
CAPACITY = 20
WORKERS = 4
PASSWORD = "cung-bam-mot-luc-2021"

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="PostgreSQL tests need TEST_DATABASE_URL"),
    ),
]


class Portal(LiveServer):
    """The portal as it runs in production: its own database, the flask CLI, gunicorn."""

    def __init__(self, tmp_path: Path, backend: str):
        super().__init__(tmp_path, PG_URL if backend == "postgresql" else None,
                         workers=WORKERS)

    def attendees(self) -> list[dict]:
        return json.loads(self.flask("attendees", "list", "--json"))


class Member:
    def __init__(self, portal: Portal, email: str):
        self.portal = portal
        self.email = email
        self.http = requests.Session()
        self.token = ""

    def login(self) -> None:
        page = self.http.get(self.portal.url + "/login", timeout=60)
        response = self.http.post(
            self.portal.url + "/login",
            data={"email": self.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
            allow_redirects=False, timeout=60,
        )
        assert response.status_code == 302, (self.email, response.status_code)
        self.token = csrf_from(self.http.get(self.portal.url + "/register", timeout=60).text)

    def post(self, path: str) -> int:
        # "confirm": the web asks before a cancellation; these posts are the confirmed ones.
        response = self.http.post(self.portal.url + path,
                                  data={"csrf_token": self.token, "confirm": "1"},
                                  allow_redirects=False, timeout=120)
        return response.status_code


@pytest.fixture(params=BACKENDS)
def portal(request, tmp_path):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the virtual environment")
    portal = Portal(tmp_path, request.param)
    portal.flask("db", "upgrade")
    portal.flask("seminar", "load-plan")
    portal.flask("seminar", "set-capacity", str(CAPACITY))
    people = tmp_path / "members.csv"
    lines = ["email,name,password,position"]
    lines += [f"member{i:02d}@example.org,Thành Viên Số {i:02d},{PASSWORD},Phó Trưởng phòng"
              for i in range(PEOPLE)]
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert f"Imported {PEOPLE} accounts" in portal.flask("users", "import", str(people))
    try:
        portal.start()
        yield portal
    finally:
        portal.stop()


def test_everybody_registers_at_the_same_moment(portal):
    started = time.monotonic()
    members = [Member(portal, f"member{i:02d}@example.org") for i in range(PEOPLE)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(Member.login, members))

    barrier = threading.Barrier(PEOPLE)
    statuses: dict[str, int | str] = {}

    def press(member: Member) -> None:
        barrier.wait(timeout=60)
        try:
            statuses[member.email] = member.post("/register")
        except Exception as error:  # noqa: BLE001 - reported below
            statuses[member.email] = repr(error)

    threads = [threading.Thread(target=press, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == {m.email: 302 for m in members}, portal.log()

    rows = portal.attendees()
    emails = [row["email"] for row in rows]
    assert len(emails) == len(set(emails)) == PEOPLE, "somebody is on the list twice or missing"
    confirmed = [row for row in rows if row["status"] == "confirmed"]
    waiting = [row for row in rows if row["status"] == "waitlisted"]
    assert len(confirmed) == CAPACITY
    assert len(waiting) == PEOPLE - CAPACITY
    assert [row["waitlist_position"] for row in waiting] == list(range(1, len(waiting) + 1))
    assert all(row["waitlist_position"] is None for row in confirmed)
    assert rows == confirmed + waiting

    # One confirmed person cancels through the web: the first in line takes the seat.
    leaving = next(m for m in members if m.email == confirmed[0]["email"])
    first_in_line = next(m for m in members if m.email == waiting[0]["email"])
    assert leaving.post("/register/cancel") == 302
    after = {row["email"]: row for row in portal.attendees()}
    assert leaving.email not in after
    assert after[first_in_line.email]["status"] == "confirmed"
    assert sum(1 for row in after.values() if row["status"] == "confirmed") == CAPACITY
    assert sorted(row["waitlist_position"] for row in after.values()
                  if row["status"] == "waitlisted") == list(range(1, len(waiting)))
    page = first_in_line.http.get(portal.url + "/register", timeout=60).text
    assert 'id="promotion-notice"' in page and 'data-status="confirmed"' in page
    assert time.monotonic() - started < 60


def test_the_lock_serialises_count_and_insert(app, monkeypatch):
    """Deterministic: the first registration pauses between its count and its insert; a
    second one started meanwhile must wait for the lock and then see the seat taken."""
    from portal.extensions import db
    from portal.models import Seminar
    from portal.services import attendance, seminars

    from .conftest import create_account

    with app.app_context():
        attendance.set_capacity(seminars.current_seminar(), 1)
        ids = [create_account(f"racer{i}@example.org", f"Người Đua {i}").id for i in range(2)]

    original = Seminar.confirmed_count
    paused = threading.Event()
    second_counted = threading.Event()

    def slow_count(self):
        value = original(self)
        if threading.current_thread().name == "first":
            paused.set()
            # Hold the seat count open while the second registration tries. With the lock it
            # cannot count before the first commits, so this waits out its whole window (the
            # behaviour under test is that nothing happens); without the lock it ends at once.
            second_counted.wait(0.5)
        else:
            second_counted.set()
        return value

    monkeypatch.setattr(Seminar, "confirmed_count", slow_count)
    results: dict[str, object] = {}

    def register(user_id: int) -> None:
        with app.app_context():
            from portal.models import User

            try:
                registration = attendance.register(seminars.current_seminar(),
                                                   db.session.get(User, user_id))
                results[threading.current_thread().name] = registration.status.value
            except Exception as error:  # noqa: BLE001 - reported below
                results[threading.current_thread().name] = repr(error)

    first = threading.Thread(target=register, args=(ids[0],), name="first")
    second = threading.Thread(target=register, args=(ids[1],), name="second")
    first.start()
    assert paused.wait(10)
    second.start()
    first.join(30)
    second.join(30)
    assert results == {"first": "confirmed", "second": "waitlisted"}
