"""Notes about a paper are codes with parameters, one per fact, translated when shown; the
English sentences stored by earlier converters are read back as codes, never shown as English."""

from __future__ import annotations

import html as markup
import io
import re

import pikepdf
import pytest
from flask_babel import force_locale
from pikepdf import Array, Dictionary, Name, String

from portal.extensions import db
from portal.models import Submission, User
from portal.services import papers, seminars, submissions
from portal.services.documents.notes import CODES, Note, read_stored, stored


@pytest.mark.parametrize("note, vietnamese", [
    ("font substituted: Arial, Tahoma → Liberation Serif",
     "thay phông chữ: Arial, Tahoma → Liberation Serif"),
    ("2 charts left out", "đã bỏ biểu đồ: 2"),
    ("1 external or unreadable picture left out",
     "đã bỏ hình ảnh liên kết hoặc không đọc được: 1"),
    ("JavaScript removed (3)", "đã gỡ bỏ: JavaScript (3)"),
    ("encryption removed", "đã bỏ mã hóa"),
    ("The PDF was slightly damaged and has been repaired.",
     "Tệp PDF bị hỏng nhẹ và đã được sửa."),
    ("unsafe links removed (2)",
     "đã gỡ bỏ: liên kết không phải http, https hoặc mailto (2)"),
    ("fonts not embedded in the PDF (Helvetica, Times-Roman) were embedded",
     "phông chữ chưa được nhúng trong PDF (Helvetica, Times-Roman) đã được nhúng vào, để bản in "
     "giống hệt bản xem"),
    ("font substituted: Calibri → Carlito",
     "phông chữ không có trên máy chủ, đã thay bằng phông gần nhất: Calibri → Carlito"),
    ("Paragraph style with ID Heading1 was referenced but not defined in the document",
     "Khi chuyển đổi, hệ thống ghi nhận một chi tiết về cách trình bày."),
])
def test_sentences_stored_by_earlier_converters_are_read_in_vietnamese(app, note, vietnamese):
    with app.test_request_context(), force_locale("vi"):
        assert Note.read(note).text == vietnamese
    with app.test_request_context(), force_locale("en"):
        english = Note.read(note).text
    assert english.isascii() or "→" in english  # no Vietnamese in the English page


def test_a_stored_note_reads_back_as_the_same_note():
    notes = [Note("fonts_not_embedded", fonts=["Helvetica", "Nguyễn Sans"], more=True),
             Note("signed"), Note("removed", what="JavaScript", n=3)]
    assert read_stored(stored(notes)) == notes
    assert read_stored(stored([Note("signed"), Note("signed")])) == [Note("signed")]
    with pytest.raises(ValueError):
        Note("a sentence, not a code")


def test_every_code_has_a_text_and_advice_in_both_languages(app):
    for code in CODES:
        note = Note(code)
        for language in ("vi", "en"):
            with app.test_request_context(), force_locale(language):
                assert note.text.strip() and note.advice.strip(), (code, language)
        with app.test_request_context(), force_locale("vi"):
            vietnamese = note.text + note.advice
        with app.test_request_context(), force_locale("en"):
            assert vietnamese != note.text + note.advice, code  # a translation exists


def signed_xfa_open_encrypted_pdf() -> bytes:
    """A PDF that is digitally signed, holds an XFA form and is encrypted with an empty user
    password: three facts."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595.28, 841.89))
    page.obj.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 770 Td (Signed paper) Tj ET")
    page.obj.Resources = Dictionary(Font=Dictionary(F1=pdf.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))))
    signature = pdf.make_indirect(Dictionary(
        FT=Name.Sig, T=String("Signature1"), Rect=Array([0, 0, 0, 0]), P=page.obj,
        Subtype=Name.Widget, Type=Name.Annot))
    page.obj.Annots = Array([signature])
    pdf.Root.AcroForm = Dictionary(Fields=Array([signature]), SigFlags=3,
                                   XFA=pdf.make_stream(b"<xdp:xdp/>"))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="office", user="", R=6))
    return out.getvalue()


def test_signed_xfa_encrypted_pdf_gets_one_note_per_fact_in_vietnamese(app, client_as, people):
    with app.app_context():
        seminar = seminars.current_seminar()
        seminars.set_deadline(seminar, "01/01/2099")
        presenter = db.session.get(User, people["presenter"])
        submissions.upload(papers.get_assignment(seminar, 2), presenter,
                           io.BytesIO(signed_xfa_open_encrypted_pdf()), "ky-so.pdf")
        revision = db.session.scalars(db.select(Submission)).one()
        notes = read_stored(revision.conversion_notes)
    facts = {note.code for note in notes if note.code != "fonts_embedded"}
    assert facts == {"signed", "xfa_form", "encrypted"}
    assert len([note for note in notes if note.code in facts]) == 3

    html = client_as("presenter").get("/papers/2").get_data(as_text=True)
    shown = re.search(r'<ul class="conversion-notes" id="printed-notes">(.*?)</ul>', html, re.S)
    assert shown, "no notes shown"
    items = re.findall(r"<li>(.*?)</li>", shown.group(1), re.S)
    assert len(items) == len(notes)
    assert all("Cần làm:" in item for item in items)
    assert sum("Không cần làm gì" in item for item in items) >= 3
    with app.test_request_context(), force_locale("en"):
        english = [text for note in notes for text in (note.text, note.advice)]
    page_text = markup.unescape(re.sub(r"<[^>]+>", " ", html))
    for sentence in english:
        assert sentence not in page_text, sentence


@pytest.mark.parametrize("what", ["JavaScript", "embedded files", "automatic actions",
                                  "portfolio view", "unsafe actions", "unsafe links",
                                  "file attachments", "media"])
def test_everything_the_sanitiser_removes_has_a_name(app, what):
    with app.test_request_context(), force_locale("vi"):
        text = Note("removed", what=what, n=2).text
        assert text.startswith("đã gỡ bỏ: ") and text.endswith(" (2)")
        assert Note("removed", what="?").text not in (text, text.removesuffix(" (2)"))
