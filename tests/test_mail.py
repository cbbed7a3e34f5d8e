"""Mail against a real SMTP server on loopback (aiosmtpd): the upload receipt, the
reminders of ``flask remind``, the promotion note, the booklet note, English for those who
chose it, and a mail server that is down."""

from __future__ import annotations

import hashlib
import html
import io
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import MailLog, ReminderSent, User
from portal.services import attendance, deadline_extensions, papers, seminars, submissions
from portal.services.booklet import build as booklet_service

from .conftest import (
    BLOCKED,
    EMAILS,
    create_account,
    csrf_from,
    free_port,
    login,
    make_app,
    upload,
    wait_until,
)
from .docmaker import docx_bytes, pdf_bytes

DEADLINE = datetime(2021, 5, 14, 17, 0, tzinfo=UTC)  # 15/05/2021 00:00 Vietnam time
BEFORE = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)  # 10/05/2021 10:00 Vietnam time
BASE_URL = "https://toadam.example.gov.vn/cong"

# One active person for each unit that has no one in the ``people`` fixture.
UNIT_PEOPLE = {
    "Phòng Quản lý Khoa học": ("qlkh@example.org", "Hồ Văn Khoa Học"),
    "Thanh tra Sở": ("thanhtra@example.org", "Bùi Thị Thanh Tra"),
    "Chi cục Tiêu chuẩn Đo lường Chất lượng": ("chicuc@example.org", "Đỗ Văn Đo Lường"),
    "Trung tâm Ứng dụng và Dịch vụ khoa học công nghệ": ("trungtam@example.org",
                                                         "Lý Thị Ứng Dụng"),
}


@pytest.fixture
def app(tmp_path, backend, smtp):
    app = make_app(tmp_path, backend, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                   MAIL_DEFAULT_SENDER="Cổng tọa đàm <toadam@example.gov.vn>",
                   PORTAL_BASE_URL=BASE_URL, MAIL_TIMEOUT=5)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def body(message, kind: str = "plain") -> str:
    return message.get_body(preferencelist=(kind,)).get_content()


def check_structure(message) -> None:
    body_part = message
    if message.get_content_type() == "multipart/mixed":  # with attachments (check-in code)
        body_part = next(message.iter_parts())
    assert body_part.get_content_type() == "multipart/alternative"
    parts = list(body_part.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert message["From"].addresses[0].addr_spec == "toadam@example.gov.vn"
    assert message["Message-ID"] and message["Date"]


def mail_rows(app) -> list[MailLog]:
    with app.app_context():
        rows = list(db.session.scalars(select(MailLog).order_by(MailLog.id)))
        db.session.expunge_all()
        return rows


def settle(app, timeout: float = 30.0) -> list[MailLog]:
    """Wait until nothing in the outbox is waiting or being sent (a request hands its mail to
    a thread of its own); the rows of the mail log."""
    rows: list[MailLog] = []

    def settled() -> bool:
        rows[:] = mail_rows(app)
        return all(row.status in ("sent", "failed") for row in rows)

    wait_until(settled, timeout=timeout,
               message=lambda: str([(row.id, row.status) for row in rows]))
    return rows


def remind(app, *args):
    return app.test_cli_runner().invoke(args=["remind", *args])


# -- the receipt -------------------------------------------------------------------------------


def test_receipt_reaches_the_presenter_with_the_sha256(app, people, smtp):
    client = app.test_client()
    login(client, EMAILS["presenter"])
    data = docx_bytes(["Nội dung tham luận."] * 4, heading="Tham luận số 2")
    name = "Tham luận đẩy mạnh dịch vụ công.docx"
    with clock.frozen(BEFORE):
        response = upload(client, 2, data, name)
    assert response.status_code == 302
    digest = hashlib.sha256(data).hexdigest()

    settle(app)
    messages = smtp.to(EMAILS["presenter"])
    assert len(messages) == 1 and len(smtp.messages) == 1
    message = messages[0]
    check_structure(message)
    assert message["Subject"] == f"Đã nhận bài số 2 (Tham luận): {name}"
    raw = smtp.messages[0][1]
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()  # headers encoded for any server
    assert "Trần Văn Trình Bày" in str(message["To"])
    assert message["Content-Language"] == "vi"
    text = body(message)
    assert digest in text
    assert name in text
    assert f"{len(data)} byte" in text
    assert "10/05/2021 10:00:00 (giờ Việt Nam)" in text
    assert "Giải pháp duy trì và đẩy mạnh việc nộp hồ sơ TTHC" in text
    assert f"{BASE_URL}/papers/2" in text
    page = html.unescape(body(message, "html"))
    assert digest in page and name in page and f'href="{BASE_URL}/papers/2"' in page

    rows = mail_rows(app)
    assert [(r.kind, r.recipient, r.status, r.transport) for r in rows] == [
        ("receipt", EMAILS["presenter"], "sent", "smtp")]


def test_office_upload_on_behalf_tells_the_unit(app, people, smtp):
    with app.app_context():
        create_account("second@example.org", "Phan Thị Thứ Hai",
                       unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
        gone = create_account("gone@example.org", "Người Đã Nghỉ",
                              unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
        gone.active = False
        db.session.commit()
    client = app.test_client()
    login(client, EMAILS["office"])
    with clock.frozen(BEFORE):
        response = upload(client, 2, pdf_bytes(2), "Bài số 2.pdf", url="/office/papers/2")
    assert response.status_code == 302
    settle(app)
    recipients = sorted(address for rcpts, _ in smtp.messages for address in rcpts)
    assert recipients == sorted([EMAILS["office"], EMAILS["presenter"], "second@example.org"])
    text = body(smtp.to(EMAILS["presenter"])[0])
    assert "Nguyễn Thị Văn Phòng (Văn phòng Sở), thay cho đơn vị" in text


def test_no_receipt_for_an_identical_file(app, people, smtp):
    client = app.test_client()
    login(client, EMAILS["presenter"])
    data = pdf_bytes(1)
    with clock.frozen(BEFORE):
        upload(client, 2, data, "a.pdf")
        upload(client, 2, data, "a.pdf")
    assert len(settle(app)) == 1
    assert len(smtp.messages) == 1


# -- English for those who chose it -----------------------------------------------------------


def test_english_mail_for_a_user_who_chose_english(app, people, smtp):
    with app.app_context():
        user = db.session.get(User, people["presenter"])
        user.locale = "en"
        db.session.commit()
    client = app.test_client()
    login(client, EMAILS["presenter"])
    data = pdf_bytes(3)
    with clock.frozen(BEFORE):
        assert upload(client, 2, data, "Tham luận.pdf").status_code == 302
    settle(app)
    message = smtp.to(EMAILS["presenter"])[0]
    check_structure(message)
    assert message["Subject"] == "Received: paper 2 (Contributed paper), Tham luận.pdf"
    assert message["Content-Language"] == "en"
    text = body(message)
    assert text.startswith("Dear Trần Văn Trình Bày,")
    assert "Received at:  10/05/2021 10:00:00 (Vietnam time)" in text
    assert hashlib.sha256(data).hexdigest() in text
    assert "Kính gửi" not in text and "giờ Việt Nam" not in text
    assert "Dear" in body(message, "html")


# -- reminders ----------------------------------------------------------------------------------


def _everyone_in_a_unit(app):
    with app.app_context():
        for unit, (email, name) in UNIT_PEOPLE.items():
            create_account(email, name, unit=unit)
        # A second member of Thanh tra Sở, and one who left (never mailed).
        create_account("thanhtra2@example.org", "Mai Văn Hai", unit="Thanh tra Sở")
        gone = create_account("left@example.org", "Người Đã Nghỉ", unit="Thanh tra Sở")
        gone.active = False
        db.session.commit()


def _units_mailed(smtp) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rcpts, message in smtp.parsed():
        text = body(message)
        number = message["Subject"].split("số ", 1)[1].split(":", 1)[0]
        found.setdefault(number, []).extend(rcpts)
        assert "Nhắc nộp bài" in message["Subject"]
        assert "trước 00:00 ngày 15/05/2021" in message["Subject"]
        assert f"{BASE_URL}/papers/{number}" in text
    return {k: sorted(v) for k, v in found.items()}


def test_remind_mails_exactly_the_units_whose_paper_is_missing(app, people, smtp):
    _everyone_in_a_unit(app)
    with app.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        presenter = db.session.get(User, people["presenter"])
        submissions.upload(papers.get_assignment(seminar, 2), presenter,
                           io.BytesIO(pdf_bytes(1)), "Bài 2.pdf")
    smtp.clear()

    with clock.frozen(BEFORE):
        result = remind(app)
    assert result.exit_code == 0, result.output
    assert _units_mailed(smtp) == {
        "1": [EMAILS["office"]],
        "3": [EMAILS["other_presenter"]],
        "4": ["qlkh@example.org"],
        "5": ["thanhtra2@example.org", "thanhtra@example.org"],
        "6": ["chicuc@example.org"],
        "7": ["trungtam@example.org"],
    }
    assert "skipped  paper 2" in result.output and "submitted" in result.output
    assert "6 reminder(s) sent." in result.output
    message = smtp.to("thanhtra@example.org")[0]
    check_structure(message)
    assert "còn 4 ngày 14 giờ" in body(message)

    # The same day again: nothing new.
    smtp.clear()
    with clock.frozen(BEFORE + timedelta(hours=10)):  # 20:00 the same day in Vietnam
        again = remind(app)
    assert again.exit_code == 0, again.output
    assert smtp.messages == []
    assert again.output.count("reminded already today") == 6
    assert "0 reminder(s) sent." in again.output

    # The next Vietnam day (00:30 on 11/05, still 10/05 in UTC): once more.
    with clock.frozen(datetime(2021, 5, 10, 17, 30, tzinfo=UTC)):
        third = remind(app)
    assert "6 reminder(s) sent." in third.output
    assert len(smtp.messages) == 7  # one mail per person: Thanh tra Sở has two
    with app.app_context():
        assert db.session.scalar(select(db.func.count(ReminderSent.id))) == 12


def test_remind_days_window_and_a_new_deadline(app, people, smtp):
    _everyone_in_a_unit(app)
    with clock.frozen(BEFORE):  # 4 days 14 hours before the deadline
        result = remind(app, "--days", "3")
    assert result.exit_code == 0, result.output
    assert smtp.messages == []
    assert result.output.count("deadline further away") == 7

    with clock.frozen(datetime(2021, 5, 12, 1, 0, tzinfo=UTC)):  # 12/05 08:00, 2 days 16 h
        result = remind(app, "--days", "3")
    assert "7 reminder(s) sent." in result.output
    smtp.clear()

    # An extension is a new deadline: its unit is reminded again the same day.
    with app.app_context(), clock.frozen(datetime(2021, 5, 12, 2, 0, tzinfo=UTC)):
        seminar = seminars.current_seminar()
        office = db.session.get(User, people["office"])
        deadline_extensions.grant_extension(papers.get_assignment(seminar, 6),
                                            "16/05/2021 17:00",
                                            "Chờ ý kiến lãnh đạo đơn vị", office)
        result = remind(app, "--days", "5")
    assert "1 reminder(s) sent." in result.output
    assert [rcpts for rcpts, _ in smtp.messages] == [["chicuc@example.org"]]
    text = body(smtp.parsed()[0][1])
    assert "trước 17:00 ngày 16/05/2021" in text and "Chờ ý kiến lãnh đạo đơn vị" in text

    # After the deadline nobody is reminded.
    smtp.clear()
    with clock.frozen(DEADLINE + timedelta(hours=1)):
        result = remind(app)
    assert sum("deadline passed" in line for line in result.output.splitlines()) == 6
    assert [rcpts for rcpts, _ in smtp.messages] == [["chicuc@example.org"]]  # extended


def test_remind_failure_stays_in_the_outbox_for_flask_mail_send(app, people, smtp):
    _everyone_in_a_unit(app)
    app.config["MAIL_PORT"] = closed_port()
    with clock.frozen(BEFORE):
        result = remind(app)
    assert result.exit_code == 1
    assert "FAILED" in result.output and "flask mail send" in result.output
    rows = mail_rows(app)
    assert len(rows) == 8 and {(r.kind, r.status) for r in rows} == {("reminder", "failed")}
    with app.app_context():  # seven papers; Thanh tra Sở has two people
        assert db.session.scalar(select(db.func.count(ReminderSent.id))) == 7
    # The reminders are recorded with their mail: another run the same day adds none.
    app.config["MAIL_PORT"] = smtp.port
    with clock.frozen(BEFORE + timedelta(hours=1)):
        again = remind(app)
    assert again.exit_code == 0 and "0 reminder(s) sent." in again.output
    assert smtp.messages == []
    # The outbox delivers them, once.
    with clock.frozen(BEFORE + timedelta(hours=1)):
        sent = app.test_cli_runner().invoke(args=["mail", "send"])
    assert sent.exit_code == 0, sent.output
    assert "8 mail(s) sent, 0 failed." in sent.output
    assert sorted(a for rcpts, _ in smtp.messages for a in rcpts) == sorted(r.recipient
                                                                              for r in rows)
    assert {r.status for r in mail_rows(app)} == {"sent"}
    nothing = app.test_cli_runner().invoke(args=["mail", "send"])
    assert "0 mail(s) sent, 0 failed." in nothing.output and len(smtp.messages) == 8


# -- promotion and the booklet -------------------------------------------------------------------


def test_promotion_mail(app, people, smtp):
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 1)
        first = create_account("first@example.org", "Nguyễn Văn Đầu")
        second = create_account("second@example.org", "Trần Thị Sau")
        attendance.register(seminar, first)
        attendance.register(seminar, second)
    assert smtp.messages == []
    client = app.test_client()
    login(client, "first@example.org")
    token = csrf_from(client.get("/register").data)
    assert client.post("/register/cancel",
                       data={"csrf_token": token, "confirm": "1"}).status_code == 302
    settle(app)
    messages = smtp.to("second@example.org")
    assert len(smtp.messages) == 1 and len(messages) == 1
    message = messages[0]
    check_structure(message)
    assert message["Subject"] == "Ông/Bà đã được xác nhận tham dự buổi tọa đàm ngày 17/05/2021"
    text = body(message)
    assert "Kính gửi Ông/Bà Trần Thị Sau," in text
    assert "08:00–11:30 ngày 17/05/2021 (giờ Việt Nam)" in text
    assert f"{BASE_URL}/materials" in text and f"{BASE_URL}/register" in text
    (code,) = message.iter_attachments()  # the check-in QR code
    assert code.get_filename() == "ma-diem-danh.png"
    assert code.get_content().startswith(b"\x89PNG")


def test_booklet_mail_goes_to_the_confirmed_attendees(app, people, smtp):
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 3)
        people_on_list = [
            create_account("a1@example.org", "Nguyễn Văn Một"),
            create_account(BLOCKED, "Trần Văn Bị Chặn"),
            create_account("a3@example.org", "Lê Thị Ba"),
            create_account("w1@example.org", "Phạm Văn Chờ"),
        ]
        english = people_on_list[2]
        english.locale = "en"
        db.session.commit()
        for person in people_on_list:
            attendance.register(seminar, person)
        office = db.session.get(User, people["office"])
        with clock.frozen(BEFORE):
            for position in range(1, 8):
                submissions.upload(papers.get_assignment(seminar, position), office,
                                   io.BytesIO(pdf_bytes(1, marker=f"P{position}")),
                                   f"Bài {position}.pdf")
    smtp.clear()
    with app.app_context():
        booklet_service.build(seminars.current_seminar(), None, draft=True)
    assert smtp.messages == []  # a draft is not announced
    with app.app_context():
        booklet = booklet_service.build(seminars.current_seminar(), None, draft=False)
        pages = booklet.pages
    recipients = sorted(address for rcpts, _ in smtp.messages for address in rcpts)
    assert recipients == ["a1@example.org", "a3@example.org"]  # BLOCKED refused by the server
    message = smtp.to("a1@example.org")[0]
    check_structure(message)
    assert message["Subject"] == f"Đã phát hành tài liệu phục vụ buổi tọa đàm ({pages} trang)"
    assert f"{BASE_URL}/materials/booklet.pdf" in body(message)
    assert f'href="{BASE_URL}/materials/booklet.pdf"' in body(message, "html")
    assert smtp.to("a3@example.org")[0]["Subject"] == \
        f"The seminar booklet is published ({pages} pages)"
    rows = [r for r in mail_rows(app) if r.kind == "booklet"]
    assert {(r.recipient, r.status) for r in rows} == {
        ("a1@example.org", "sent"), (BLOCKED, "failed"), ("a3@example.org", "sent")}
    assert "550" in next(r.error for r in rows if r.status == "failed")


# -- a mail server that is down ------------------------------------------------------------------


def closed_port() -> int:
    port = free_port()  # bound and closed again: nothing listens there
    return port


def test_a_mail_server_that_is_down_never_fails_the_upload(app, people, smtp):
    app.config["MAIL_PORT"] = closed_port()
    client = app.test_client()
    login(client, EMAILS["presenter"])
    with clock.frozen(BEFORE):
        response = upload(client, 2, pdf_bytes(2), "Tham luận số 2.pdf")
    assert response.status_code == 302
    with app.app_context():
        assignment = papers.get_assignment(seminars.current_seminar(), 2)
        assert assignment.current_submission is not None
    rows = settle(app)
    assert [(r.kind, r.recipient, r.status) for r in rows] == [
        ("receipt", EMAILS["presenter"], "failed")]
    assert "Connection refused" in rows[0].error or "ConnectionRefused" in rows[0].error

    # Registration and promotion go on as well.
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 1)
        create_account("w@example.org", "Người Chờ")
    member = app.test_client()
    login(member, EMAILS["member"])
    token = csrf_from(member.get("/register").data)
    assert member.post("/register", data={"csrf_token": token}).status_code == 302
    waiting = app.test_client()
    login(waiting, "w@example.org")
    token = csrf_from(waiting.get("/register").data)
    assert waiting.post("/register", data={"csrf_token": token}).status_code == 302
    token = csrf_from(member.get("/register").data)
    assert member.post("/register/cancel",
                       data={"csrf_token": token, "confirm": "1"}).status_code == 302
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == "w@example.org"))
        assert person.is_attendee_of(seminars.current_seminar())

    settle(app)
    office = app.test_client()
    login(office, EMAILS["office"])
    page = office.get("/office/mail")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert 'id="mail-failures"' in text
    assert f'class="mail-failed" data-status="failed" data-kind="receipt" ' \
           f'data-to="{EMAILS["presenter"]}"' in text
    assert 'data-kind="promoted" data-to="w@example.org"' in text
    assert "Connection refused" in text or "ConnectionRefused" in text
    assert smtp.messages == []


def test_the_mail_page_is_for_the_office_only(app, people):
    for kind in ("presenter", "member"):
        client = app.test_client()
        login(client, EMAILS[kind])
        assert client.get("/office/mail").status_code == 403
    assert app.test_client().get("/office/mail").status_code == 302
    office = app.test_client()
    login(office, EMAILS["office"])
    assert 'href="/office/mail"' in office.get("/office").get_data(as_text=True)


def test_without_a_server_mail_goes_to_the_log(tmp_path, people_free_app, caplog):
    app = people_free_app
    caplog.set_level(logging.INFO, logger="portal.mail")
    with app.app_context():
        presenter = create_account("p@example.org", "Trần Văn Trình Bày",
                                   unit="Phòng Kế hoạch - Tài chính")
        with clock.frozen(BEFORE):
            result = submissions.upload(
                papers.get_assignment(seminars.current_seminar(), 3), presenter,
                io.BytesIO(pdf_bytes(1)), "Bài 3.pdf")
        digest = result.submission.sha256
    records = [r for r in caplog.records if r.name == "portal.mail"]
    assert records and "p@example.org" in records[0].getMessage()
    assert digest in records[0].getMessage()
    rows = mail_rows(app)
    assert [(r.status, r.transport) for r in rows] == [("sent", "log")]


@pytest.fixture
def people_free_app(tmp_path, backend):
    app = make_app(tmp_path, backend)  # no MAIL_SERVER
    assert not app.config.get("MAIL_SERVER")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
