"""Accounts on the web (/office/people): create, import (CSV and Excel, previewed first),
edit, deactivate and reactivate, reset a password; "Quên mật khẩu" with a one-time link; a
generated password changed at the first login; the one presenter rule in the menu."""

from __future__ import annotations

import io
import re
import time

import itsdangerous.timed
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEvent, MailLog, Unit, User
from portal.services import accounts, people

from .conftest import EMAILS, PASSWORD, create_account, login, make_app, post_form

QLKH = "Phòng Quản lý Khoa học"


def _text(response) -> str:
    return response.get_data(as_text=True)


def _user(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def _count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def _once_password(html: str) -> str:
    match = re.search(r'<code class="once-password"[^>]*>([^<]+)</code>', html)
    assert match, "no password shown"
    return match.group(1)


# -- creating one person ------------------------------------------------------------------


def test_office_creates_a_person_whose_generated_password_must_be_changed(app, client_as):
    office = client_as("office")
    page = office.get("/office/people")
    assert page.status_code == 200 and "Tạo tài khoản" in _text(page)
    with app.app_context():
        unit_id = db.session.scalar(select(Unit.id).where(Unit.name == QLKH))
    response = post_form(office, "/office/people/create", {
        "new-email": "Moi.Nguoi@Example.org", "new-name": "Nguyễn Văn Mới",
        "new-position": "Chuyên viên", "new-unit_id": str(unit_id)}, page_url="/office/people")
    assert response.status_code == 200
    html = _text(response)
    assert "Đã tạo tài khoản của Nguyễn Văn Mới (moi.nguoi@example.org)." in html
    password = _once_password(html)
    user = _user(app, "moi.nguoi@example.org")
    assert user.must_change_password and user.position == "Chuyên viên"
    # The password is not shown again anywhere.
    assert password not in _text(office.get("/office/people"))

    # The new person logs in: every page leads to the change-password page until it is done.
    person = app.test_client()
    assert login(person, "moi.nguoi@example.org", password).status_code == 302
    for url in ("/", "/papers", "/register", "/materials"):
        answer = person.get(url)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(
            "/account/password"), url
    form = person.get("/account/password")
    assert "Mật khẩu của bạn do hệ thống tạo" in _text(form)
    changed = post_form(person, "/account/password", {
        "current": password, "new": "my-own-password-1", "confirm": "my-own-password-1"})
    assert changed.status_code == 302
    after = _user(app, "moi.nguoi@example.org")
    assert not after.must_change_password
    assert after.session_version == user.session_version + 1
    assert after.check_password("my-own-password-1")


def test_a_bad_new_person_keeps_the_form_with_the_reason(app, client_as):
    office = client_as("office")
    before = _count_users(app)
    response = post_form(office, "/office/people/create", {
        "new-email": EMAILS["member"], "new-name": "Trùng Email", "new-unit_id": "0"},
        page_url="/office/people")
    assert response.status_code == 400
    assert f"Đã có tài khoản với email {EMAILS['member']}" in _text(response)
    assert 'value="Trùng Email"' in _text(response)
    assert _count_users(app) == before


# -- importing many -----------------------------------------------------------------------

CSV = ("email,name,position,unit,office\n"
       "a1@example.org,Lê Văn A,Chuyên viên,Phòng Quản lý Khoa học,no\n"
       "a2@example.org,Trần Thị B,,,yes\n")


def _import(office, data: bytes, filename: str):
    return post_form(office, "/office/people/import",
                     {"imp-file": (io.BytesIO(data), filename)}, page_url="/office/people",
                     content_type="multipart/form-data")


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_import_shows_every_row_before_anything_is_saved(app, client_as, kind):
    office = client_as("office")
    before = _count_users(app)
    if kind == "csv":
        data, name = CSV.encode("utf-8-sig"), "nguoi.csv"
    else:
        book = Workbook()
        sheet = book.active
        for line in CSV.splitlines():
            sheet.append(line.split(","))
        buffer = io.BytesIO()
        book.save(buffer)
        data, name = buffer.getvalue(), "nguoi.xlsx"
    preview = _import(office, data, name)
    assert preview.status_code == 200, _text(preview)[:2000]
    html = _text(preview)
    assert f"{name}: sẽ tạo 2 tài khoản" in html
    assert 'data-email="a1@example.org"' in html and 'data-email="a2@example.org"' in html
    assert _count_users(app) == before  # nothing saved yet

    done = post_form(office, "/office/people/import/commit",
                     {"go-csv": re.search(r'name="go-csv" type="hidden" value="([^"]*)"', html)
                      .group(1).replace("&#34;", '"').replace("&amp;", "&")
                      .replace("&#10;", "\n")},
                     page_url="/office/people")
    assert done.status_code == 200, _text(done)[:2000]
    assert "Đã tạo 2 tài khoản." in _text(done)
    assert len(re.findall(r'class="once-password"', _text(done))) == 2
    assert _count_users(app) == before + 2
    a1, a2 = _user(app, "a1@example.org"), _user(app, "a2@example.org")
    assert a1.must_change_password and not a1.is_office and a2.is_office


def test_import_with_a_bad_line_names_it_and_saves_nothing(app, client_as):
    office = client_as("office")
    before = _count_users(app)
    bad = CSV + "not-an-email,Người Sai\n"
    response = _import(office, bad.encode(), "sai.csv")
    assert response.status_code == 400
    assert "Dòng 4" in _text(response)
    assert _count_users(app) == before
    broken = _import(office, b"PK\x03\x04 not really a workbook", "hong.xlsx")
    assert broken.status_code == 400
    assert "không phải sổ tính Excel (.xlsx) đọc được" in _text(broken)
    latin = _import(office, "email,name\nx@example.org,Nguy\xean\n".encode("latin-1"), "x.csv")
    assert latin.status_code == 400 and "CSV UTF-8" in _text(latin)
    assert _count_users(app) == before


# -- editing, deactivating, reactivating ------------------------------------------------


def test_edit_name_position_unit_and_role(app, client_as, people):
    office = client_as("office")
    url = f"/office/people/{people['member']}"
    page = office.get(url)
    assert page.status_code == 200 and 'value="Phạm Thành Viên"' in _text(page)
    with app.app_context():
        unit_id = db.session.scalar(select(Unit.id).where(Unit.name == QLKH))
    saved = post_form(office, url, {"p-name": "Phạm Thành Viên Mới", "p-position": "Trưởng phòng",
                                    "p-unit_id": str(unit_id)})
    assert saved.status_code == 302
    user = _user(app, EMAILS["member"])
    assert (user.full_name, user.position, user.unit_id, user.is_office) == (
        "Phạm Thành Viên Mới", "Trưởng phòng", unit_id, False)
    # The only Office account cannot drop its own role.
    own = f"/office/people/{people['office']}"
    refused = post_form(office, own, {"p-name": "Nguyễn Thị Văn Phòng", "p-unit_id": "0"})
    assert refused.status_code == 400
    assert "tài khoản Văn phòng duy nhất" in _text(refused)
    assert _user(app, EMAILS["office"]).is_office


def test_deactivate_asks_first_then_locks_the_account_out(app, client_as, people):
    member = client_as("member")
    office = client_as("office")
    url = f"/office/people/{people['member']}/deactivate"
    asked = office.get(url)
    assert asked.status_code == 200
    assert ("Khóa tài khoản Phạm Thành Viên: người này không đăng nhập được nữa"
            in _text(asked))
    # A POST without "confirm" asks too, and changes nothing.
    assert post_form(office, url, page_url=url).status_code == 200
    assert _user(app, EMAILS["member"]).active
    done = post_form(office, url, {"confirm": "1"}, page_url=url)
    assert done.status_code == 302
    user = _user(app, EMAILS["member"])
    assert not user.active
    assert login(app.test_client(), EMAILS["member"]).status_code == 401
    assert member.get("/register").status_code in (302, 401, 403)
    # Reactivating gives the access back.
    page = f"/office/people/{people['member']}"
    assert post_form(office, f"{page}/reactivate", page_url=page).status_code == 302
    assert login(app.test_client(), EMAILS["member"]).status_code == 302
    # Nobody deactivates their own account.
    own = f"/office/people/{people['office']}/deactivate"
    assert post_form(office, own, {"confirm": "1"}, page_url=own).status_code == 302
    assert _user(app, EMAILS["office"]).active


# -- resetting a password -------------------------------------------------------------------


def test_reset_with_a_generated_password_shown_once(app, client_as, people):
    office = client_as("office")
    url = f"/office/people/{people['presenter']}/reset"
    before = _user(app, EMAILS["presenter"])
    asked = post_form(office, url, {"how": "generated"}, page_url=f"/office/people/"
                      f"{people['presenter']}")
    assert asked.status_code == 200 and "Mật khẩu hiện tại hết hiệu lực ngay" in _text(asked)
    assert _user(app, EMAILS["presenter"]).check_password(PASSWORD)
    done = post_form(office, url, {"how": "generated", "confirm": "1"}, page_url=url)
    password = _once_password(_text(done))
    after = _user(app, EMAILS["presenter"])
    assert not after.check_password(PASSWORD) and after.check_password(password)
    assert after.must_change_password
    assert after.session_version == before.session_version + 1


@pytest.fixture
def mail_app(tmp_path, backend, smtp):  # noqa: F811
    app = make_app(tmp_path, backend, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
                   PORTAL_BASE_URL="https://toadam.example.gov.vn", MAIL_TIMEOUT=5)
    with app.app_context():
        create_account(EMAILS["office"], "Nguyễn Thị Văn Phòng", unit="Văn phòng Sở",
                       office=True)
        create_account("quen@example.org", "Đỗ Thị Hay Quên")
        create_account("en@example.org", "Anna English")
        user = db.session.scalar(select(User).where(User.email == "en@example.org"))
        user.locale = "en"
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _link(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https://toadam\.example\.gov\.vn(/reset/\S+)", text)
    assert match, text
    return match.group(1)


def test_forgot_password_mails_a_one_time_link(mail_app, smtp):  # noqa: F811
    app = mail_app
    visitor = app.test_client()
    login_page = _text(visitor.get("/login"))
    assert 'href="/forgot"' in login_page and "Quên mật khẩu?" in login_page
    known = post_form(visitor, "/forgot", {"email": "quen@example.org"})
    unknown = post_form(visitor, "/forgot", {"email": "khong-co@example.org"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'value="[^"]*"|[\w.-]+@example\.org', "", html)  # noqa: E731
    assert strip(_text(known)) == strip(_text(unknown))  # the same answer either way
    smtp.wait(1)  # the mail leaves after the answer
    assert len(smtp.messages) == 1
    message = smtp.to("quen@example.org")[0]
    assert "Đặt lại mật khẩu" in message["Subject"]
    link = _link(message)

    page = visitor.get(link)
    assert page.status_code == 200 and "Đỗ Thị Hay Quên" in _text(page)
    short = post_form(visitor, link, {"new": "ngan", "confirm": "ngan"})
    assert short.status_code == 400
    done = post_form(visitor, link, {"new": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert login(app.test_client(), "quen@example.org", "mat-khau-moi-1").status_code == 302
    # Single use: the link was bound to the old password.
    again = visitor.get(link)
    assert again.status_code == 400 and "đã được dùng" in _text(again)
    assert visitor.get("/reset/forged-token").status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "user.reset_password")) == 1


def test_reset_link_expires(mail_app, smtp, monkeypatch):  # noqa: F811
    app = mail_app
    real = time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 25 * 3600)
    post_form(app.test_client(), "/forgot", {"email": "quen@example.org"})
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    smtp.wait(1)
    expired = app.test_client().get(_link(smtp.to("quen@example.org")[0]))
    assert expired.status_code == 400 and "đã hết hạn" in _text(expired)


def test_office_mails_a_reset_link_in_the_persons_language(mail_app, smtp):  # noqa: F811
    app = mail_app
    office = app.test_client()
    login(office, EMAILS["office"])
    english = _user(app, "en@example.org")
    url = f"/office/people/{english.id}/reset"
    asked = office.get(url + "?how=link")
    assert asked.status_code == 200 and "en@example.org" in _text(asked)
    assert not smtp.messages
    done = post_form(office, url, {"how": "link", "confirm": "1"}, page_url=url)
    assert done.status_code == 302
    smtp.wait(1)
    message = smtp.to("en@example.org")[0]
    assert message["Subject"] == "Reset your password on the seminar portal"
    assert "The Office has sent you a link" in message.get_body(
        preferencelist=("plain",)).get_content()
    assert english.check_password(PASSWORD)  # the old password works until the link is used
    with app.app_context():
        row = db.session.scalar(select(MailLog).where(MailLog.recipient == "en@example.org"))
        assert row.kind == "reset" and "/reset/" in row.body


def test_forgot_password_is_rate_limited(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        create_account("quen@example.org", "Đỗ Thị Hay Quên")
    client = app.test_client()
    answers = [post_form(client, "/forgot", {"email": "quen@example.org"}).status_code
               for _ in range(4)]
    assert answers == [200, 200, 200, 429]


# -- the one presenter rule -----------------------------------------------------------------


def test_my_papers_only_for_members_of_a_unit_with_a_paper(app, client_as):
    with app.app_context():
        db.session.add(Unit(name="Ban Giám đốc Sở", code="bgd"))
        db.session.commit()
        create_account("staff@example.org", "Võ Văn Lãnh Đạo", unit="Ban Giám đốc Sở")
    staff = app.test_client()
    assert login(staff, "staff@example.org").status_code == 302
    home = _text(staff.get("/"))
    assert "Tham luận của tôi" not in home
    assert staff.get("/papers").status_code == 403
    presenter = client_as("presenter")
    assert "Tham luận của tôi" in _text(presenter.get("/"))
    assert presenter.get("/papers").status_code == 200


def test_services_refuse_what_would_lock_the_office_out(app_ctx, people):
    office = db.session.get(User, people["office"])
    with pytest.raises(accounts.InvalidInput):
        people_service_set_active(office, office)
    assert office.active


def people_service_set_active(user, actor):
    return people.set_active(user, False, actor)
