"""The Office's whole job in the browser (issue 12, points 1, 3 and 4), in Vietnamese and
English, on a desktop and a 390×844 phone: accounts created, imported and reset without a
terminal, a generated password changed at the first login, "Quên mật khẩu", reminders shown
before they are sent, the mail log's bodies, and every irreversible action asking first, in a
native <dialog> with JavaScript and on a confirmation page without it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import MailLog, RegistrationStatus, User
from portal.services import attendance, seminars

from ..conftest import PASSWORD, create_account
from .conftest import choose_language, create_office, log_in, screenshot

DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 390, "height": 844}
WORDS = {
    "vi": {"people": "Tài khoản", "create": "Tạo tài khoản", "check": "Kiểm tra tệp",
           "import": "Nhập", "deactivate": "Khóa tài khoản", "login": "Đăng nhập",
           "remind": "Gửi nhắc nhở", "send": "Gửi thư nhắc ngay", "show": "Xem nội dung thư",
           "forgot": "Quên mật khẩu?", "send_link": "Gửi đường dẫn cho tôi",
           "new": "Mật khẩu mới", "repeat": "Nhập lại mật khẩu mới",
           "set": "Đặt mật khẩu mới", "remove": "Xóa", "cancel_reg": "Hủy đăng ký của tôi"},
    "en": {"people": "People", "create": "Create the account", "check": "Check the file",
           "import": "Import", "deactivate": "Deactivate", "login": "Log in",
           "remind": "Send reminders", "send": "Send the reminders now", "show": "Show the mail",
           "forgot": "Forgot your password?", "send_link": "Send me a link",
           "new": "New password", "repeat": "Repeat the new password",
           "set": "Set the new password", "remove": "Remove",
           "cancel_reg": "Cancel my registration"},
}


def _open(browser, server, lang: str, viewport: dict, javascript: bool = True):
    context = browser.new_context(locale="vi-VN", viewport=viewport,
                                  is_mobile=viewport is PHONE, java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15000)
    choose_language(page, server.url, lang)
    return context, page


def _no_sideways_scroll(page, viewport):
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1


@pytest.mark.parametrize("lang, viewport", [("vi", DESKTOP), ("en", PHONE)],
                         ids=["vi-desktop", "en-phone"])
def test_office_creates_imports_and_deactivates_people(live_app, live_server, browser, lang,
                                                         viewport, tmp_path):
    w = WORDS[lang]
    with live_app.app_context():
        create_office()
    context, page = _open(browser, live_server, lang, viewport)
    try:
        log_in(page, live_server.url, "office@example.org", PASSWORD)
        page.goto(live_server.url + "/office")
        with page.expect_navigation():
            page.locator("nav.subnav").get_by_role("link", name=w["people"], exact=True).click()
        page.wait_for_url("**/office/people")
        _no_sideways_scroll(page, viewport)

        # One person, with a generated password shown once.
        form = page.locator("#create-person")
        form.locator("#new-email").fill("moi@example.org")
        form.locator("#new-name").fill("Nguyễn Văn Mới")
        form.locator("#new-unit_id").select_option(label="Phòng Quản lý Khoa học")
        form.get_by_role("button", name=w["create"]).click()
        page.wait_for_url("**/office/people/create")
        password = page.locator("#once-password").inner_text().strip()
        assert len(password) >= 8
        screenshot(page, f"people-created-{lang}-{viewport['width']}")

        # Many, from a CSV: a preview first, then "Nhập".
        csv_path = tmp_path / "nguoi.csv"
        csv_path.write_text("email,name,position\nb1@example.org,Lê Văn Bình,Chuyên viên\n"
                            "b2@example.org,Đỗ Thị Cúc,\n", encoding="utf-8")
        page.goto(live_server.url + "/office/people")
        page.locator("#imp-file").set_input_files(str(csv_path))
        with page.expect_navigation():
            page.get_by_role("button", name=w["check"]).click()
        page.wait_for_url("**/office/people/import")
        assert page.locator("#import-preview tbody tr").count() == 2
        with live_app.app_context():
            assert db.session.scalar(select(User).where(User.email == "b1@example.org")) is None
        with page.expect_navigation():
            page.locator("#import-commit").get_by_role("button", name=w["import"]).click()
        page.wait_for_url("**/office/people/import/commit")
        assert page.locator("#imported .once-password").count() == 2

        # Deactivate: the dialog says what will happen; Cancel changes nothing.
        page.goto(live_server.url + "/office/people")
        with page.expect_navigation():
            page.get_by_role("link", name="Lê Văn Bình").click()
        page.wait_for_url(re.compile(r".*/office/people/\d+$"))
        page.locator("#deactivate button").click()
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "Lê Văn Bình" in page.locator("#confirm-dialog-text").inner_text()
        screenshot(page, f"people-deactivate-dialog-{lang}-{viewport['width']}")
        page.locator("#confirm-dialog-cancel").click()
        dialog.wait_for(state="hidden")
        with live_app.app_context():
            assert db.session.scalar(select(User.active).where(User.email == "b1@example.org"))
        page.locator("#deactivate button").click()
        dialog.wait_for(state="visible")
        with page.expect_navigation():
            page.locator("#confirm-dialog-ok").click()
        page.wait_for_url("**/office/people")
        row = page.locator('tr[data-email="b1@example.org"]')
        assert row.locator(".badge-missing").count() == 1
        with live_app.app_context():
            assert not db.session.scalar(select(User.active)
                                         .where(User.email == "b1@example.org"))
        _no_sideways_scroll(page, viewport)
    finally:
        context.close()

    # The new person: every page leads to the change-password page until it is done.
    context, page = _open(browser, live_server, lang, viewport)
    try:
        log_in(page, live_server.url, "moi@example.org", password)
        page.wait_for_url("**/account/password")
        page.goto(live_server.url + "/materials")
        page.wait_for_url("**/account/password")
        assert page.locator("#must-change").is_visible()
        page.locator("#current").fill(password)
        page.locator("#new").fill("mat-khau-rieng-1")
        page.locator("#confirm").fill("mat-khau-rieng-1")
        with page.expect_navigation():
            page.locator("main form [type=submit]").click()
        page.wait_for_load_state()
        page.goto(live_server.url + "/materials")
        assert page.url.endswith("/materials")
        # Phòng Quản lý Khoa học owes paper 4: "My papers" is in the menu.
        assert page.locator("nav.main-nav a[href='/papers']").count() == 1
    finally:
        context.close()


@pytest.mark.parametrize("lang, viewport", [("en", DESKTOP), ("vi", PHONE)],
                         ids=["en-desktop", "vi-phone"])
def test_forgotten_password_by_mail(live_app, live_server, browser, lang, viewport):
    w = WORDS[lang]
    with live_app.app_context():
        create_account("quen@example.org", "Đỗ Thị Hay Quên")
    context, page = _open(browser, live_server, lang, viewport)
    try:
        page.goto(live_server.url + "/login")
        with page.expect_navigation():
            page.get_by_role("link", name=w["forgot"]).click()
        page.wait_for_url("**/forgot")
        page.locator("#email").fill("quen@example.org")
        page.get_by_role("button", name=w["send_link"]).click()
        sent = page.locator("#forgot-sent")
        sent.wait_for()
        assert "quen@example.org" in sent.inner_text()
        _no_sideways_scroll(page, viewport)
        with live_app.app_context():
            body = db.session.scalar(select(MailLog.body).where(MailLog.kind == "reset"))
        link = re.search(r"https?://\S+(/reset/\S+)", body).group(1)
        page.goto(live_server.url + link)
        page.get_by_label(w["new"], exact=True).fill("mat-khau-moi-2")
        page.get_by_label(w["repeat"]).fill("mat-khau-moi-2")
        with page.expect_navigation():
            page.get_by_role("button", name=w["set"]).click()
        page.wait_for_url("**/login")
        log_in(page, live_server.url, "quen@example.org", "mat-khau-moi-2")
        assert "/login" not in page.url
        # The link works once.
        page.goto(live_server.url + link)
        assert page.get_by_role("heading", level=1).inner_text() in (
            "Đường dẫn không dùng được", "This link does not work")
    finally:
        context.close()


@pytest.mark.parametrize("lang, viewport", [("vi", DESKTOP), ("en", PHONE)],
                         ids=["vi-desktop", "en-phone"])
def test_reminders_from_the_overview_and_the_mail_bodies(live_app, live_server, browser, lang,
                                                         viewport):
    w = WORDS[lang]
    with live_app.app_context():
        create_office()
        create_account("presenter@example.org", "Trần Văn Trình Bày", position="Trưởng phòng",
                       unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
        seminar = seminars.current_seminar()
        future = clock.local(clock.now()).year + 1
        seminars.set_deadline(seminar, f"15/05/{future} 00:00")
    context, page = _open(browser, live_server, lang, viewport)
    try:
        log_in(page, live_server.url, "office@example.org", PASSWORD)
        page.goto(live_server.url + "/office")
        assert "Trần Văn Trình Bày, Trưởng phòng" in page.locator("#overview").inner_text()
        with page.expect_navigation():
            page.get_by_role("link", name=w["remind"]).first.click()
        page.wait_for_url("**/office/remind")
        assert page.locator('#remind-plan tr[data-send="1"]').count() == 2
        assert "presenter@example.org" in page.locator("#remind-plan").inner_text()
        screenshot(page, f"remind-preview-{lang}-{viewport['width']}")
        with page.expect_navigation():
            page.get_by_role("button", name=w["send"]).click()
        page.wait_for_url("**/office/mail")
        row = page.locator('#mail-log tr[data-kind="reminder"][data-to="presenter@example.org"]')
        assert row.count() == 1
        row.get_by_text(w["show"]).click()
        assert "Trần Văn Trình Bày" in row.locator(".mail-body").inner_text()
        _no_sideways_scroll(page, viewport)
    finally:
        context.close()


def _seat_story(live_app):
    with live_app.app_context():
        create_office()
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 1)
        a = create_account("a@example.org", "Nguyễn Văn A")
        b = create_account("b@example.org", "Trần Thị B")
        attendance.register(seminar, a)
        attendance.register(seminar, b)


def _status(live_app, email: str):
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        registration = user.registration_for(seminars.current_seminar())
        return registration.status if registration else None


@pytest.mark.parametrize("lang, viewport", [("vi", DESKTOP), ("en", PHONE)],
                         ids=["vi-desktop", "en-phone"])
def test_remove_asks_in_a_dialog_naming_who_moves_up(live_app, live_server, browser, lang,
                                                       viewport):
    _seat_story(live_app)
    context, page = _open(browser, live_server, lang, viewport)
    try:
        log_in(page, live_server.url, "office@example.org", PASSWORD)
        page.goto(live_server.url + "/office/attendees")
        row = page.locator('tr[data-email="a@example.org"]')
        row.get_by_role("button", name=WORDS[lang]["remove"]).click()
        page.locator("#confirm-dialog").wait_for(state="visible")
        text = page.locator("#confirm-dialog-text").inner_text()
        if lang == "vi":
            assert text == ("Xóa Nguyễn Văn A: người đầu danh sách chờ, Trần Thị B, sẽ được "
                            "xác nhận và nhận thư.")
        else:
            assert text == ("Remove Nguyễn Văn A: the first on the waiting list, Trần Thị B, "
                            "will be confirmed and get a mail.")
        screenshot(page, f"remove-dialog-{lang}-{viewport['width']}")
        with page.expect_navigation():
            page.locator("#confirm-dialog-ok").click()
        page.wait_for_url("**/office/attendees")
        page.locator('tr[data-email="b@example.org"][data-status="confirmed"]').wait_for()
        assert _status(live_app, "a@example.org") is None
        assert _status(live_app, "b@example.org") == RegistrationStatus.CONFIRMED
    finally:
        context.close()


@pytest.mark.parametrize("lang, viewport", [("en", DESKTOP), ("vi", PHONE)],
                         ids=["en-desktop", "vi-phone"])
def test_without_javascript_a_confirmation_page_asks(live_app, live_server, browser, lang,
                                                     viewport):
    _seat_story(live_app)
    context, page = _open(browser, live_server, lang, viewport, javascript=False)
    try:
        log_in(page, live_server.url, "a@example.org", PASSWORD)
        page.goto(live_server.url + "/register")
        with page.expect_navigation():
            page.get_by_role("button", name=WORDS[lang]["cancel_reg"]).click()
        page.wait_for_url("**/register/cancel")
        question = page.locator("#confirm-question").inner_text()
        assert "1" in question  # one person is waiting
        assert _status(live_app, "a@example.org") == RegistrationStatus.CONFIRMED
        _no_sideways_scroll(page, viewport)
        screenshot(page, f"cancel-confirm-page-{lang}-{viewport['width']}")
        with page.expect_navigation():
            page.locator(".confirm-form button[type=submit]").click()
        page.wait_for_url("**/register")
        assert page.locator("#my-registration").get_attribute("data-status") == "none"
        assert _status(live_app, "b@example.org") == RegistrationStatus.CONFIRMED
    finally:
        context.close()


def test_dialog_and_page_say_the_same(live_app, live_server, browser):
    """The dialog is filled from the form's data-confirm, the same sentence as the page."""
    _seat_story(live_app)
    with live_app.app_context():
        clock.set_now(None)
    context, page = _open(browser, live_server, "vi", DESKTOP)
    try:
        log_in(page, live_server.url, "office@example.org", PASSWORD)
        page.goto(live_server.url + "/office/attendees")
        form = page.locator('tr[data-email="a@example.org"] form[data-confirm]')
        sentence = form.get_attribute("data-confirm")
        url = form.get_attribute("action")
        page.goto(live_server.url + url)
        assert page.locator("#confirm-question").inner_text() == sentence
        assert _status(live_app, "a@example.org") == RegistrationStatus.CONFIRMED
    finally:
        context.close()


