"""A visitor opens the seminar, switches language, logs in as the Office and logs out."""

from __future__ import annotations

from portal import plan

from ..conftest import PASSWORD
from .conftest import create_office, screenshot


def test_open_switch_language_login_logout(live_app, live_server, page):
    with live_app.app_context():
        create_office()
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == plan.SEMINAR["title"]
    for item in plan.ASSIGNMENTS:
        assert page.get_by_text(item["title"], exact=True).count() == 1
    screenshot(page, "home-vi")

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Agenda").is_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Tiếng Việt").click()
    assert page.get_by_role("heading", name="Chương trình").is_visible()

    with page.expect_navigation():
        page.get_by_role("link", name="Đăng nhập", exact=True).click()
    page.get_by_label("Email").fill("office@example.org")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/office")
    assert page.get_by_role("heading", name="Văn phòng Sở").first.is_visible()
    screenshot(page, "office-vi")

    with page.expect_navigation():
        page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_by_text("Bạn đã đăng xuất.").is_visible()
    page.goto(live_server.url + "/office")
    assert "/login" in page.url


def test_phone_layout_has_no_horizontal_scroll(live_server, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    screenshot(page, "home-phone")
    context.close()
