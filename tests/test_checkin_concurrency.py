"""A burst at the door: 45 confirmed people, and at the same moment every one of them is
checked in three times (the scanned code on one phone, a tapped name on another, and a resent
offline check) against gunicorn with 4 worker processes, on SQLite and PostgreSQL. Each person
is counted once, with one time, and the answers say "checked in" once and "already" twice."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import create_engine, text

from portal.services.checkin_code import SALT

from .conftest import PG_URL, csrf_from
from .liveserver import GUNICORN, LiveServer

requests = pytest.importorskip("requests")

PEOPLE = 45
WORKERS = 4
PASSWORD = "diem-danh-cung-luc-2021"

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="PostgreSQL tests need TEST_DATABASE_URL"),
    ),
]


class Session:
    def __init__(self, portal: LiveServer, email: str):
        self.portal = portal
        self.email = email
        self.http = requests.Session()

    def login(self, then: str) -> str:
        page = self.http.get(self.portal.url + "/login", timeout=60)
        response = self.http.post(
            self.portal.url + "/login",
            data={"email": self.email, "password": PASSWORD, "csrf_token": csrf_from(page.text)},
            allow_redirects=False, timeout=60)
        assert response.status_code == 302, (self.email, response.status_code)
        return self.http.get(self.portal.url + then, timeout=60).text


@pytest.fixture(params=BACKENDS)
def portal(request, tmp_path: Path):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the virtual environment")
    portal = LiveServer(tmp_path, PG_URL if request.param == "postgresql" else None,
                        workers=WORKERS)
    portal.flask("db", "upgrade")
    portal.flask("seminar", "load-plan")
    portal.flask("seminar", "set-capacity", str(PEOPLE))
    people = tmp_path / "people.csv"
    lines = ["email,name,password,office"]
    lines += [f"person{i:02d}@example.org,Đại Biểu Số {i:02d},{PASSWORD}," for i in range(PEOPLE)]
    lines += [f"office{i}@example.org,Văn Phòng {i},{PASSWORD},1" for i in range(2)]
    people.write_text("\n".join(lines) + "\n", encoding="utf-8")
    portal.flask("users", "import", str(people))
    try:
        portal.start()
        yield portal
    finally:
        portal.stop()


def test_a_burst_of_checkins_counts_each_person_once(portal):
    members = [Session(portal, f"person{i:02d}@example.org") for i in range(PEOPLE)]

    def register(member: Session) -> int:
        token = csrf_from(member.login("/register"))
        return member.http.post(portal.url + "/register", data={"csrf_token": token},
                                allow_redirects=False, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(register, members)) == [302] * PEOPLE

    engine = create_engine(portal.database_url.replace("postgresql://",
                                                       "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, seminar_id, checkin_nonce FROM registration "
            "WHERE status = 'confirmed'")).all()
    assert len(rows) == PEOPLE
    signer = URLSafeSerializer(portal.env["SECRET_KEY"], salt=SALT)
    codes = {row.id: signer.dumps([row.seminar_id, row.id, row.checkin_nonce]) for row in rows}

    phones = []
    for i in range(2):
        phone = Session(portal, f"office{i}@example.org")
        page = phone.login("/office/checkin")
        phone.csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
        phones.append(phone)

    jobs = []
    for registration_id, code in codes.items():
        jobs.append((phones[0], {"token": code, "client_id": f"scan-{registration_id}"}))
        jobs.append((phones[1], {"registration_id": registration_id,
                                 "client_id": f"tap-{registration_id}"}))
        jobs.append((phones[1], {"registration_id": registration_id,
                                 "client_id": f"tap-{registration_id}"}))  # resent offline
    barrier = threading.Barrier(len(jobs))
    answers: list[tuple[int, int, str]] = []
    lock = threading.Lock()

    def send(job) -> None:
        phone, payload = job
        barrier.wait(timeout=120)
        try:
            response = phone.http.post(portal.url + "/office/checkin/check", json=payload,
                                       headers={"X-CSRFToken": phone.csrf}, timeout=120)
            body = response.json()
            answer = (response.status_code, body.get("id"), body.get("status"))
        except Exception as error:  # noqa: BLE001 - reported below
            answer = (0, None, repr(error))
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=send, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)

    assert len(answers) == 3 * PEOPLE
    assert all(status == 200 for status, _, _ in answers), (answers, portal.log())
    per_person = Counter((person, kind) for _, person, kind in answers)
    for registration_id in codes:
        assert per_person[(registration_id, "checked_in")] == 1, registration_id
        assert per_person[(registration_id, "already")] == 2, registration_id

    state = phones[0].http.get(portal.url + "/office/checkin/state.json", timeout=60).json()
    assert state["arrived"] == state["expected"] == PEOPLE
    with engine.connect() as conn:
        checked = conn.execute(text(
            "SELECT count(*) FROM registration WHERE checked_in_at IS NOT NULL")).scalar()
        events = conn.execute(text(
            "SELECT count(*) FROM audit_event WHERE action = 'checkin.check_in'")).scalar()
    engine.dispose()
    assert checked == PEOPLE
    assert events == PEOPLE  # one recorded check-in per person: the later ones changed nothing
