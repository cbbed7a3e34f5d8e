"""Fixtures: a real database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), the
seminar of the plan loaded, accounts of every kind, and clients that log in through the real
form with its CSRF token."""

from __future__ import annotations

import io
import os
import re
import socket
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select, text

from config import TestingConfig, normalise_database_url
from portal import clock, create_app
from portal.extensions import db
from portal.models import User
from portal.services import accounts, papers, seminars, submissions

from .docmaker import A4, LETTER, docx_bytes, pdf_bytes

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PG_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL"))

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 10.0,
               message: str | Callable[[], str] = "the condition did not come true",
               interval: float = 0.05) -> T:
    """Call ``predicate`` until it returns a true value and return that value; fail the test
    with ``message`` (a string, or a function giving one) once ``timeout`` seconds have passed.

    The tests wait on conditions with a deadline, never for a fixed time: on a quiet machine
    they go on at once, on a busy one they wait as long as the deadline allows."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(message() if callable(message) else message)
        time.sleep(interval)


DB_BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL,
            reason="PostgreSQL tests need TEST_DATABASE_URL (make test starts the local server "
            "and sets it)",
        ),
    ),
]

PASSWORD = "correct-horse-42"


def _reset_schema() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
    db.create_all()


def make_app(tmp_path: Path, backend: str = "sqlite", **overrides):
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
    }
    settings.update(overrides)
    app = create_app(TestingConfig, **settings)
    with app.app_context():
        _reset_schema()
        seminars.load_plan()
    return app


@pytest.fixture(autouse=True)
def _release_clock():
    yield
    clock.set_now(None)


@pytest.fixture(params=DB_BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(tmp_path, backend):
    app = make_app(tmp_path, backend)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


def create_account(email: str, name: str = "Người Dùng", unit: str | None = None,
                   office: bool = False, position: str = "", password: str = PASSWORD):
    user, _ = accounts.create_user(accounts.NewUser(
        email=email, name=name, password=password, unit=unit, office=office, position=position))
    return user


@pytest.fixture
def people(app):
    """One account of each kind: the Office, a presenter (unit of paper 2), another presenter
    (unit of paper 3), and a member with no unit."""
    with app.app_context():
        ids = {
            "office": create_account("office@example.org", "Nguyễn Thị Văn Phòng",
                                     unit="Văn phòng Sở", office=True,
                                     position="Chánh Văn phòng").id,
            "presenter": create_account(
                "presenter@example.org", "Trần Văn Trình Bày",
                unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành",
                position="Trưởng phòng").id,
            "other_presenter": create_account("other@example.org", "Lê Thị Khác",
                                              unit="Phòng Kế hoạch - Tài chính").id,
            "member": create_account("member@example.org", "Phạm Thành Viên",
                                     position="Phó Giám đốc Sở").id,
        }
    return ids


EMAILS = {
    "office": "office@example.org",
    "presenter": "presenter@example.org",
    "other_presenter": "other@example.org",
    "member": "member@example.org",
}

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str | bytes) -> str:
    if isinstance(html, bytes):
        html = html.decode("utf-8")
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    page = client.get("/login")
    token = csrf_from(page.data)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def post_form(client, url: str, data: dict | None = None, page_url: str | None = None, **kw):
    """POST a form the way a browser does: load the page first for its CSRF token."""
    page = client.get(page_url or url)
    payload = {"csrf_token": csrf_from(page.data)}
    payload.update(data or {})
    return client.post(url, data=payload, **kw)


def client_for(app, email: str | None, password: str = PASSWORD):
    """A test client logged in through the real form as ``email`` (anonymous for None)."""
    client = app.test_client()
    if email:
        response = login(client, email, password)
        assert response.status_code == 302, (email, response.data[:500])
    return client


@pytest.fixture
def client_as(app, people):
    """``client_as("office")`` → a test client logged in as that kind of user (or anonymous)."""

    def make(kind: str | None):
        return client_for(app, EMAILS[kind] if kind else None)

    return make


def upload(client, position: int, data: bytes, filename: str, url: str | None = None):
    """Upload a paper through the real form (its page first, for the CSRF token)."""
    url = url or f"/papers/{position}"
    token = csrf_from(client.get(url).data)
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


PAPERS_UPLOADED_AT = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)  # 10/05/2021 10:00 Vietnam time


def add_papers(app, positions: Iterable[int], pages: int = 2) -> None:
    """Upload a paper for each position through the service, as the Office: a PDF for odd
    positions (paper 3 on Letter paper), a Word document for even ones, each marked
    ``MARKER-<position>``."""
    with app.app_context(), clock.frozen(PAPERS_UPLOADED_AT):
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.is_office.is_(True)))
        for position in positions:
            assignment = papers.get_assignment(seminar, position)
            if position % 2:
                data = pdf_bytes(pages + position % 3, size=LETTER if position == 3 else A4,
                                 marker=f"MARKER-{position}")
                name = f"Tham luận {position}.pdf"
            else:
                data = docx_bytes([f"MARKER-{position} Nội dung tham luận số {position}."] * 3,
                                  heading=f"Tham luận số {position}")
                name = f"Tham luận {position}.docx"
            submissions.upload(assignment, office, io.BytesIO(data), name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On CI (PORTAL_REQUIRE_ALL=1) a test that skips for a missing tool fails instead."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("PORTAL_REQUIRE_ALL") and report.skipped and not hasattr(report,
                                                                              "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where CI must run everything: {report.longrepr}"


def build_finished(client, timeout: float = 60.0) -> dict:
    """Wait until the booklet build the Office started is no longer running; its progress
    (``state`` done or failed, with the message and reason)."""
    state: dict = {}

    def finished() -> bool:
        state.clear()
        state.update(client.get("/office/booklet/progress").json)
        return state["state"] != "running"

    wait_until(finished, timeout=timeout, message=lambda: f"still building: {state}")
    return dict(state)


# -- a real mail server on loopback --------------------------------------------------------

BLOCKED = "blocked@example.org"  # the address the server refuses


class Collector:
    """An aiosmtpd handler that keeps every message; refuses one address."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == BLOCKED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content
                              or envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self):
        return [(to, message_from_bytes(raw, policy=policy.default))
                for to, raw in self.messages]

    def to(self, address: str):
        return [message for rcpts, message in self.parsed() if address in rcpts]

    def clear(self):
        self.messages.clear()

    def wait(self, count: int, timeout: float = 30.0) -> list:
        """Wait until ``count`` messages arrived (mail leaves after the request)."""
        wait_until(lambda: len(self.messages) >= count, timeout=timeout,
                   message=lambda: f"{len(self.messages)} of {count} messages")
        return self.parsed()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    """A working mail server on loopback (aiosmtpd) that keeps what it receives."""
    from aiosmtpd.controller import Controller

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()
