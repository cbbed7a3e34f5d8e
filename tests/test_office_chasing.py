"""Chasing papers from the browser: reminders shown before they are sent, each unit's
contacts on the overview, a ZIP of every current paper, the mail log's bodies and resending a
failed mail; and the confirmation before "Bỏ gia hạn" and "Tổng hợp bản chính thức"."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import MailLog, ReminderSent, User
from portal.services import attendance, papers, seminars, submissions

from .conftest import EMAILS, create_account, free_port, login, make_app, post_form
from .docmaker import pdf_bytes

BEFORE = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)  # 10/05/2021 10:00 Vietnam time


def _text(response) -> str:
    return response.get_data(as_text=True)


def _upload(app, position: int, name: str):
    with app.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.email == EMAILS["office"]))
        submissions.upload(papers.get_assignment(seminar, position), office,
                           io.BytesIO(pdf_bytes(1, marker=f"P{position}")), name)


def test_overview_shows_contacts_and_the_chasing_buttons(app, client_as):
    page = _text(client_as("office").get("/office"))
    assert 'href="/office/remind"' in page and "Gửi nhắc nhở" in page
    # Paper 2's unit: its presenter's name, position and email; a unit without accounts says so.
    assert "Trần Văn Trình Bày, Trưởng phòng" in page
    assert 'href="mailto:presenter@example.org"' in page
    assert "chưa có tài khoản" in page
    assert 'href="/office/papers.zip"' not in page  # nothing submitted yet


def test_reminders_are_shown_before_they_are_sent(app, client_as):
    office = client_as("office")
    with clock.frozen(BEFORE):
        _upload(app, 3, "Bài 3.pdf")
        preview = office.get("/office/remind")
        html = _text(preview)
        assert preview.status_code == 200
        # Paper 2 (its presenter) and paper 1 (the Office's own unit) are missing and have
        # people to mail; paper 3 is in; the four others have no account.
        assert "Gửi 2 thư nhắc cho 2 tham luận chưa nộp?" in html
        assert "Trần Văn Trình Bày &lt;presenter@example.org&gt;" in html
        assert 'data-position="3" data-send="0"' in html
        assert "không nhắc: đã nộp tham luận" in html
        assert "không nhắc: đơn vị chưa có tài khoản đang hoạt động" in html
        with app.app_context():
            assert db.session.scalar(select(func.count(MailLog.id)).where(
                MailLog.kind == "reminder")) == 0
        # A POST without "confirm" shows the same page and sends nothing.
        assert post_form(office, "/office/remind").status_code == 200
        sent = post_form(office, "/office/remind", {"confirm": "1"})
        assert sent.status_code == 302 and sent.headers["Location"].endswith("/office/mail")
        assert "Đã gửi 2 thư nhắc." in _text(office.get("/office/mail"))
        with app.app_context():
            reminders = list(db.session.scalars(
                select(MailLog).where(MailLog.kind == "reminder")))
            assert sorted(r.recipient for r in reminders) == [EMAILS["office"],
                                                              EMAILS["presenter"]]
            assert all("trước" in r.body or "hạn" in r.body for r in reminders)
            assert db.session.scalar(select(func.count(ReminderSent.id))) == 2
        # The same rules as ``flask remind``: never twice the same day.
        again = _text(office.get("/office/remind"))
        assert "Hiện không có nhắc nhở nào cần gửi" in again
        assert "không nhắc: hôm nay đã nhắc" in again


def test_papers_zip_holds_every_current_paper(app, client_as):
    _upload(app, 2, "Bản cũ.pdf")
    _upload(app, 2, "Tham luận số 2.pdf")
    _upload(app, 5, "Thanh tra.pdf")
    office = client_as("office")
    assert 'href="/office/papers.zip"' in _text(office.get("/office"))
    response = office.get("/office/papers.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = sorted(archive.namelist())
    assert len(names) == 2
    assert names[0].startswith("02 - ") and names[1].startswith("05 - ")
    assert archive.read(names[0]).startswith(b"%PDF")
    assert client_as("presenter").get("/office/papers.zip").status_code == 403


@pytest.fixture
def down_app(tmp_path, backend):
    """Mail to a port where nothing listens: every mail fails."""
    app = make_app(tmp_path, backend, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(),
                   MAIL_TIMEOUT=2)
    with app.app_context():
        create_account(EMAILS["office"], "Nguyễn Thị Văn Phòng", unit="Văn phòng Sở",
                       office=True)
        create_account(EMAILS["presenter"], "Trần Văn Trình Bày",
                       unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_mail_log_shows_bodies_and_resends_a_failed_mail(down_app, smtp):  # noqa: F811
    app = down_app
    _upload(app, 2, "Tham luận 2.pdf")  # the receipts fail: the server is down
    office = app.test_client()
    login(office, EMAILS["office"])
    log = _text(office.get("/office/mail"))
    assert "Xem nội dung thư" in log and "Gửi lại" in log
    assert "Tham luận 2.pdf" in log  # the body, on the page
    with app.app_context():
        failed = db.session.scalar(select(MailLog).where(
            MailLog.recipient == EMAILS["presenter"], MailLog.status == "failed"))
        assert failed is not None and failed.body
        failed_id, subject = failed.id, failed.subject
    # The server works again: "Gửi lại" sends the same mail.
    app.config["MAIL_PORT"] = smtp.port
    url = f"/office/mail/{failed_id}/resend"
    answer = post_form(office, url, page_url="/office/mail")
    assert answer.status_code == 302
    messages = smtp.to(EMAILS["presenter"])
    assert len(messages) == 1 and messages[0]["Subject"] == subject
    assert "Tham luận 2.pdf" in messages[0].get_body(preferencelist=("plain",)).get_content()
    assert f"Đã gửi lại thư cho {EMAILS['presenter']}." in _text(office.get("/office/mail"))
    with app.app_context():
        rows = list(db.session.scalars(select(MailLog).where(
            MailLog.recipient == EMAILS["presenter"]).order_by(MailLog.id)))
        # The same row of the outbox, sent on its second attempt.
        assert [(r.id, r.status, r.attempts) for r in rows] == [(failed_id, "sent", 2)]
        sent_id = rows[-1].id
    # A mail that was sent is not sent twice.
    twice = post_form(office, f"/office/mail/{sent_id}/resend", page_url="/office/mail")
    assert twice.status_code == 302 and len(smtp.to(EMAILS["presenter"])) == 1
    assert post_form(office, "/office/mail/99999/resend",
                     page_url="/office/mail").status_code == 404


# -- confirmations --------------------------------------------------------------------------


def test_removing_an_extension_asks_first(app, client_as):
    office = client_as("office")
    with clock.frozen(BEFORE):
        extended = post_form(office, "/office/papers/2/extend",
                             {"ext-deadline": "16/05/2021 00:00", "ext-reason": "Ốm"},
                             page_url="/office/papers/2")
        assert extended.status_code == 302
        page = _text(office.get("/office/papers/2"))
        assert 'id="clear-extension"' in page and "data-confirm=" in page
        asked = office.get("/office/papers/2/extend/clear")
        assert asked.status_code == 200
        assert ("Bỏ gia hạn của tham luận 2 (Phòng Quản lý Công nghệ, Thị trường công nghệ và "
                "Chuyên ngành)? Hạn nộp trở lại từ 16/05/2021 00:00 về hạn chung của tọa đàm, "
                "15/05/2021 00:00") in _text(asked)
        assert post_form(office, "/office/papers/2/extend/clear",
                         page_url="/office/papers/2").status_code == 200
        with app.app_context():
            assignment = papers.get_assignment(seminars.current_seminar(), 2)
            assert assignment.deadline_extension is not None
        done = post_form(office, "/office/papers/2/extend/clear", {"confirm": "1"},
                         page_url="/office/papers/2")
        assert done.status_code == 302
        with app.app_context():
            assignment = papers.get_assignment(seminars.current_seminar(), 2)
            assert assignment.deadline_extension is None


def test_final_booklet_asks_first_with_the_number_of_mails(app, client_as, people):
    for position in range(1, 8):
        _upload(app, position, f"Tham luận {position}.pdf")
    with app.app_context():
        seminar = seminars.current_seminar()
        for key in ("presenter", "member"):
            attendance.register(seminar, db.session.get(User, people[key]))
    office = client_as("office")
    page = _text(office.get("/office/booklet"))
    assert "2 đại biểu đã xác nhận sẽ nhận thư" in page  # in the form's data-confirm
    asked = post_form(office, "/office/booklet/build", {"kind": "final"},
                      page_url="/office/booklet")
    assert asked.status_code == 200
    html = _text(asked)
    assert "Tổng hợp bản chính thức? Bản này thay bản đã công bố, và 2 đại biểu" in html
    assert 'name="kind" value="final"' in html and 'name="confirm" value="1"' in html
    with app.app_context():
        from portal.models import Booklet

        assert db.session.scalar(select(func.count(Booklet.id))) == 0
