"""The content version: a new token with every change the attendee pages show (so the kept
content of /materials is never stale), the same token otherwise (so it is kept)."""

from __future__ import annotations

import html

from portal import content_version
from portal.extensions import db
from portal.services import accounts, attendance, seminars

from .conftest import EMAILS, add_papers, client_for


def _token(app) -> str:
    with app.app_context():
        return content_version.current()


def _materials(client) -> str:
    response = client.get("/materials")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_every_change_the_pages_show_gives_a_new_token(app, people):
    first = _token(app)
    assert len(first) == 32
    add_papers(app, [2])
    uploaded = _token(app)
    assert uploaded != first

    office = client_for(app, EMAILS["office"])
    assert "Trần Văn Trình Bày" in _materials(office)  # paper 2's presenter
    with app.app_context():
        accounts.find_by_email(EMAILS["presenter"]).full_name = "Trần Văn Đổi Tên"
        db.session.commit()
    renamed = _token(app)
    assert renamed != uploaded
    page = _materials(office)
    assert "Trần Văn Đổi Tên" in page and "Trần Văn Trình Bày" not in page

    with app.app_context():
        seminar = seminars.current_seminar()
        seminar.opening_title = "Khai mạc (dời 10 phút)"
        db.session.commit()
    assert _token(app) != renamed
    assert "Khai mạc (dời 10 phút)" in _materials(office)


def test_writes_the_pages_do_not_show_and_rollbacks_keep_the_token(app, people):
    first = _token(app)
    with app.app_context():
        seminar = seminars.current_seminar()
        member = accounts.find_by_email(EMAILS["member"])
        attendance.register(seminar, member)  # the attendee list is not the shared content
        accounts.set_locale(member, "en")  # nor a person's language, nor their sessions
        accounts.end_sessions(accounts.find_by_email(EMAILS["presenter"]))
    assert _token(app) == first

    with app.app_context():
        seminar = seminars.current_seminar()
        seminar.venue = "Một phòng chưa chốt"
        db.session.flush()
        db.session.rollback()
    assert _token(app) == first
    assert "Một phòng chưa chốt" not in _materials(client_for(app, EMAILS["office"]))
