"""Issue 12, points 7 and 8 in a real browser, in Vietnamese and English: on a 390x844 phone
every Office list reads as cards, with the person's name beside every action, and nothing
scrolls sideways; the Office sub-menu marks the current page; the landing page shows the
seats left and the next step; a waitlisted person sees their place when refused."""

from __future__ import annotations

import io
import re

import pytest
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import expect

from portal.services import attendance, papers, seminars, submissions

from ..conftest import PASSWORD, create_account
from ..docmaker import pdf_bytes
from .conftest import LOGIN_BUTTON, choose_language, log_in, screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}
OFFICE_PAGES = ["/office", "/office/papers/2", "/office/seminar", "/office/attendees",
                "/office/booklet", "/office/audit", "/office/mail", "/office/people",
                "/office/remind", "/office/checkin", "/office/minutes"]


def tr(app, lang: str, text: str, **params) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(text, **params)


def _world(app):
    with app.app_context():
        create_account("office@example.org", "Nguyễn Thị Văn Phòng", unit="Văn phòng Sở",
                       office=True, position="Chánh Văn phòng")
        presenter = create_account(
            "presenter@example.org", "Trần Văn Trình Bày",
            unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 2)
        for n, name in enumerate(["Phạm Thị Hồng Nhung", "Lê Văn Quang Vinh",
                                  "Hoàng Minh Chờ Đợi"], start=1):
            attendance.register(seminar, create_account(f"p{n}@example.org", name))
        seminars.set_deadline(seminar, "01/01/2099")
        submissions.upload(papers.get_assignment(seminar, 2), presenter,
                           io.BytesIO(pdf_bytes(3, marker="PHONE")),
                           "Tham luận có tên tệp rất dài để thử màn hình điện thoại.pdf")


def _context(browser, base, lang, viewport, email=None):
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    choose_language(page, base, lang)
    if email:
        log_in(page, base, email, PASSWORD)
    return context, page


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_office_lists_read_as_cards_on_a_phone(live_app, live_server, browser, lang):
    _world(live_app)
    adapter = live_app.url_map.bind("localhost")
    context, page = _context(browser, live_server.url, lang, PHONE, "office@example.org")
    for url in OFFICE_PAGES:
        try:
            adapter.match(url)
        except Exception:  # noqa: BLE001 - a page another branch adds
            continue
        page.goto(live_server.url + url)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, (url, width)
        for table in page.locator("table.cards").all():
            row = table.locator("tbody tr").first
            assert row.evaluate("r => getComputedStyle(r).display") == "block", url
            cell = row.locator("td[data-label]").first
            if cell.count():
                label = cell.evaluate("c => getComputedStyle(c, '::before').content")
                assert label not in ("none", "normal", '""'), url
        screenshot(page, f"phone-{lang}{url.replace('/', '-')}")
    # the person's name stands beside the buttons of their row
    page.goto(live_server.url + "/office/attendees")
    for name in ("Phạm Thị Hồng Nhung", "Lê Văn Quang Vinh", "Hoàng Minh Chờ Đợi"):
        row = page.locator("tr", has_text=name)
        actions = row.locator("td.row-actions")
        assert name in actions.get_attribute("data-label")
        box = actions.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        button = row.get_by_role("button").first.bounding_box()
        assert button["x"] >= 0 and button["x"] + button["width"] <= 390
    context.close()

    # on a desktop the same lists stay tables
    context, page = _context(browser, live_server.url, lang, DESKTOP, "office@example.org")
    page.goto(live_server.url + "/office/attendees")
    assert page.locator("table#confirmed tbody tr").first.evaluate(
        "r => getComputedStyle(r).display") == "table-row"
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_office_sub_menu_marks_the_current_page(live_app, live_server, browser, lang,
                                                    viewport):
    _world(live_app)
    context, page = _context(browser, live_server.url, lang,
                             PHONE if viewport == "phone" else DESKTOP, "office@example.org")
    for url, text in (("/office/seminar", "Seminar settings"), ("/office/audit", "Audit log"),
                      ("/office/papers/2", "Papers")):
        page.goto(live_server.url + url)
        current = page.locator(".subnav [aria-current=page]")
        expect(current).to_have_count(1)
        expect(current).to_have_text(tr(live_app, lang, text))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= page.viewport_size["width"]
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_landing_page_and_the_waiting_list_place(live_app, live_server, browser, lang,
                                                     viewport):
    _world(live_app)
    size = PHONE if viewport == "phone" else DESKTOP
    context, page = _context(browser, live_server.url, lang, size)
    seats = page.locator("#seats-left")
    expect(seats).to_have_text(tr(live_app, lang, "%(left)d of %(total)d seats left",
                                  left=0, total=2))
    with page.expect_navigation():
        page.get_by_role("link", name=tr(live_app, lang, "Log in to register")).click()
    page.wait_for_url("**/login?next=/register")
    page.locator("#email").fill("p3@example.org")
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator(LOGIN_BUTTON).click()
    page.wait_for_url("**/register")
    page.goto(live_server.url + "/")
    expect(page.locator("#next-step")).to_contain_text(
        tr(live_app, lang, "You are on the waiting list, place %(n)d.", n=1))
    response = page.goto(live_server.url + "/materials/2/pdf")
    assert response.status == 403
    expect(page.locator("#waitlist-place")).to_contain_text(
        tr(live_app, lang, "You are on the waiting list, place %(n)d.", n=1))
    assert page.evaluate("document.scrollingElement.scrollWidth") <= size["width"]
    context.close()

    context, page = _context(browser, live_server.url, lang, size, "presenter@example.org")
    page.goto(live_server.url + "/")
    expect(page.locator("#next-step").get_by_role(
        "link", name=tr(live_app, lang, "See or replace paper %(n)d", n=2))).to_be_visible()
    context.close()


@pytest.mark.parametrize(("lang", "viewport"), [("vi", "phone"), ("en", "desktop")])
def test_a_presenter_sees_the_paper_as_it_will_be_printed(live_app, live_server, browser, lang,
                                                         viewport):
    _world(live_app)
    size = PHONE if viewport == "phone" else DESKTOP
    context, page = _context(browser, live_server.url, lang, size, "presenter@example.org")
    page.goto(live_server.url + "/papers/2")
    printed = page.locator("#printed")
    with live_app.test_request_context(), force_locale(lang):
        pages = ngettext("Revision %(rev)d will take %(num)d page of the booklet.",
                         "Revision %(rev)d will take %(num)d pages of the booklet.", 3, rev=1)
    expect(printed.locator("#printed-pages")).to_have_text(re.compile(re.escape(pages)))
    expect(printed.locator("#printed-pages")).to_contain_text("(A4)")
    images = printed.locator(".previews img")
    expect(images).to_have_count(3)
    for image in images.all():
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                               arg=image.element_handle())
    link = printed.get_by_role("link", name=tr(live_app, lang,
                                               "Open the PDF as it will be printed"))
    response = page.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    notes = printed.locator("#printed-notes li")
    if notes.count():  # each note comes with what to do about it
        for note in notes.all():
            expect(note.locator(".advice")).to_contain_text(
                tr(live_app, lang, "What to do:"))
    else:
        expect(printed.locator("#printed-no-notes")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= size["width"]
    screenshot(page, f"printed-{lang}-{viewport}")
    context.close()
