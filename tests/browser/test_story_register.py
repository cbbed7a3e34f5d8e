"""Two members and one seat: A registers, B joins the waiting list (place 1), A cancels, and
B, on the next visit, is told of the promotion and finds themselves confirmed."""

from __future__ import annotations

from flask_babel import force_locale, gettext

from portal.services import attendance, seminars

from ..conftest import PASSWORD, create_account
from .conftest import create_office, log_in, open_page, screenshot


def test_register_wait_cancel_and_be_promoted(live_app, live_server, browser, page):
    with live_app.app_context():
        attendance.set_capacity(seminars.current_seminar(), 1)
        create_account("a@example.org", "Nguyễn Văn Ánh", position="Trưởng phòng",
                       unit="Thanh tra Sở")
        create_account("b@example.org", "Trần Thị Bảo", position="Phó Giám đốc Sở")
        create_office()
    base = live_server.url
    with live_app.test_request_context(), force_locale("vi"):
        registration_link = gettext("Registration")

    # A registers and takes the only seat.
    log_in(page, base, "a@example.org", PASSWORD, "/register")
    seats = page.locator("#seats-left")
    assert (seats.get_attribute("data-left"), seats.get_attribute("data-total")) == ("1", "1")
    with page.expect_navigation():
        page.locator("#register-button").click()
    page.wait_for_url("**/register")
    assert page.locator("#my-registration").get_attribute("data-status") == "confirmed"
    assert page.locator("#seats-left").get_attribute("data-left") == "0"
    screenshot(page, "register-a-confirmed")

    # B, in another browser, finds the seminar full and joins the waiting list.
    page_b = open_page(browser)
    context_b = page_b.context
    try:
        log_in(page_b, base, "b@example.org", PASSWORD, "/register")
        with page_b.expect_navigation():
            page_b.locator("#register-button").click()
        page_b.wait_for_url("**/register")
        status = page_b.locator("#my-registration")
        assert status.get_attribute("data-status") == "waitlisted"
        assert status.get_attribute("data-place") == "1"
        assert "1" in page_b.locator("#waitlist-place").inner_text()
        screenshot(page_b, "register-b-waiting")

        # A cancels: the form posts to /register/cancel.
        cancel_form = page.locator("form[action$='/register/cancel']")
        assert cancel_form.count() == 1
        cancel_form.get_by_role("button").click()
        # It asks first, in a native dialog that says the seat goes to the next in line.
        dialog = page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "1" in page.locator("#confirm-dialog-text").inner_text()
        with page.expect_navigation():
            page.locator("#confirm-dialog-ok").click()
        page.wait_for_url("**/register")
        assert page.locator("#my-registration").get_attribute("data-status") == "none"
        screenshot(page, "register-a-cancelled")

    finally:
        context_b.close()

    # B comes back later and logs in: the first page says so, once; /register shows the seat.
    with live_app.test_request_context(), force_locale("vi"):
        notice = gettext("Good news: a seat became free and you are now confirmed for the "
                         "seminar.")
    page_b = open_page(browser)
    context_b = page_b.context
    try:
        page_b.goto(base + "/login")
        page_b.get_by_label("Email").fill("b@example.org")
        page_b.get_by_label("Mật khẩu").fill(PASSWORD)
        with page_b.expect_navigation():
            page_b.get_by_role("button", name="Đăng nhập").click()
        page_b.wait_for_url(base + "/")
        assert page_b.locator(".flash-success", has_text=notice).is_visible()
        screenshot(page_b, "register-b-promoted-notice")
        with page_b.expect_navigation():
            page_b.get_by_role("link", name=registration_link).click()
        page_b.wait_for_url("**/register")
        assert page_b.locator("#my-registration").get_attribute("data-status") == "confirmed"
        assert page_b.locator("#seats-left").get_attribute("data-left") == "0"
        assert page_b.get_by_text(notice).count() == 0  # told once
        screenshot(page_b, "register-b-confirmed")
    finally:
        context_b.close()

    # The Office sees B confirmed, with the counts at the top.
    office = open_page(browser)
    context_office = office.context
    try:
        office.goto(base + "/login?next=/office/attendees")
        office.get_by_label("Email").fill("office@example.org")
        office.get_by_label("Mật khẩu").fill(PASSWORD)
        with office.expect_navigation():
            office.get_by_role("button", name="Đăng nhập").click()
        office.wait_for_url("**/office/attendees")
        counts = office.locator("#attendee-counts")
        assert counts.get_attribute("data-confirmed") == "1"
        assert counts.get_attribute("data-waitlisted") == "0"
        row = office.locator("#confirmed tr[data-email='b@example.org']")
        assert row.get_by_text("Trần Thị Bảo").is_visible()
        screenshot(office, "office-attendees")
    finally:
        context_office.close()
