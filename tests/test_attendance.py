"""The attendee list: the cap, the waiting list and promotion as services; the
/register page; the Office's pages and exports; the command line."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import socket
import unicodedata

import pytest
from flask import current_app
from flask_babel import force_locale, gettext
from pypdf import PdfReader
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from portal.extensions import db
from portal.models import AuditEvent, MailLog, Registration, RegistrationStatus, User
from portal.services import attendance, attendance_export, seminars, weasy
from portal.services.errors import (
    AlreadyRegistered,
    InvalidInput,
    NotFound,
    RegistrationClosed,
    SeminarFull,
)
from portal.settings import FONT_DIR

from .conftest import EMAILS, create_account, csrf_from, post_form

CONFIRMED = RegistrationStatus.CONFIRMED
WAITLISTED = RegistrationStatus.WAITLISTED

NAMES = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường", "Phạm Thị Dung", "Võ Đức Ê",
         "Đặng Thị Giang"]


def _people(n: int, prefix: str = "p") -> list[User]:
    return [
        create_account(f"{prefix}{i}@example.org", NAMES[i % len(NAMES)] + f" {i}",
                       unit="Thanh tra Sở", position="Phó Chánh Thanh tra")
        for i in range(n)
    ]


def _seminar(capacity: int | None = None):
    seminar = seminars.current_seminar()
    if capacity is not None:
        attendance.set_capacity(seminar, capacity)
    return seminar


def _status(user: User, seminar) -> RegistrationStatus | None:
    db.session.expire_all()
    registration = user.registration_for(seminar)
    return registration.status if registration else None


def _vi(message: str, **params) -> str:
    with force_locale("vi"):
        return gettext(message, **params)


# -- services ------------------------------------------------------------------------------


def test_cap_holds_and_the_waiting_list_is_first_come_first_served(app_ctx):
    seminar = _seminar(capacity=3)
    people = _people(6)
    results = [attendance.register(seminar, person) for person in people]
    assert [r.status for r in results] == [CONFIRMED] * 3 + [WAITLISTED] * 3
    assert [attendance.waitlist_position(r) for r in results] == [None, None, None, 1, 2, 3]
    assert seminar.confirmed_count() == 3 and seminar.seats_left == 0
    assert attendance.counts(seminar) == {"capacity": 3, "confirmed": 3, "waitlisted": 3,
                                          "seats_left": 0}
    rows = attendance_export.listing(seminar)
    assert [r["email"] for r in rows] == [p.email for p in people]
    assert [r["status"] for r in rows] == ["confirmed"] * 3 + ["waitlisted"] * 3
    assert [r["waitlist_position"] for r in rows] == [None, None, None, 1, 2, 3]
    assert all(r["registered_at"].endswith("+07:00") for r in rows)
    assert set(rows[0]) == {"email", "name", "unit", "status", "waitlist_position",
                            "registered_at"}
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("attendance.register") == 6


def test_cancel_promotes_the_first_in_line_in_one_commit(app_ctx):
    seminar = _seminar(capacity=2)
    a, b, c, d = _people(4)
    for person in (a, b, c, d):
        attendance.register(seminar, person)
    db.session.commit()

    commits = []
    listener = lambda session: commits.append(1)  # noqa: E731
    event.listen(db.session(), "after_commit", listener)
    try:
        result = attendance.cancel(seminar, a)
    finally:
        event.remove(db.session(), "after_commit", listener)
    assert len(commits) == 1
    assert result.was == CONFIRMED
    assert [r.user.email for r in result.promoted] == [c.email]
    assert _status(a, seminar) is None
    assert _status(c, seminar) == CONFIRMED
    promoted = c.registration_for(seminar)
    assert promoted.promoted_notice_pending and promoted.confirmed_at is not None
    assert attendance.waitlist_position(d.registration_for(seminar)) == 1
    assert seminar.confirmed_count() == 2
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(["attendance.cancel",
                                                         "attendance.promote"]))
    ).all()
    assert {e.action: e.target for e in events} == {"attendance.cancel": a.email,
                                                     "attendance.promote": c.email}


def _refuse_promotions() -> None:
    """A real database fault: the database refuses to write a promotion (a trigger)."""
    if db.engine.dialect.name == "postgresql":
        statements = [
            "CREATE FUNCTION refuse_promotion() RETURNS trigger AS $$ BEGIN "
            "IF NEW.promoted_notice_pending THEN RAISE EXCEPTION 'promotion failed'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_promotion BEFORE UPDATE ON registration FOR EACH ROW "
            "EXECUTE FUNCTION refuse_promotion()",
        ]
    else:
        statements = [
            "CREATE TRIGGER refuse_promotion BEFORE UPDATE ON registration "
            "WHEN NEW.promoted_notice_pending BEGIN SELECT RAISE(ABORT, 'promotion failed'); END",
        ]
    db.session.commit()  # no read lock of ours may stand in the trigger's way
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()


def test_a_failed_promotion_undoes_the_cancellation(app_ctx):
    seminar = _seminar(capacity=1)
    a, b = _people(2)
    attendance.register(seminar, a)
    attendance.register(seminar, b)
    _refuse_promotions()
    with pytest.raises(DBAPIError, match="promotion failed"):
        attendance.cancel(seminar, a)
    db.session.rollback()  # what the request's teardown does
    assert _status(a, seminar) == CONFIRMED
    assert _status(b, seminar) == WAITLISTED


def test_cancelling_from_the_waiting_list_promotes_nobody(app_ctx):
    seminar = _seminar(capacity=1)
    a, b, c = _people(3)
    for person in (a, b, c):
        attendance.register(seminar, person)
    result = attendance.cancel(seminar, b)
    assert result.was == WAITLISTED and result.promoted == []
    assert _status(a, seminar) == CONFIRMED
    assert attendance.waitlist_position(c.registration_for(seminar)) == 1


def test_removal_by_the_office_promotes_the_first_in_line(app_ctx, people):
    office = db.session.get(User, people["office"])
    seminar = _seminar(capacity=2)
    a, b, c, d = _people(4)
    for person in (a, b, c, d):
        attendance.register(seminar, person)
    result = attendance.remove(b.registration_for(seminar), office)
    assert [r.user.email for r in result.promoted] == [c.email]
    assert _status(b, seminar) is None and _status(c, seminar) == CONFIRMED
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attendance.remove"))
    assert event_.actor_id == office.id and event_.target == b.email
    # removing a waiting person promotes nobody
    assert attendance.remove(d.registration_for(seminar), office).promoted == []
    with pytest.raises(NotFound):
        attendance.remove(Registration(id=999_999, seminar_id=seminar.id, user_id=a.id,
                                       status=CONFIRMED, seminar=seminar), office)


def test_capacity_cannot_go_below_the_confirmed_count(app_ctx):
    seminar = _seminar(capacity=3)
    for person in _people(3):
        attendance.register(seminar, person)
    with pytest.raises(InvalidInput) as refused:
        attendance.set_capacity(seminar, 2)
    assert "3" in str(refused.value)
    db.session.expire_all()
    assert seminar.capacity == 3
    attendance.set_capacity(seminar, 3)  # equal is fine
    assert seminar.capacity == 3


def test_a_person_is_on_the_list_once(app_ctx):
    seminar = _seminar(capacity=1)
    a, b = _people(2)
    attendance.register(seminar, a)
    attendance.register(seminar, b)
    for person in (a, b):
        with pytest.raises(AlreadyRegistered):
            attendance.register(seminar, person)
    assert db.session.scalar(select(func.count(Registration.id))) == 2
    # the database itself refuses a second row for the same person
    db.session.add(Registration(seminar_id=seminar.id, user_id=a.id, status=WAITLISTED))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_closed_self_registration_only_the_office_adds(app_ctx, people):
    office = db.session.get(User, people["office"])
    member = db.session.get(User, people["member"])
    seminar = _seminar()
    assert attendance.set_registration_open(seminar, False, office) is False
    with pytest.raises(RegistrationClosed):
        attendance.register(seminar, member)
    assert _status(member, seminar) is None
    registration = attendance.register(seminar, member, actor=office)
    assert registration.status == CONFIRMED and registration.added_by_id == office.id
    other = _people(1)[0]
    assert attendance.register(seminar, other, by_office=True).status == CONFIRMED
    attendance.set_registration_open(seminar, True, office)
    assert seminars.current_seminar().registration_open


def test_promote_by_hand_and_move(app_ctx, people):
    office = db.session.get(User, people["office"])
    seminar = _seminar(capacity=2)
    a, b, c, d = _people(4)
    for person in (a, b, c, d):
        attendance.register(seminar, person)
    with pytest.raises(SeminarFull):
        attendance.promote(d.registration_for(seminar), office)
    with pytest.raises(InvalidInput):
        attendance.promote(a.registration_for(seminar), office)
    # the Office frees a seat and gives it to the second in line, by hand
    moved = attendance.move(a.registration_for(seminar), "waitlisted", office)
    assert moved.status == WAITLISTED and attendance.waitlist_position(moved) == 3
    assert seminar.confirmed_count() == 1
    promoted = attendance.move(d.registration_for(seminar), CONFIRMED, office)
    assert promoted.status == CONFIRMED and promoted.promoted_notice_pending
    assert attendance.waitlist_position(c.registration_for(seminar)) == 1
    assert attendance.waitlist_position(a.registration_for(seminar)) == 2
    with pytest.raises(InvalidInput):
        attendance.move(c.registration_for(seminar), "waitlisted", office)
    with pytest.raises(InvalidInput):
        attendance.move(c.registration_for(seminar), "nowhere", office)


def test_a_free_seat_goes_to_the_first_in_line_before_a_newcomer(app_ctx):
    seminar = _seminar(capacity=1)
    a, b, c = _people(3)
    attendance.register(seminar, a)
    attendance.register(seminar, b)
    attendance.set_capacity(seminar, 2)  # the freed seat goes to b at once, not to a newcomer
    assert _status(b, seminar) == CONFIRMED
    registration = attendance.register(seminar, c)
    assert registration.status == WAITLISTED
    attendance.set_capacity(seminar, 3)
    assert _status(c, seminar) == CONFIRMED
    assert attendance.fill_free_seats(seminar) == []


def test_the_promotion_mail_is_written_with_the_promotion(app_ctx):
    seminar = _seminar(capacity=1)
    a, b, c = _people(3)
    for person in (a, b, c):
        attendance.register(seminar, person)
    commits = []
    listener = lambda session: commits.append(1)  # noqa: E731
    event.listen(db.session(), "after_commit", listener)
    try:
        attendance.cancel(seminar, a)
    finally:
        event.remove(db.session(), "after_commit", listener)
    assert len(commits) == 1  # the promotion and its mail: one transaction
    (row,) = db.session.scalars(select(MailLog).where(MailLog.recipient == b.email))
    assert (row.kind, row.status, row.transport) == ("promoted", "sent", "log")
    assert json.loads(row.attachments)[0]["filename"] == "ma-diem-danh.png"

    # A mail server that is down never undoes a promotion: the mail is recorded as failed.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    current_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed, MAIL_TIMEOUT=2)
    attendance.cancel(seminar, b)
    assert _status(c, seminar) == CONFIRMED
    (row,) = db.session.scalars(select(MailLog).where(MailLog.recipient == c.email))
    assert (row.kind, row.status) == ("promoted", "failed")


def test_acknowledging_the_promotion_notice(app_ctx):
    seminar = _seminar(capacity=1)
    a, b = _people(2)
    attendance.register(seminar, a)
    attendance.register(seminar, b)
    attendance.cancel(seminar, a)
    registration = attendance.pending_promotion_notice(b)
    assert registration is not None
    assert attendance.acknowledge_promotion(registration) is True
    assert attendance.acknowledge_promotion(registration) is False
    assert attendance.pending_promotion_notice(b) is None


def test_deactivated_accounts_cannot_be_added(app_ctx):
    seminar = _seminar()
    person = _people(1)[0]
    person.active = False
    db.session.commit()
    with pytest.raises(InvalidInput):
        attendance.register(seminar, person, by_office=True)
    assert person not in attendance.addable_users(seminar)


# -- /register -----------------------------------------------------------------------------


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _seats(text: str) -> tuple[int, int]:
    match = re.search(r'id="seats-left" data-left="(\d+)" data-total="(\d+)"', text)
    assert match, "no seats-left element"
    return int(match.group(1)), int(match.group(2))


def test_register_page_needs_a_login(app, people):
    response = app.test_client().get("/register")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_register_page_shows_the_seats_left(app, client_as):
    client = client_as("member")
    response = client.get("/register")
    assert response.status_code == 200
    text = _text(response)
    assert _seats(text) == (20, 20)
    with app.test_request_context():
        assert _vi("%(left)d of %(total)d seats left", left=20, total=20) in text
    assert 'id="my-registration" data-status="none"' in text
    assert 'action="/register"' in text


def test_register_page_says_seats_left_in_vietnamese(app, client_as):
    """The wording the Office asked for: "còn 3/20 chỗ"."""
    with app.app_context():
        seminar = _seminar()
        for person in _people(17):
            attendance.register(seminar, person)
    text = _text(client_as("member").get("/register"))
    assert "còn 3/20 chỗ" in text


def test_register_and_cancel_through_the_page(app, client_as):
    client = client_as("member")
    response = post_form(client, "/register", page_url="/register")
    assert response.status_code == 302 and response.headers["Location"].endswith("/register")
    text = _text(client.get("/register"))
    assert 'data-status="confirmed"' in text
    assert _seats(text) == (19, 20)
    assert re.search(r'<form method="post" action="/register/cancel"', text)
    again = post_form(client, "/register", page_url="/register")
    assert again.status_code == 409
    assert 'id="register-error"' in _text(again)

    response = post_form(client, "/register/cancel", {"confirm": "1"}, page_url="/register")
    assert response.status_code == 302
    text = _text(client.get("/register"))
    assert 'data-status="none"' in text and _seats(text) == (20, 20)
    missing = post_form(client, "/register/cancel", {"confirm": "1"}, page_url="/register")
    assert missing.status_code == 404 and 'id="register-error"' in _text(missing)


def test_register_without_a_csrf_token_is_refused(app, client_as):
    client = client_as("member")
    assert client.post("/register").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Registration.id))) == 0


def test_waiting_list_place_and_promotion_notice(app, client_as, people):
    with app.app_context():
        attendance.set_capacity(seminars.current_seminar(), 1)
    first, second = client_as("presenter"), client_as("member")
    assert post_form(first, "/register", page_url="/register").status_code == 302
    page = _text(second.get("/register"))
    assert _seats(page) == (0, 1)
    assert post_form(second, "/register", page_url="/register").status_code == 302
    page = _text(second.get("/register"))
    assert 'data-status="waitlisted" data-place="1"' in page
    assert 'id="waitlist-place"' in page

    assert post_form(first, "/register/cancel", {"confirm": "1"},
                     page_url="/register").status_code == 302
    page = _text(second.get("/register"))
    assert 'data-status="confirmed"' in page
    assert 'id="promotion-notice"' in page
    with app.test_request_context():
        assert _vi("Good news: a seat became free and you are now confirmed for the "
                   "seminar.") in page
    assert 'id="promotion-notice"' not in _text(second.get("/register"))  # shown once


def test_promotion_notice_shows_on_the_next_page_visited(app, client_as, people):
    with app.app_context():
        seminar = _seminar(capacity=1)
        office = db.session.get(User, people["office"])
        member = db.session.get(User, people["member"])
        presenter = db.session.get(User, people["presenter"])
        attendance.register(seminar, presenter, actor=office)
        attendance.register(seminar, member, actor=office)
        attendance.remove(presenter.registration_for(seminar), office)
    client = client_as("member")
    with app.test_request_context():
        notice = _vi("Good news: a seat became free and you are now confirmed for the seminar.")
    assert notice in _text(client.get("/"))
    assert notice not in _text(client.get("/"))
    with app.app_context():
        assert attendance.pending_promotion_notice(
            db.session.get(User, people["member"])) is None


def test_closed_registration_is_refused_on_the_page(app, client_as, people):
    with app.app_context():
        attendance.set_registration_open(seminars.current_seminar(), False)
    client = client_as("member")
    page = _text(client.get("/register"))
    assert 'id="registration-closed"' in page and 'action="/register"' not in page
    response = client.post("/register", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 403
    assert 'id="register-error"' in _text(response)


# -- the Office's pages --------------------------------------------------------------------

OFFICE_PAGES = ["/office/attendees", "/office/attendees.csv", "/office/attendees.pdf"]
OFFICE_POSTS = ["/office/attendees/add", "/office/attendees/1/remove",
                "/office/attendees/1/promote", "/office/attendees/1/waitlist",
                "/office/attendees/self-registration"]


@pytest.mark.parametrize("url", OFFICE_PAGES)
def test_office_pages_access(client_as, url):
    anonymous = client_as(None).get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    for kind in ("member", "presenter"):
        assert client_as(kind).get(url).status_code == 403
    assert client_as("office").get(url).status_code == 200


def test_office_actions_are_refused_to_members(client_as):
    client = client_as("member")
    token = csrf_from(client.get("/register").data)
    for url in OFFICE_POSTS:
        assert client.post(url, data={"csrf_token": token}).status_code == 403, url
    anonymous = client_as(None)
    token = csrf_from(anonymous.get("/login").data)
    for url in OFFICE_POSTS:
        response = anonymous.post(url, data={"csrf_token": token})
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def _row_id(app, email: str) -> int:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return user.registration_for(seminars.current_seminar()).id


def test_office_manages_the_list(app, client_as, people):
    with app.app_context():
        attendance.set_capacity(seminars.current_seminar(), 1)
    office = client_as("office")
    page = _text(office.get("/office/attendees"))
    assert 'id="attendee-counts" data-confirmed="0" data-capacity="1"' in page
    assert f'value="{people["member"]}"' in page

    def add(user_id: int):
        return post_form(office, "/office/attendees/add", {"user_id": str(user_id)},
                         page_url="/office/attendees")

    assert add(people["member"]).status_code == 302
    assert add(people["presenter"]).status_code == 302
    assert add(people["member"]).status_code == 400  # not among the choices any more
    page = _text(office.get("/office/attendees"))
    assert 'data-confirmed="1" data-capacity="1" data-waitlisted="1"' in page
    assert f'<tr data-email="{EMAILS["member"]}" data-status="confirmed">' in page
    assert f'<tr data-email="{EMAILS["presenter"]}" data-status="waitlisted" data-place="1">' \
        in page
    assert "Phạm Thành Viên" in page and "Phó Giám đốc Sở" in page

    def act(email: str, action: str, data: dict | None = None):
        url = f"/office/attendees/{_row_id(app, email)}/{action}"
        return post_form(office, url, data, page_url="/office/attendees")

    full = act(EMAILS["presenter"], "promote")
    assert full.status_code == 409 and 'id="attendees-error"' in _text(full)
    assert act(EMAILS["member"], "waitlist").status_code == 302
    assert act(EMAILS["presenter"], "promote").status_code == 302
    page = _text(office.get("/office/attendees"))
    assert f'<tr data-email="{EMAILS["presenter"]}" data-status="confirmed">' in page
    assert f'<tr data-email="{EMAILS["member"]}" data-status="waitlisted" data-place="1">' in page

    # "Xóa" asks first, naming who moves up; nothing changes until it is confirmed.
    asked = act(EMAILS["presenter"], "remove")
    assert asked.status_code == 200
    assert ("Xóa Trần Văn Trình Bày: người đầu danh sách chờ, Phạm Thành Viên, sẽ được xác "
            "nhận và nhận thư.") in _text(asked)
    assert 'name="confirm" value="1"' in _text(asked)
    page = _text(office.get("/office/attendees"))
    assert f'<tr data-email="{EMAILS["presenter"]}" data-status="confirmed">' in page
    assert act(EMAILS["presenter"], "remove", {"confirm": "1"}).status_code == 302
    page = _text(office.get("/office/attendees"))
    assert f'<tr data-email="{EMAILS["member"]}" data-status="confirmed">' in page
    assert post_form(office, "/office/attendees/999999/remove", {"confirm": "1"},
                     page_url="/office/attendees").status_code == 404


def test_office_opens_and_closes_self_registration(app, client_as):
    office = client_as("office")
    response = post_form(office, "/office/attendees/self-registration", {"open": "0"},
                         page_url="/office/attendees")
    assert response.status_code == 302
    assert 'id="self-registration" data-open="0"' in _text(office.get("/office/attendees"))
    with app.app_context():
        assert seminars.current_seminar().registration_open is False
    assert post_form(office, "/office/attendees/self-registration", {"open": "maybe"},
                     page_url="/office/attendees").status_code == 400
    post_form(office, "/office/attendees/self-registration", {"open": "1"},
              page_url="/office/attendees")
    with app.app_context():
        assert seminars.current_seminar().registration_open is True


def _fill_for_exports(app, people):
    with app.app_context():
        seminar = _seminar(capacity=3)
        office = db.session.get(User, people["office"])
        for key in ("member", "presenter", "office", "other_presenter"):
            attendance.register(seminar, db.session.get(User, people[key]), actor=office)


def test_csv_export_reads_back_with_bom_and_vietnamese(app, client_as, people):
    _fill_for_exports(app, people)
    response = client_as("office").get("/office/attendees.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == 5 and len(rows[0]) == 9  # the last: the check-in time
    body = rows[1:]
    assert [r[1] for r in body] == ["Phạm Thành Viên", "Trần Văn Trình Bày",
                                    "Nguyễn Thị Văn Phòng", "Lê Thị Khác"]
    assert body[0][2] == "Phó Giám đốc Sở"
    assert body[1][3] == "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành"
    assert [r[6] for r in body] == ["", "", "", "1"]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", body[0][7])
    assert [r[8] for r in body] == ["", "", "", ""]  # nobody has come yet


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in reader.pages))


def test_pdf_signin_sheet_reads_back(app, client_as, people):
    _fill_for_exports(app, people)
    response = client_as("office").get("/office/attendees.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.28) < 1 and abs(float(box.height) - 841.89) < 1
    text = _pdf_text(response.data)
    for expected in ("DANH SÁCH ĐẠI BIỂU THAM DỰ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "STT", "Họ và tên", "Chức vụ", "Đơn vị",
                     "Ký tên", "Phạm Thành Viên", "Trần Văn Trình Bày", "Phó Giám đốc Sở",
                     "17/05/2021"):
        assert expected in text, expected
    assert "Tọa đàm nội bộ về cải cách hành chính" in " ".join(text.split())
    assert "Lê Thị Khác" not in text  # on the waiting list: not on the sign-in sheet

    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() \
                if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), fonts
    assert all("Liberation" in name for name in fonts), fonts


def test_pdf_fetcher_serves_only_the_bundled_fonts(tmp_path):
    fetcher = weasy.url_fetcher()  # the one fetcher of every PDF the portal writes itself
    regular = (FONT_DIR / "LiberationSerif-Regular.ttf").resolve().as_uri()
    response = fetcher.fetch(regular)
    assert response.read(4) == b"\x00\x01\x00\x00"
    other = tmp_path / "secret.txt"
    other.write_text("secret")
    for url in (other.as_uri(), "file:///etc/passwd", "http://example.org/font.ttf",
                "https://example.org/x.css", "data:text/css,body{}",
                regular.replace("LiberationSerif-Regular.ttf", "LICENSE.txt"),
                regular.replace("LiberationSerif-Regular.ttf", "../../css/portal.css")):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


# -- the command line ----------------------------------------------------------------------


def test_cli_add_list_remove(app, people):
    runner = app.test_cli_runner()
    with app.app_context():
        _seminar(capacity=1)
    first = runner.invoke(args=["attendees", "add", EMAILS["member"]])
    assert first.exit_code == 0 and "Confirmed" in first.output
    second = runner.invoke(args=["attendees", "add", EMAILS["presenter"].upper()])
    assert second.exit_code == 0 and "place 1" in second.output

    rows = json.loads(runner.invoke(args=["attendees", "list", "--json"]).output)
    assert [(r["email"], r["status"], r["waitlist_position"]) for r in rows] == [
        (EMAILS["member"], "confirmed", None), (EMAILS["presenter"], "waitlisted", 1)]
    assert rows[0]["name"] == "Phạm Thành Viên" and rows[0]["unit"] == ""
    assert rows[1]["unit"] == "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+07:00", rows[0]["registered_at"])

    as_csv = runner.invoke(args=["attendees", "list", "--csv"])
    assert as_csv.exit_code == 0
    parsed = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [r["email"] for r in parsed] == [EMAILS["member"], EMAILS["presenter"]]
    assert parsed[0]["name"] == "Phạm Thành Viên" and parsed[1]["waitlist_position"] == "1"
    assert list(parsed[0]) == ["email", "name", "unit", "status", "waitlist_position",
                               "registered_at"]

    plain = runner.invoke(args=["attendees", "list"])
    assert plain.exit_code == 0 and "1/1 confirmed" in plain.output

    removed = runner.invoke(args=["attendees", "remove", EMAILS["member"]])
    assert removed.exit_code == 0, removed.output
    assert f"Promoted from the waiting list: {EMAILS['presenter']}" in removed.output
    rows = json.loads(runner.invoke(args=["attendees", "list", "--json"]).output)
    assert [(r["email"], r["status"]) for r in rows] == [(EMAILS["presenter"], "confirmed")]


def test_cli_add_works_while_self_registration_is_closed(app, people):
    with app.app_context():
        attendance.set_registration_open(seminars.current_seminar(), False)
    result = app.test_cli_runner().invoke(args=["attendees", "add", EMAILS["member"]])
    assert result.exit_code == 0, result.output


def test_cli_refusals(app, people):
    runner = app.test_cli_runner()
    for args in (["attendees", "add", "nobody@example.org"],
                 ["attendees", "remove", "nobody@example.org"],
                 ["attendees", "remove", EMAILS["member"]],
                 ["attendees", "list", "--json", "--csv"]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
        assert "Error" in result.output, args
    assert runner.invoke(args=["attendees", "add", EMAILS["member"]]).exit_code == 0
    again = runner.invoke(args=["attendees", "add", EMAILS["member"]])
    assert again.exit_code != 0 and "Error" in again.output


HOSTILE_NAME = "Nguyễn Văn A;=cmd|' /C calc'!A0;"


@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_export_never_gives_a_spreadsheet_a_formula(app, client_as, people, separator):
    with app.app_context():
        user = db.session.get(User, people["member"])
        user.full_name = HOSTILE_NAME
        user.position = "@SUM(1+1)"
        db.session.commit()
    _fill_for_exports(app, people)
    data = client_as("office").get("/office/attendees.csv").data.decode("utf-8-sig")
    # a spreadsheet whose list separator is ";" (common with Vietnamese settings) or ","
    for row in csv.reader(io.StringIO(data, newline=""), delimiter=separator):
        for cell in row:
            assert cell.lstrip()[:1] not in ("=", "+", "-", "@"), (separator, cell)
    # read with the file's own separator, the name is one cell, kept readable
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows[1][1] == "Nguyễn Văn A;'=cmd|' /C calc'!A0;"
    assert rows[1][2] == "'@SUM(1+1)"
    assert all(line.startswith('"') for line in data.splitlines())  # every cell quoted


def test_cli_csv_listing_is_neutralised_too(app, people):
    with app.app_context():
        db.session.get(User, people["member"]).full_name = "=HYPERLINK(\"http://x\")"
        db.session.commit()
    _fill_for_exports(app, people)
    output = app.test_cli_runner().invoke(args=["attendees", "list", "--csv"]).output
    assert "\"'=HYPERLINK(\"\"http://x\"\")\"" in output
