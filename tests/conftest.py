"""Fixtures: a real database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), the
seminar of the plan loaded, accounts of every kind, and clients that log in through the real
form with its CSRF token."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from config import TestingConfig, normalise_database_url
from portal import clock, create_app
from portal.extensions import db
from portal.services import accounts, seminars

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PG_URL = normalise_database_url(os.environ.get("TEST_DATABASE_URL"))

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


@pytest.fixture
def client_as(app, people):
    """``client_as("office")`` → a test client logged in as that kind of user (or anonymous)."""

    def make(kind: str | None):
        client = app.test_client()
        if kind:
            response = login(client, EMAILS[kind])
            assert response.status_code == 302, response.data[:500]
        return client

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On CI (PORTAL_REQUIRE_ALL=1) a test that skips for a missing tool fails instead."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("PORTAL_REQUIRE_ALL") and report.skipped and not hasattr(report,
                                                                              "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where CI must run everything: {report.longrepr}"
