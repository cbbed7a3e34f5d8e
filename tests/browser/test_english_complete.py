"""Issue 12, point 6: in English mode no interface text is Vietnamese. The test walks the main
pages of every kind of user in English and fails on any text (text nodes, and the labels a
screen reader reads) with a Vietnamese-only letter, once the seminar's own content (titles,
names, units, file names …, which stay as the Office wrote them) is set aside. The Vietnamese
pages, in turn, must not show an English sentence left untranslated: the catalogue is
complete."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Assignment, MailLog, Seminar, Submission, Unit, User
from portal.services import attendance, papers, seminars, submissions

from ..conftest import PASSWORD, create_account
from ..docmaker import pdf_bytes
from .conftest import choose_language, log_in

VIETNAMESE_ONLY = re.compile(
    "[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE)

TEXTS = """
() => {
  const texts = [];
  const skip = el => el.closest('script, style, [lang]:not(html), .seminar-content');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (text && !skip(node.parentElement)) texts.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    if (skip(el)) continue;
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      const value = el.getAttribute(name);
      if (value) texts.push(value.trim());
    }
  }
  texts.push(document.title);
  return texts;
}
"""

PAGES = {
    None: ["/", "/login", "/no-such-page", "/forgot-password"],
    "presenter": ["/papers", "/papers/2", "/register", "/materials", "/account/password"],
    "attendee": ["/", "/register", "/materials"],
    "waitlisted": ["/materials", "/register", "/office", "/materials/2/pdf"],
    "office": ["/office", "/office/papers/2", "/office/seminar", "/office/attendees",
               "/office/booklet", "/office/audit", "/office/mail", "/office/people"],
}


def _content(app) -> list[str]:
    """Everything the seminar's data puts on a page, longest first."""
    with app.app_context():
        values: set[str] = set()
        for user in db.session.scalars(select(User)):
            values.update({user.full_name, user.position, user.email})
        values.update(db.session.scalars(select(Unit.name)))
        for a in db.session.scalars(select(Assignment)):
            values.update({a.title, a.note, a.presenter_name, a.extension_reason})
        for s in db.session.scalars(select(Seminar)):
            values.update({s.title, s.organiser, s.purpose, s.content, s.attendance, s.venue,
                           s.opening_title, s.closing_title})
        values.update(db.session.scalars(select(Submission.original_filename)))
        # mail is written in the recipient's language: the log shows what was sent
        values.update(db.session.scalars(select(MailLog.subject)))
    return sorted((v for v in values if v), key=len, reverse=True)


def _setup(app):
    with app.app_context():
        create_account("office@example.org", "Nguyễn Thị Văn Phòng", unit="Văn phòng Sở",
                       office=True, position="Chánh Văn phòng")
        presenter = create_account("presenter@example.org", "Trần Văn Trình Bày",
                                   unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và "
                                        "Chuyên ngành", position="Trưởng phòng")
        seminar = seminars.current_seminar()
        seminars.set_deadline(seminar, "01/01/2099")
        attendance.set_capacity(seminar, 1)
        attendee = create_account("attendee@example.org", "Đại Biểu Dự Họp")
        attendance.register(seminar, attendee)
        waiting = create_account("waitlisted@example.org", "Lê Văn Chờ")
        attendance.register(seminar, waiting)
        submissions.upload(papers.get_assignment(seminar, 2), presenter,
                           io.BytesIO(pdf_bytes(2, marker="ENGLISH")), "Tham luận số 2.pdf")


def _walk(app, base, browser, lang):
    adapter = app.url_map.bind("localhost")

    def exists(url: str) -> bool:
        try:
            adapter.match(url)
        except Exception:  # noqa: BLE001 - NotFound, MethodNotAllowed, a redirect
            return False
        return True

    content = _content(app)
    found: dict[str, list[str]] = {}
    walked = 0
    for role, urls in PAGES.items():
        context = browser.new_context()
        page = context.new_page()
        choose_language(page, base, lang)
        if role:
            log_in(page, base, f"{role}@example.org", PASSWORD)
        for url in urls:
            if not exists(url) and url != "/no-such-page":
                continue
            walked += 1
            page.goto(base + url)
            assert page.locator("html").get_attribute("lang") == lang
            texts = page.evaluate(TEXTS)
            yield role, url, texts, content, found
        context.close()
    assert walked >= 18


def _strip(text: str, content: list[str]) -> str:
    for value in content:
        if value in text:
            text = text.replace(value, " ")
    return text


@pytest.fixture
def setup_app(live_app):
    _setup(live_app)
    return live_app


def test_english_pages_have_no_vietnamese_interface_text(setup_app, live_server, browser):
    found: dict[str, list[str]] = {}
    for role, url, texts, content, _ in _walk(setup_app, live_server.url, browser, "en"):
        bad = [t for t in texts if VIETNAMESE_ONLY.search(_strip(t, content))]
        bad = [t for t in bad if t != "Tiếng Việt"]  # the language switch names itself
        if bad:
            found[f"{role}:{url}"] = bad
    assert found == {}


ENGLISH_WORDS = re.compile(r"\b(the|and|your|please|seminar|paper|deadline|upload)\b",
                           re.IGNORECASE)


def test_vietnamese_pages_have_no_untranslated_english(setup_app, live_server, browser):
    found: dict[str, list[str]] = {}
    for role, url, texts, content, _ in _walk(setup_app, live_server.url, browser, "vi"):
        bad = [t for t in texts if ENGLISH_WORDS.search(_strip(t, content))
               and t not in ("English",)]
        if bad:
            found[f"{role}:{url}"] = bad
    assert found == {}
