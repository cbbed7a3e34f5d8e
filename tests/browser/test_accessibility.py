"""An accessibility pass over the main pages, as each kind of user sees them: the page's
language is set, every form field has a label, there is one h1 and headings do not skip
levels, images have alternative text."""

from __future__ import annotations

import pytest

from portal.services import attendance, seminars

from ..conftest import PASSWORD, create_account
from .conftest import choose_language, log_in

CHECK = """
() => {
  const problems = [];
  const lang = document.documentElement.getAttribute('lang');
  if (!lang) problems.push('html has no lang');
  const fields = document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea');
  for (const f of fields) {
    const named = (f.labels && f.labels.length) || f.getAttribute('aria-label')
      || f.getAttribute('aria-labelledby');
    if (!named) problems.push('field without label: ' + (f.name || f.id || f.outerHTML));
  }
  const buttons = document.querySelectorAll('button, input[type=submit]');
  for (const b of buttons) {
    const text = (b.innerText || b.value || b.getAttribute('aria-label') || '').trim();
    if (!text) problems.push('button without text: ' + b.outerHTML);
  }
  const headings = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')];
  const h1s = headings.filter(h => h.tagName === 'H1').length;
  if (h1s !== 1) problems.push('h1 count ' + h1s);
  let previous = 0;
  for (const h of headings) {
    const level = Number(h.tagName[1]);
    if (previous && level > previous + 1) problems.push('heading skips to ' + h.tagName
      + ': ' + h.innerText);
    previous = level;
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('img without alt: ' + img.src);
  }
  return problems;
}
"""

PAGES = {
    None: ["/", "/login", "/no-such-page", "/forgot"],
    "presenter": ["/papers", "/papers/2", "/register", "/materials", "/account/password"],
    "attendee": ["/register", "/materials"],
    "office": ["/office", "/office/papers/2", "/office/seminar", "/office/attendees",
               "/office/booklet", "/office/audit", "/office/mail", "/office/people",
               "/office/people/1", "/office/people/1/reset", "/office/remind",
               "/office/attendees/1/remove", "/office/checkin",
               "/office/minutes"],
}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_main_pages_pass_the_accessibility_checks(live_app, live_server, browser, lang):
    with live_app.app_context():
        create_account("office@example.org", "Văn Phòng", unit="Văn phòng Sở", office=True)
        create_account("presenter@example.org", "Người Trình Bày",
                       unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành")
        attendee = create_account("attendee@example.org", "Đại Biểu")
        attendance.register(seminars.current_seminar(), attendee)
    adapter = live_app.url_map.bind("localhost")

    def exists(url: str) -> bool:
        try:
            adapter.match(url)
        except Exception:  # noqa: BLE001 - NotFound, or a redirect to add a slash
            return False
        return True

    problems: dict[str, list[str]] = {}
    checked = 0
    for role, urls in PAGES.items():
        context = browser.new_context()
        page = context.new_page()
        choose_language(page, live_server.url, lang)
        if role:
            log_in(page, live_server.url, f"{role}@example.org", PASSWORD)
        for url in urls:
            if not exists(url) and url != "/no-such-page":
                continue
            checked += 1
            page.goto(live_server.url + url)
            assert page.locator("html").get_attribute("lang") == lang, url
            found = page.evaluate(CHECK)
            if found:
                problems[f"{role}:{url}"] = found
        context.close()
    assert problems == {}
    assert checked >= 14
