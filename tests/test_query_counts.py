"""The busiest pages run a fixed number of SQL statements whatever the amount of data.

Each page is loaded on a small installation (seven papers of one revision each, a handful of
people) and on a larger one (seven papers with several revisions each, by different people,
and forty people on the list). The statements are counted with SQLAlchemy's
``before_cursor_execute`` event; a count that grows with the data is an N+1 query.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.services import attendance, papers, seminars, submissions

from .conftest import EMAILS, create_account, login
from .docmaker import pdf_bytes

BEFORE = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)

PAGES = {
    "attendee": ["/materials", "/materials/2/download", "/materials/5/download",
                 "/materials/all.zip"],
    "presenter": ["/papers", "/papers/2"],
    "office": ["/office", "/materials", "/materials/3/download"],
}


def _populate(app, *, people: int, revisions: int) -> None:
    """``people`` extra confirmed attendees; every paper uploaded ``revisions`` times, the
    uploads shared between the Office and (for paper 2) its presenter."""
    with app.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, people + 5)
        office = db.session.scalar(select(User).where(User.email == EMAILS["office"]))
        presenter = db.session.scalar(select(User).where(User.email == EMAILS["presenter"]))
        attendance.register(seminar, presenter)
        # Several Office accounts share the uploads, so that a revision's uploader loaded
        # one by one shows as a growing count.
        uploaders = [office] + [
            create_account(f"vanphong{index}@example.org", f"Văn Phòng {index}",
                           unit="Văn phòng Sở", office=True)
            for index in range(1, revisions)]
        for index in range(people):
            user = create_account(f"nguoi{index:02d}@example.org", f"Người Tham Dự {index:02d}",
                                  position="Chuyên viên")
            attendance.register(seminar, user)
        for position in range(1, 8):
            assignment = papers.get_assignment(seminar, position)
            for number in range(revisions):
                uploader = (presenter if position == 2 and number % 2 == 0
                            else uploaders[number % len(uploaders)])
                data = pdf_bytes(1, marker=f"P{position}-R{number}")
                submissions.upload(assignment, uploader, io.BytesIO(data),
                                   f"Bài {position} – bản {number + 1}.pdf")


@contextmanager
def counting(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _counts(app) -> dict[str, int]:
    found: dict[str, int] = {}
    for kind, urls in PAGES.items():
        client = app.test_client()
        email = "nguoi00@example.org" if kind == "attendee" else EMAILS[kind]
        assert login(client, email).status_code == 302
        for url in urls:
            client.get(url)  # warm: the first request of a client loads its session once
            with counting(app) as statements:
                response = client.get(url)
            assert response.status_code == 200, (kind, url, response.status_code)
            response.close()
            found[f"{kind} {url}"] = len(statements)
    return found


@pytest.fixture
def small(app, people):
    _populate(app, people=5, revisions=1)
    return app


def test_statement_counts_do_not_grow_with_papers_and_people(tmp_path, backend, small):
    from .conftest import make_app

    few = _counts(small)
    with small.app_context():
        db.session.remove()
        db.engine.dispose()

    big = make_app(tmp_path / "big", backend)
    with big.app_context():
        for kind, email in EMAILS.items():
            create_account(email, kind, unit={
                "office": "Văn phòng Sở",
                "presenter": "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành",
                "other_presenter": "Phòng Kế hoạch - Tài chính"}.get(kind), office=kind == "office")
    _populate(big, people=40, revisions=4)
    many = _counts(big)
    with big.app_context():
        db.session.remove()
        db.engine.dispose()

    print("statements per page (small, large):",
          {page: (few[page], many[page]) for page in few})
    assert few.keys() == many.keys()
    grown = {page: (few[page], many[page]) for page in few if many[page] != few[page]}
    assert not grown, f"statements per page grow with the data (small, large): {grown}"
    # And the number itself stays small: the login (with its session check), the seminar, the
    # page's own rows (the Office's overview also lists each unit's contacts, the paper page
    # its printed preview; the ZIP its current revisions and the booklet).
    ceilings = {"/materials": 10, "/papers": 9, "/papers/2": 10, "/office": 10,
                "/materials/all.zip": 6}
    over = {page: count for page, count in many.items()
            if count > ceilings.get(page.split()[1], 5)}
    assert not over, f"more statements than the page's budget: {over}"
