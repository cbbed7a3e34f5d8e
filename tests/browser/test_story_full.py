"""The whole story in a real browser, in Vietnamese and in English: the Office opens the
seminar (sets the deadline and opens registration), a presenter uploads the paper, an
attendee registers, the Office builds the final booklet, the attendee downloads it.
A screenshot of each main page is saved under test-artifacts/screenshots."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.services import papers, seminars, submissions

from ..conftest import PASSWORD, create_account
from ..docmaker import docx_bytes, pdf_bytes
from .conftest import choose_language, log_in, screenshot

PRESENTER_UNIT = "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành"


def tr(app, lang: str, text: str, **params) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(text, **params)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_whole_story(live_app, live_server, browser, tmp_path, lang):
    app, base = live_app, live_server.url
    with app.app_context():
        office = create_account("office@example.org", "Nguyễn Thị Văn Phòng",
                                unit="Văn phòng Sở", office=True, position="Chánh Văn phòng")
        create_account("presenter@example.org", "Trần Văn Trình Bày", unit=PRESENTER_UNIT,
                       position="Trưởng phòng")
        create_account("attendee@example.org", "Lê Thị Đại Biểu", position="Phó Giám đốc Sở")
        seminar = seminars.current_seminar()
        seminar.registration_open = False
        db.session.commit()

    def new_page():
        context = browser.new_context(viewport={"width": 1200, "height": 900},
                                      accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(20000)
        choose_language(page, base, lang)
        return context, page

    deadline = clock.local(clock.now()).replace(microsecond=0)
    deadline = deadline.replace(year=deadline.year + 1)

    # 1. The Office opens the seminar: a deadline a year ahead, registration open.
    office_context, office_page = new_page()
    log_in(office_page, base, "office@example.org", PASSWORD)
    office_page.goto(base + "/office/seminar")
    office_page.locator("#deadline-deadline").fill(deadline.strftime("%Y-%m-%d"))
    office_page.locator("#deadline-deadline-time").fill(deadline.strftime("%H:%M"))
    with office_page.expect_navigation():
        office_page.get_by_role("button", name=tr(app, lang, "Save the deadline")).click()
    # The plan's session lies in 2021, before this deadline: the page asks again.
    with office_page.expect_navigation():
        office_page.get_by_role("button", name=tr(app, lang, "Save anyway")).click()
    office_page.wait_for_url("**/office/seminar#deadline")
    assert deadline.strftime("%d/%m/%Y %H:%M") in office_page.content()
    screenshot(office_page, f"story-{lang}-1-office-settings")
    office_page.goto(base + "/office/attendees")
    with office_page.expect_navigation():
        office_page.get_by_role("button", name=tr(app, lang, "Open self-registration")).click()
    office_page.wait_for_load_state()
    screenshot(office_page, f"story-{lang}-2-office-attendees")

    # 2. A presenter uploads a Word paper.
    presenter_context, presenter_page = new_page()
    log_in(presenter_page, base, "presenter@example.org", PASSWORD)
    presenter_page.goto(base + "/papers/2")
    paper = tmp_path / "Tham luận Phòng Quản lý Công nghệ.docx"
    paper.write_bytes(docx_bytes(["Giải pháp đẩy mạnh dịch vụ công trực tuyến mức độ 3, 4."],
                                 heading="THAM LUẬN"))
    presenter_page.locator("input[type=file]").set_input_files(str(paper))
    with presenter_page.expect_navigation():
        presenter_page.get_by_role("button", name=tr(app, lang, "Upload")).click()
    presenter_page.wait_for_load_state()
    # the upload goes with progress; the page shows the stored paper once it is checked
    expect(presenter_page.get_by_role("link", name=paper.name).first).to_be_visible(
        timeout=60000)
    screenshot(presenter_page, f"story-{lang}-3-presenter-paper")

    # The six other papers arrive through the Office (on behalf of their units).
    with app.app_context():
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.email == "office@example.org"))
        for position in (1, 3, 4, 5, 6, 7):
            assignment = papers.get_assignment(seminar, position)
            submissions.upload(assignment, office, io.BytesIO(
                pdf_bytes(2, marker=f"PAPER-{position}")), f"Tham luận {position}.pdf")

    # 3. An attendee registers.
    attendee_context, attendee_page = new_page()
    log_in(attendee_page, base, "attendee@example.org", PASSWORD)
    attendee_page.goto(base + "/register")
    with attendee_page.expect_navigation():
        attendee_page.locator("#register-button").click()
    attendee_page.wait_for_load_state()
    assert attendee_page.locator("#my-registration").get_attribute("data-status") == "confirmed"
    screenshot(attendee_page, f"story-{lang}-4-attendee-registered")

    # 4. The Office builds the final booklet and watches its progress.
    office_page.goto(base + "/office/booklet")
    office_page.get_by_role("button", name=tr(app, lang, "Build the final booklet")).click()
    # It asks first, saying how many attendees will get a mail (one), in a native dialog.
    office_page.locator("#confirm-dialog").wait_for(state="visible")
    assert " 1 " in office_page.locator("#confirm-dialog-text").inner_text()
    with office_page.expect_navigation():
        office_page.locator("#confirm-dialog-ok").click()
    office_page.wait_for_load_state()
    office_page.wait_for_selector("#build-progress[data-state=done]", timeout=60000)
    screenshot(office_page, f"story-{lang}-5-office-booklet")

    # 5. The attendee downloads it from the materials page.
    attendee_page.goto(base + "/materials")
    screenshot(attendee_page, f"story-{lang}-6-attendee-materials")
    with attendee_page.expect_download() as download_info:
        attendee_page.locator("a[href$='/materials/booklet.pdf']").first.click()
    download = download_info.value
    saved = Path(tmp_path / "booklet.pdf")
    download.save_as(saved)
    reader = PdfReader(str(saved))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    assert "MỤC LỤC" in text and "PAPER-7" in text
    assert "Giải pháp đẩy mạnh dịch vụ công trực tuyến" in text
    for context in (office_context, presenter_context, attendee_context):
        context.close()
