"""End-to-end stories in a real browser: Debian's Chromium driven by Playwright, against the
portal served on loopback by a real WSGI server in a thread."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from ..conftest import ROOT, create_account, make_app

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


def _chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (apt-get install chromium; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (make test installs it)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _chromium_missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def live_server(live_app):
    with LiveServer(live_app) as server:
        yield server


DESKTOP = {"width": 1200, "height": 900}


def open_page(browser, *, locale: str | None = "vi-VN", viewport: dict | None = None,
              timeout: float = 15000, **options):
    """A page in a fresh browser context (its own cookies): a second person at their desk."""
    if locale:
        options["locale"] = locale
    context = browser.new_context(viewport=viewport or DESKTOP, **options)
    page = context.new_page()
    page.set_default_timeout(timeout)
    return page


def create_office():
    """The Office's account, the one the stories log in with (call inside an app context)."""
    return create_account("office@example.org", "Nguyễn Thị Văn Phòng", unit="Văn phòng Sở",
                          office=True)


@pytest.fixture
def page(browser, request):
    page = open_page(browser)
    context = page.context
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Name the screenshots in the log, so a failed CI run shows where to find them."""
    if not ARTIFACTS.exists():
        return
    shots = sorted(ARTIFACTS.glob("*.png"))
    if not shots:
        return
    failed = bool(terminalreporter.stats.get("failed"))
    terminalreporter.write_sep("-", f"browser screenshots ({len(shots)}) in {ARTIFACTS}")
    for shot in shots:
        if failed or shot.name.endswith("-failure.png"):
            terminalreporter.write_line(f"  {shot.relative_to(ROOT)}")


LOGIN_BUTTON = "form[action*='/login'] [type=submit]"


def choose_language(page, base_url: str, lang: str) -> None:
    """Open the home page and switch the interface language, waiting until the switch has
    been answered (the POST and the page it redirects to) before going on."""
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    if page.locator("html").get_attribute("lang") != lang:
        with page.expect_navigation():
            page.get_by_role("button", name="English" if lang == "en" else "Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


def submit(page, target) -> None:
    """Click ``target`` (a submit button, a link or dialog button that posts) and wait until the
    page it leads to has arrived: on a busy machine the next step must not run against the old
    page (a ``wait_for_url`` alone returns at once when the answer redirects to the same URL)."""
    with page.expect_navigation():
        target.click()


def log_in(page, base_url: str, email: str, password: str, next_url: str | None = None) -> None:
    """Log in through the real form and wait until the portal has let us in."""
    page.goto(base_url + "/login" + (f"?next={next_url}" if next_url else ""))
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    submit(page, page.locator(LOGIN_BUTTON))
    page.wait_for_url(lambda url: "/login" not in url)
