"""An attendee finds the materials closed, registers, and downloads the booklet and a paper."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from flask_babel import force_locale, gettext

from portal import clock
from portal.services import papers, seminars, submissions
from portal.services.booklet import build as booklet_service
from portal.storage import get_storage

from ..conftest import PASSWORD, create_account
from ..docmaker import docx_bytes, pdf_bytes
from .conftest import create_office, screenshot

BEFORE = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)


def test_attendee_registers_and_downloads_the_booklet(live_app, live_server, page, tmp_path):
    with live_app.app_context():
        office = create_office()
        create_account("ha@example.org", "Lê Thị Hà", position="Phó Giám đốc Sở")
        seminar = seminars.current_seminar()
        with clock.frozen(BEFORE):
            for position in range(1, 8):
                assignment = papers.get_assignment(seminar, position)
                if position == 2:
                    data = docx_bytes(["Nội dung tham luận số 2."] * 6, heading="Tham luận")
                    name = "Tham luận dịch vụ công trực tuyến.docx"
                else:
                    data = pdf_bytes(2, marker=f"PAPER-{position}")
                    name = f"Bài số {position}.pdf"
                submissions.upload(assignment, office, io.BytesIO(data), name)
        booklet = booklet_service.build(seminar, office, draft=False)
        booklet_bytes = get_storage().path(booklet.stored_path).read_bytes()
        booklet_name = booklet_service.file_name(seminar, booklet)
        pages = booklet.pages
    with live_app.test_request_context(), force_locale("vi"):
        materials_link = gettext("Materials")
    base = live_server.url

    page.goto(base + "/login?next=/materials")
    page.get_by_label("Email").fill("ha@example.org")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/materials")
    assert page.locator("#no-access").is_visible()
    assert page.locator("#booklet-download").count() == 0
    screenshot(page, "materials-before-registering")

    page.goto(base + "/register")
    with page.expect_navigation():
        page.locator("#register-button").click()
    page.wait_for_url("**/register")
    assert page.locator("#my-registration").get_attribute("data-status") == "confirmed"

    with page.expect_navigation():
        page.get_by_role("link", name=materials_link, exact=True).click()
    page.wait_for_url("**/materials")
    assert page.locator("#no-access").count() == 0
    assert page.locator("#papers li.material").count() == 7
    assert page.locator("#booklet").get_attribute("data-published") == "yes"
    assert f"{pages} " in page.locator("#booklet").inner_text()
    thumbnails = page.locator("#papers img")
    if thumbnails.count():
        thumbnails.first.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => [...document.querySelectorAll('#papers img')].slice(0, 2)"
            ".every(img => img.complete && img.naturalWidth > 0)")
    screenshot(page, "materials-attendee")

    with page.expect_download() as info:
        page.locator("#booklet-download").click()
    download = info.value
    assert download.suggested_filename == booklet_name
    saved = Path(tmp_path) / "booklet.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == booklet_bytes

    with page.expect_download() as info:
        page.locator("li.material[data-position='2'] a", has_text="DOCX").click()
    paper = info.value
    assert paper.suggested_filename == "Tham luận dịch vụ công trực tuyến.docx"
    screenshot(page, "materials-after-download")
