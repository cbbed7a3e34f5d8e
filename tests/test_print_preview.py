"""Issue 12, point 9: on /papers/<n> a presenter sees the current revision as the booklet will
print it (pages, thumbnails of the first pages, a link to the PDF) and each conversion note in
their language with what to do about it."""

from __future__ import annotations

import io
import re

from flask_babel import force_locale

from portal.extensions import db
from portal.models import User
from portal.services import papers, seminars, submissions
from portal.services.documents.notes import Note

from .conftest import CORPUS, post_form
from .docmaker import pdf_bytes


def _upload(app, people, data: bytes, name: str) -> None:
    with app.app_context():
        seminar = seminars.current_seminar()
        seminars.set_deadline(seminar, "01/01/2099")
        presenter = db.session.get(User, people["presenter"])
        submissions.upload(papers.get_assignment(seminar, 2), presenter,
                           io.BytesIO(data), name)


def test_the_paper_page_shows_the_printed_version(app, client_as, people):
    _upload(app, people, pdf_bytes(5, marker="PRINTED"), "Tham luận.pdf")
    presenter = client_as("presenter")
    html = presenter.get("/papers/2").data.decode()
    section = re.search(r'<section class="panel" id="printed".*?</section>', html, re.S)
    assert section, "no printed section"
    section = section.group(0)
    assert "Bản 1 sẽ chiếm 5 trang trong tài liệu." in section
    thumbnails = re.findall(r'src="(/papers/2/print/page-(\d)\.png)"', section)
    assert [n for _, n in thumbnails] == ["1", "2", "3"]  # the first pages only
    assert 'href="/papers/2/print.pdf"' in section
    response = presenter.get("/papers/2/print.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    png = presenter.get(thumbnails[0][0])
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert presenter.get("/papers/2/print/page-4.png").status_code == 404
    assert presenter.get("/papers/2/print/page-0.png").status_code == 404
    # another unit's presenter does not see it
    assert client_as("other_presenter").get("/papers/2/print.pdf").status_code == 403


def test_conversion_notes_come_with_what_to_do(app, client_as, people):
    source = CORPUS / "tricky" / "qpdf__minimal-signed-restricted.pdf"
    _upload(app, people, source.read_bytes(), source.name)
    presenter = client_as("presenter")
    html = presenter.get("/papers/2").data.decode()
    notes = re.search(r'<ul class="conversion-notes" id="printed-notes">.*?</ul>', html, re.S)
    assert notes, "no notes shown"
    assert "Cần làm:" in notes.group(0)
    assert "chữ ký" in notes.group(0) or "ký số" in notes.group(0)
    post_form(presenter, "/language", {"lang": "en", "next": "/papers/2"}, page_url="/")
    english = presenter.get("/papers/2").data.decode()
    assert "What to do:" in english and "Nothing to do: the booklet is not affected." in english


def test_every_kind_of_note_gets_advice(app):
    cases = {
        "font substituted: VNI-Times → Liberation Serif": "Times New Roman",
        "text typed in an old Vietnamese encoding (.VnTime) comes out garbled; ask for a "
        "Unicode version": "Unicode",
        "fonts not embedded in the PDF (Arial): printers substitute them": "PDF/A",
        "2 charts left out": "PDF",
        "3 pictures could not be drawn": "JPEG",
        "encryption removed": "Nothing to do",
        "something new the portal does not know": "fix it in your document",
    }
    with app.test_request_context(), force_locale("en"):
        for note, words in cases.items():
            advised = Note.read(note)
            assert words in advised.advice, note
            assert advised.text
    with app.test_request_context(), force_locale("vi"):
        assert Note.read("encryption removed").advice == \
            "Không cần làm gì: tài liệu in không bị ảnh hưởng."
