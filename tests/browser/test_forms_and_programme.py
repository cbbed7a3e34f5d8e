"""Issue 12, points 2 and 5 in a real browser, in Vietnamese and English, on a desktop and a
390x844 phone: the Office edits the programme and the agenda shows its times; a refused form
keeps what was typed, marks the field and moves the focus there; the date and time pickers;
an upload over the limit is stopped before it is sent; an upload shows its progress."""

from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Submission
from portal.services import seminars

from ..conftest import PASSWORD, create_account, make_app
from ..docmaker import pdf_bytes
from .conftest import LiveServer, choose_language, create_office, log_in, screenshot

PRESENTER_UNIT = "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành"
VIEWPORTS = {"desktop": {"width": 1200, "height": 900}, "phone": {"width": 390, "height": 844}}


def tr(app, lang: str, text: str, **params) -> str:
    with app.test_request_context(), force_locale(lang):
        return gettext(text, **params)


def open_as(browser, base: str, email: str | None, lang: str, viewport: str):
    context = browser.new_context(viewport=VIEWPORTS[viewport],
                                  is_mobile=viewport == "phone")
    page = context.new_page()
    page.set_default_timeout(15000)
    choose_language(page, base, lang)
    if email:
        log_in(page, base, email, PASSWORD)
    return context, page


@pytest.fixture
def small_limit_app(tmp_path):
    app = make_app(tmp_path, MAX_UPLOAD_MB=1)
    with app.app_context():
        create_office()
        create_account("presenter@example.org", "Trần Văn Trình Bày", unit=PRESENTER_UNIT)
        seminars.set_deadline(seminars.current_seminar(), "01/01/2099")  # uploads are open
    with LiveServer(app) as server:
        yield app, server.url


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_office_edits_the_programme_and_the_agenda_shows_times(
        small_limit_app, browser, lang, viewport):
    app, base = small_limit_app
    context, page = open_as(browser, base, "office@example.org", lang, viewport)
    page.goto(base + "/office/seminar")
    page.locator("#programme-items-1-presenter").fill("Trần Văn Trình Bày")
    page.locator("#programme-items-1-minutes").fill("30")
    with page.expect_navigation():
        page.get_by_role("button", name=tr(app, lang, "Save the programme")).click()
    # 11:35 is after the session's end at 11:30: nothing is saved until the Office confirms
    warning = page.locator("#programme-warnings")
    expect(warning).to_contain_text("11:35")
    expect(page.locator("#programme-items-1-minutes")).to_have_value("30")
    with page.expect_navigation():
        page.get_by_role("button", name=tr(app, lang, "Save anyway")).click()
    page.wait_for_url("**/office/seminar#programme")
    expect(page.get_by_text(tr(app, lang, "The programme has been saved; it ends at %(end)s.",
                               end="11:35"))).to_be_visible()
    # the saved programme still runs long: the page says so
    expect(page.locator("#programme-overrun")).to_contain_text("11:30")
    # move paper 1 down: it becomes paper 2
    first_title = page.locator("#programme-items-0-title").input_value()
    page.get_by_role("button", name=tr(app, lang, "Move paper %(n)d down", n=1)).click()
    # saving 11:35 again needs the confirmation
    with page.expect_navigation():
        page.get_by_role("button", name=tr(app, lang, "Save anyway")).click()
    page.wait_for_url("**/office/seminar#programme")
    expect(page.locator("#programme-items-1-title")).to_have_value(first_title)
    screenshot(page, f"programme-{lang}-{viewport}")

    page.goto(base + "/")
    agenda = page.locator("#agenda")
    expect(agenda.locator("li").first).to_contain_text("08:00–08:15")
    second = agenda.locator("li[data-position='2']")
    expect(second).to_contain_text(first_title)
    presenter = agenda.locator("li[data-position='1']")
    expect(presenter).to_contain_text("08:15–08:45")
    expect(presenter).to_contain_text("Trần Văn Trình Bày")
    expect(agenda.locator("li").last).to_contain_text("11:15–11:35")
    context.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_refused_form_keeps_values_marks_the_field_and_takes_the_focus(
        small_limit_app, browser, lang, viewport):
    app, base = small_limit_app
    context, page = open_as(browser, base, "office@example.org", lang, viewport)
    page.goto(base + "/office/seminar")
    page.locator("#session-end").fill("2021-05-17")
    page.locator("#session-end-time").fill("07:00")
    page.locator("#session-venue").fill("Hội trường tầng 3")
    with page.expect_navigation():
        page.get_by_role("button", name=tr(app, lang, "Save the session")).click()
    end = page.locator("#session-end")
    expect(end).to_be_focused()
    expect(end).to_have_attribute("aria-invalid", "true")
    error = page.locator("#session-end-error")
    expect(error).to_have_text(tr(app, lang, "The session must end after it starts."))
    assert end.get_attribute("aria-describedby") == "session-end-error"
    expect(page.locator("#session-end-time")).to_have_value("07:00")
    expect(page.locator("#session-venue")).to_have_value("Hội trường tầng 3")
    expect(page.locator("#deadline-deadline")).to_have_value("2099-01-01")  # not blanked
    expect(page.locator("#capacity-capacity")).to_have_value("20")

    # A date picked without a time means 00:00
    page.locator("#deadline-deadline").fill("2021-05-10")
    page.locator("#deadline-deadline-time").fill("")
    with page.expect_navigation():
        page.get_by_role("button", name=tr(app, lang, "Save the deadline")).click()
    page.wait_for_url("**/office/seminar#deadline")
    expect(page.locator(".flash-success")).to_contain_text("10/05/2021 00:00:00")
    expect(page.locator("#deadline-deadline-time")).to_have_value("00:00")
    context.close()


@pytest.mark.parametrize(("lang", "viewport"), [("vi", "phone"), ("en", "desktop")])
def test_a_file_over_the_limit_is_stopped_before_sending(small_limit_app, browser, tmp_path,
                                                         lang, viewport):
    app, base = small_limit_app
    context, page = open_as(browser, base, "presenter@example.org", lang, viewport)
    page.goto(base + "/papers/2")
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    big = tmp_path / "Tham luận quá lớn.pdf"
    big.write_bytes(pdf_bytes(1) + b"%" + b"x" * (1024 * 1024 + 10))
    page.locator("input[type=file]").set_input_files(str(big))
    error = page.locator("#file-error")
    expect(error).to_contain_text("1 MB")
    expect(error).to_contain_text(big.name)
    page.get_by_role("button", name=tr(app, lang, "Upload")).click()
    expect(page.locator("#file")).to_be_focused()
    expect(page.locator("#file")).to_have_attribute("aria-invalid", "true")
    assert requests == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
    context.close()


@pytest.mark.parametrize(("lang", "viewport"), [("en", "phone"), ("vi", "desktop")])
def test_an_upload_goes_with_progress_and_lands_on_the_paper_page(small_limit_app, browser,
                                                                  tmp_path, lang, viewport):
    app, base = small_limit_app
    context, page = open_as(browser, base, "presenter@example.org", lang, viewport)
    page.goto(base + "/papers/2")
    paper = tmp_path / "Tham luận.pdf"
    paper.write_bytes(pdf_bytes(2, marker="PROGRESS"))
    page.locator("input[type=file]").set_input_files(str(paper))
    with page.expect_request(lambda r: r.method == "POST" and r.resource_type == "xhr"):
        page.get_by_role("button", name=tr(app, lang, "Upload")).click()
    expect(page.locator(".flash-success")).to_contain_text(
        tr(app, lang, "Received: %(name)s (revision %(n)d).", name=paper.name, n=1))
    assert page.url.endswith("/papers/2")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1
    context.close()
