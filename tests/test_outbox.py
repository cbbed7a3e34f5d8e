"""The mail outbox against real servers on loopback: a mail server that answers one byte every
two seconds never holds an upload or a cancellation (each mail has a total deadline and is
recorded as failed), ``flask mail send`` then delivers what failed, once; and under many
uploads at the same moment on SQLite (gunicorn workers) every mail is recorded and sent."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, select, text

from portal import clock
from portal.extensions import db
from portal.models import MailLog, User
from portal.services import attendance, notifications, outbox, seminars

from .conftest import EMAILS, create_account, csrf_from, free_port, login, make_app, upload
from .docmaker import pdf_bytes
from .liveserver import GUNICORN, LiveServer
from .test_mail import BEFORE, mail_rows, settle

DEADLINE = 6  # MAIL_DEADLINE of these tests, in seconds
BYTE_EVERY = 2.0  # the slow server's pace: under MAIL_TIMEOUT, so only the deadline stops it


class SlowServer:
    """Accepts connections and answers the SMTP greeting one byte every ``BYTE_EVERY``
    seconds: each read gets a byte before its timeout, the greeting takes a minute."""

    GREETING = b"220 slow.example.org ESMTP ready\r\n"

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            for byte in self.GREETING:
                if self.stop.wait(BYTE_EVERY):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def slow():
    server = SlowServer()
    yield server
    server.close()


@pytest.fixture
def slow_app(tmp_path, backend, slow):
    app = make_app(tmp_path, backend, MAIL_SERVER="127.0.0.1", MAIL_PORT=slow.port,
                   MAIL_TIMEOUT=10, MAIL_DEADLINE=DEADLINE,
                   MAIL_DEFAULT_SENDER="toadam@example.gov.vn")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_slow_mail_server_holds_nothing_and_mail_send_delivers_later(slow_app, people,
                                                                       slow, smtp):
    app = slow_app
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 1)
        attendance.register(seminar, db.session.get(User, people["member"]))
        waiting = create_account("cho@example.org", "Người Chờ Lượt")
        attendance.register(seminar, waiting)

    # An upload answers at once (the mail leaves after the answer, on its own time).
    presenter = app.test_client()
    login(presenter, EMAILS["presenter"])
    with clock.frozen(BEFORE):
        started = time.monotonic()
        response = upload(presenter, 2, pdf_bytes(2), "Tham luận số 2.pdf")
        answered = time.monotonic() - started
    assert response.status_code == 302
    assert answered < DEADLINE

    # A cancellation that promotes the first in line answers at once too.
    member = app.test_client()
    login(member, EMAILS["member"])
    token = csrf_from(member.get("/register").data)
    started = time.monotonic()
    cancelled = member.post("/register/cancel", data={"csrf_token": token, "confirm": "1"})
    assert cancelled.status_code == 302 and time.monotonic() - started < DEADLINE
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "cho@example.org")) \
            .is_attendee_of(seminars.current_seminar())

    # Each mail gives up at its deadline, not after the minute the greeting would take.
    started = time.monotonic()
    rows = settle(app, timeout=2 * DEADLINE + 10)
    assert time.monotonic() - started < 2 * DEADLINE + 10
    assert slow.connections >= 1
    assert {(r.kind, r.recipient, r.status) for r in rows} == {
        ("receipt", EMAILS["presenter"], "failed"), ("promoted", "cho@example.org", "failed")}
    assert all(f"within {DEADLINE} s" in r.error for r in rows)

    # The Office sees them; then the server works again and `flask mail send` delivers them.
    office = app.test_client()
    login(office, EMAILS["office"])
    page = office.get("/office/mail").get_data(as_text=True)
    assert page.count('data-status="failed"') == 2 and "Gửi lại" in page
    app.config["MAIL_PORT"] = smtp.port
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "2 mail(s) sent, 0 failed." in result.output
    assert sorted(a for rcpts, _ in smtp.messages for a in rcpts) == sorted(
        [EMAILS["presenter"], "cho@example.org"])
    (promotion,) = smtp.to("cho@example.org")
    assert [part.get_filename() for part in promotion.iter_attachments()] == \
        ["ma-diem-danh.png"]
    assert {(r.status, r.attempts) for r in mail_rows(app)} == {("sent", 2)}
    again = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "0 mail(s) sent, 0 failed." in again.output and len(smtp.messages) == 2


def test_two_runs_of_mail_send_at_once_send_each_mail_once(tmp_path, backend, smtp):
    app = make_app(tmp_path, backend, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(),
                   MAIL_TIMEOUT=2)
    try:
        with app.app_context():
            for i in range(12):
                create_account(f"p{i:02d}@example.org", f"Người Số {i:02d}")
            db.session.commit()
            seminar = seminars.current_seminar()
            attendance.set_capacity(seminar, 1)
            people = list(db.session.scalars(select(User).order_by(User.id)))
            for person in people:
                attendance.register(seminar, person)
            for person in people[:-1]:  # each cancellation promotes the next: 11 mails
                attendance.cancel(seminar, person)
        assert {r.status for r in mail_rows(app)} == {"failed"}
        app.config["MAIL_PORT"] = smtp.port
        results: list = []
        barrier = threading.Barrier(2)

        def run() -> None:  # what `flask mail send` does, twice at the same moment
            with app.app_context():
                barrier.wait(30)
                results.append(outbox.send_pending())

        runs = [threading.Thread(target=run) for _ in range(2)]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join(120)
        recipients = [a for rcpts, _ in smtp.messages for a in rcpts]
        assert len(recipients) == 11 and len(set(recipients)) == 11, results
        assert sum(result.sent for result in results) == 11
        assert {r.status for r in mail_rows(app)} == {"sent"}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# -- many uploads at the same moment on SQLite ------------------------------------------------

OFFICE = "van.phong@example.org"
PASSWORD = "thu-gui-cung-luc-2021"
UPLOADS = 42


def test_every_mail_of_many_simultaneous_uploads_is_recorded_on_sqlite(tmp_path, smtp):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the virtual environment")
    live = LiveServer(tmp_path / "live", workers=4, env={
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port), "MAIL_TIMEOUT": "10",
        "MAIL_DEADLINE": "30"})
    live.flask("db", "upgrade")
    live.flask("seminar", "load-plan")
    live.flask("seminar", "set-deadline", "01/01/2100 00:00")
    live.flask("users", "create", "--email", OFFICE, "--name", "Văn Phòng Gửi Thư", "--office",
               "--password", PASSWORD)
    live.start()
    try:
        http = requests.Session()
        token = csrf_from(http.get(live.url + "/login", timeout=30).text)
        assert http.post(live.url + "/login", timeout=30, allow_redirects=False, data={
            "email": OFFICE, "password": PASSWORD, "csrf_token": token}).status_code == 302
        token = csrf_from(http.get(f"{live.url}/office/papers/1", timeout=30).text)
        barrier = threading.Barrier(UPLOADS)
        answers: list = [None] * UPLOADS

        def press(i: int) -> None:
            tab = requests.Session()
            tab.cookies.update(http.cookies)
            position = i % 7 + 1
            barrier.wait(60)
            try:
                answers[i] = tab.post(
                    f"{live.url}/office/papers/{position}", data={"csrf_token": token},
                    files={"file": (f"Bài {i}.pdf", pdf_bytes(1, marker=f"AT-ONCE-{i}"))},
                    allow_redirects=False, timeout=240).status_code
            except Exception as error:  # noqa: BLE001 - reported below
                answers[i] = repr(error)

        threads = [threading.Thread(target=press, args=(i,)) for i in range(UPLOADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert all(answer in (302, 400) for answer in answers), answers

        engine = create_engine(live.database_url)
        try:
            give_up = time.monotonic() + 120
            while True:
                with engine.connect() as connection:
                    revisions = connection.execute(text("SELECT count(*) FROM submission")) \
                        .scalar_one()
                    statuses = [row[0] for row in connection.execute(
                        text("SELECT status FROM mail_log WHERE kind = 'receipt'"))]
                if statuses and all(s in ("sent", "failed") for s in statuses):
                    break
                assert time.monotonic() < give_up, statuses
                time.sleep(0.2)
        finally:
            engine.dispose()
        accepted = answers.count(302)
        assert accepted == revisions and accepted >= UPLOADS // 2, answers
        # Every accepted upload has its receipt in the log, sent; nothing lost, nothing twice.
        assert statuses == ["sent"] * accepted
        smtp.wait(accepted)
        assert len(smtp.messages) == accepted
        assert "database is locked" not in live.log()
    finally:
        live.stop()


def test_the_outbox_survives_a_request_that_rolls_back(app, people, smtp):
    """A mail queued in a transaction that rolls back is never sent nor recorded."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    with app.app_context():
        user = db.session.get(User, people["presenter"])
        notifications.reset_link(user, "https://example.org/reset/x", 24, by_office=False)
        db.session.rollback()
        assert db.session.scalar(select(db.func.count(MailLog.id))) == 0
        notifications.reset_link(user, "https://example.org/reset/y", 24, by_office=False)
        db.session.commit()
    assert [(r.kind, r.status) for r in mail_rows(app)] == [("reset", "sent")]
    (message,) = smtp.to(EMAILS["presenter"])
    assert "/reset/y" in message.get_body(preferencelist=("plain",)).get_content()
