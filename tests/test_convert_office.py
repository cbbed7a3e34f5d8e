"""Word papers through LibreOffice, fonts embedded in uploaded PDFs, only safe links kept.

Everything is read back from the PDF the portal stores: text and word boxes with poppler's
``pdftotext``, fonts with ``pdffonts``, links with pikepdf. LibreOffice, Ghostscript and poppler
are real (Debian's libreoffice-writer-nogui, ghostscript, poppler-utils).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import unicodedata
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from portal import clock
from portal.services.documents import checker, office
from portal.services.documents.check import inspect
from portal.services.documents.convert import ConversionError, normalise
from portal.services.documents.notes import Note
from portal.services.documents.results import MESSAGES, DocumentRefused
from portal.services.documents.sniff import sniff
from tests import docmaker

from .conftest import upload
from .test_submissions import BEFORE, rows, stored_files

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DECREE = CORPUS / "vietnamese" / "vbp__30_2020_ND_CP.docx"
HELLO_DOC = CORPUS / "hostile" / (
    "poi__cpansearch.perl.org_src_tobyink_acme-rundoc-0.001_word-lib_hello_world.docm")

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("soffice", "pdftotext", "pdffonts", "gs")),
    reason="LibreOffice, poppler-utils or Ghostscript is not installed")
needs_corpus = pytest.mark.skipif(not DECREE.is_file(), reason=f"no corpus at {CORPUS}")

VIETNAMESE = "Ứng dụng công nghệ thông tin trong cải cách hành chính tỉnh Quảng Ngãi"


def pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def words(path: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) of one page, in points from the top left."""
    html = pdftotext(path, "-bbox", "-f", str(page), "-l", str(page))
    return [(text, float(x0), float(y0), float(x1), float(y1)) for x0, y0, x1, y1, text in
            re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', html)]


def pdffonts(path: Path) -> str:
    return subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                          check=True).stdout


def make_odt(path: Path, paragraphs: list[str], extra: dict[str, str] | None = None) -> Path:
    """A minimal OpenDocument text, as an office suite writes its parts."""
    text = "".join(f"<text:p>{p}</text:p>" for p in paragraphs)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:text>{text}</office:text></office:body>"
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def decree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    if not DECREE.is_file():
        pytest.skip(f"no corpus at {CORPUS}")
    out = tmp_path_factory.mktemp("decree") / "decree.pdf"
    return out, normalise(DECREE, "docx", out)


# -- the layout of a real administrative document -------------------------------------------


@needs_corpus
def test_decree_keeps_its_page_size_alignment_indents_and_header(decree):
    out, result = decree
    # pgSz 11907 x 16840 twips: A4, on every page.
    assert result.pages >= 17
    assert all(abs(w - 595.35) < 0.2 and abs(h - 842.0) < 0.2 and rotation == 0
               for w, h, rotation in result.page_sizes)
    first = words(out, 1)
    # Margins left 1985, right 1134 twips: the text area is 99.25..538.6 pt, centre 318.9.
    title = [w for w in first if w[0] in ("NGHỊ", "ĐỊNH")][:2]
    assert [w[0] for w in title] == ["NGHỊ", "ĐỊNH"]
    assert abs((title[0][1] + title[1][3]) / 2 - 318.9) < 2  # centred, as in Word
    # The borderless heading table: the agency left, the national motto right, on one line.
    agency = next(w for w in first if w[0] == "CHÍNH")
    motto = next(w for w in first if w[0] == "CỘNG")
    assert abs(agency[2] - motto[2]) < 1 and agency[3] < 200 < motto[1]
    # First-line indent 567 twips (28.35 pt) on body paragraphs; their next lines at the margin.
    opening = next(w for w in first if w[0] == "Căn")
    assert abs(opening[1] - (99.25 + 28.35)) < 1.5
    lines = pdftotext(out, "-layout", "-f", "1", "-l", "1")
    assert "Nghị định này quy định về công tác văn thư" in lines
    continuation = next(w for w in first if w[0] == "tác" and w[1] < 110)
    assert abs(continuation[1] - 99.25) < 1.5
    # The header holds the page number, at the top of page 2.
    number = [w for w in words(out, 2) if w[0] == "2" and w[2] < 100]
    assert number, "page 2 has no page number in its header"


@needs_corpus
def test_times_new_roman_resolves_to_liberation_serif_embedded(decree):
    out, result = decree
    fonts = pdffonts(out)
    assert "LiberationSerif" in fonts
    assert "Times" not in fonts and "DejaVuSerif" not in fonts
    rows_ = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows_ and all(row[-5] == "yes" for row in rows_), fonts  # the "emb" column
    assert not any(note.code.startswith("fonts") for note in result.notes), result.notes


@pytest.mark.skipif(not (CORPUS / "valid" / "mammoth__footnotes.docx").is_file(),
                    reason="no corpus")
def test_footnotes_stay_at_the_foot_of_their_page(tmp_path):
    out = tmp_path / "footnotes.pdf"
    normalise(CORPUS / "valid" / "mammoth__footnotes.docx", "docx", out)
    page = words(out, 1)
    body = next(w for w in page if w[0] == "Ouch")
    note = next(w for w in page if w[0] == "tachyon")
    assert body[2] < 200 and note[2] > 600  # body at the top, the footnote at the foot


def test_page_size_is_the_authors_and_a4_when_none_is_given(tmp_path):
    w = docmaker.W_NAMESPACE
    letter = docmaker.make_docx(tmp_path / "letter.docx", document=(
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
        "<w:p><w:r><w:t>Letter</w:t></w:r></w:p><w:sectPr>"
        '<w:pgSz w:w="12240" w:h="15840" w:orient="portrait"/></w:sectPr></w:body></w:document>'))
    landscape = docmaker.make_docx(tmp_path / "landscape.docx", document=(
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
        "<w:p><w:r><w:t>Ngang</w:t></w:r></w:p><w:sectPr>"
        '<w:pgSz w:w="16838" w:h="11906" w:orient="landscape"/></w:sectPr></w:body></w:document>'))
    unsized = docmaker.make_docx(tmp_path / "unsized.docx", ["Không khai báo khổ giấy"])
    sizes = [normalise(path, "docx", tmp_path / f"{path.stem}.pdf").page_sizes[0]
             for path in (letter, landscape, unsized)]
    assert [[round(width), round(height), rotation] for width, height, rotation in sizes] == [
        [612, 792, 0], [842, 595, 0], [595, 842, 0]]


# -- text normalised to NFC -----------------------------------------------------------------


def test_decomposed_vietnamese_is_found_by_search_in_the_pdf(tmp_path):
    decomposed = unicodedata.normalize("NFD", VIETNAMESE)
    assert decomposed != VIETNAMESE
    docx = docmaker.make_docx(tmp_path / "nfd.docx", [decomposed])
    normalise(docx, "docx", tmp_path / "nfd.pdf")
    assert VIETNAMESE in pdftotext(tmp_path / "nfd.pdf")  # not normalised by the test
    odt = make_odt(tmp_path / "nfd.odt", [decomposed])
    normalise(odt, "odt", tmp_path / "odt.pdf")
    assert VIETNAMESE in pdftotext(tmp_path / "odt.pdf")


def test_decomposed_vietnamese_in_a_word_97_file_is_found_by_search(tmp_path):
    decomposed = unicodedata.normalize("NFD", VIETNAMESE)
    docx = docmaker.make_docx(tmp_path / "nfd.docx", [decomposed])
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--headless", "--convert-to", "doc", "--outdir", str(tmp_path / "doc"),
                    str(docx)], capture_output=True, check=True, timeout=300)
    doc = tmp_path / "doc" / "nfd.doc"
    assert sniff(doc) == "doc"
    assert decomposed.encode("utf-16-le") in doc.read_bytes()  # the .doc holds NFD text
    normalise(doc, "doc", tmp_path / "doc.pdf")
    assert VIETNAMESE in pdftotext(tmp_path / "doc.pdf")


def test_prepare_copy_leaves_a_clean_document_alone(tmp_path):
    w = docmaker.W_NAMESPACE
    docx = docmaker.make_docx(tmp_path / "nfc.docx", document=(
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
        f"<w:p><w:r><w:t>{VIETNAMESE}</w:t></w:r></w:p><w:sectPr>"
        '<w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>'))
    assert office.prepare_copy(docx, tmp_path / "copy.docx", []) is False
    assert not (tmp_path / "copy.docx").exists()


# -- .doc and .odt ----------------------------------------------------------------------------


@pytest.mark.skipif(not HELLO_DOC.is_file(), reason="no corpus")
def test_word_97_file_is_converted_whatever_its_name(tmp_path):
    assert sniff(HELLO_DOC) == "doc"
    answer = checker.run_checked(HELLO_DOC, convert_to=tmp_path / "hello.pdf")
    assert answer.file_type == "doc" and answer.converted is not None
    assert answer.print_pages == 1
    assert "Hello world!" in pdftotext(tmp_path / "hello.pdf")


def test_odt_is_accepted_and_its_macros_are_not(tmp_path):
    odt = make_odt(tmp_path / "paper.odt", ["Báo cáo tham luận", VIETNAMESE])
    answer = checker.run_checked(odt, convert_to=tmp_path / "paper.pdf")
    assert answer.file_type == "odt" and answer.print_pages == 1
    assert "Báo cáo tham luận" in pdftotext(tmp_path / "paper.pdf")
    basic = make_odt(tmp_path / "macro.odt", ["x"], {
        "Basic/script-lc.xml": "<library:libraries/>",
        "Basic/Standard/script-lb.xml": "<library:library/>",
        "Basic/Standard/Module1.xml": "<script:module>Sub Main : Shell(\"x\") : End Sub"
                                      "</script:module>",
    })
    with pytest.raises(DocumentRefused) as caught:
        checker.run_checked(basic, convert_to=tmp_path / "macro.pdf")
    assert caught.value.code == "macros"
    assert not (tmp_path / "macro.pdf").exists()


def test_a_word_file_libreoffice_cannot_open_is_refused_as_damaged(tmp_path):
    fake = docmaker.make_ole2(tmp_path / "paper.doc", ("WordDocument", "1Table"))
    assert inspect(fake).file_type == "doc"  # looks like Word 97 from outside
    with pytest.raises(ConversionError) as caught:
        normalise(fake, "doc", tmp_path / "out.pdf")
    assert caught.value.code == "damaged"
    assert not (tmp_path / "out.pdf").exists()
    with pytest.raises(DocumentRefused) as refused:
        checker.run_checked(fake, convert_to=tmp_path / "out.pdf")
    assert refused.value.code == "damaged"
    assert "LibreOffice" not in str(refused.value)  # its messages are for the logs only


def test_two_conversions_at_once_do_not_collide(tmp_path):
    sources = [docmaker.make_docx(tmp_path / f"p{n}.docx", [f"Tham luận số {n}", VIETNAMESE])
               for n in (1, 2)]
    results: dict[int, object] = {}

    def run(number: int) -> None:
        try:
            results[number] = normalise(sources[number - 1], "docx", tmp_path / f"p{number}.pdf")
        except Exception as error:  # noqa: BLE001 - reported below
            results[number] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for number in (1, 2):
        assert not isinstance(results[number], Exception), results[number]
        assert f"Tham luận số {number}" in pdftotext(tmp_path / f"p{number}.pdf")


def test_soffice_is_killed_with_its_process_group_on_time_out(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    fake = tmp_path / "soffice"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $$ $! > {pids}\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setattr(office, "soffice", lambda: str(fake))
    docx = docmaker.make_docx(tmp_path / "slow.docx", ["Tham luận"])
    with pytest.raises(office.OfficeFailed) as caught:
        office.convert_to_pdf(docx, "docx", tmp_path / "slow.pdf", timeout=3)
    assert caught.value.code == "timeout"
    assert not (tmp_path / "slow.pdf").exists()
    for pid in pids.read_text().split():
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text(), pid


def test_linked_files_are_never_read(tmp_path):
    """A local file named by an INCLUDETEXT field, a linked section or a linked picture stays
    out of the PDF (LibreOffice never updates links in the portal's profile)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("NOIDUNGBIMAT-42\n", encoding="utf-8")
    picture = docmaker.make_png(tmp_path / "picture.png", 64, 64)
    w = docmaker.W_NAMESPACE
    field = (f'<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText '
             f'xml:space="preserve"> INCLUDETEXT "{secret}" </w:instrText></w:r><w:r>'
             '<w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>cached</w:t></w:r><w:r>'
             '<w:fldChar w:fldCharType="end"/></w:r></w:p>')
    docx = docmaker.make_docx(tmp_path / "include.docx", document=(
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
        f"<w:p><w:r><w:t>Tham luận</w:t></w:r></w:p>{field}</w:body></w:document>"))
    normalise(docx, "docx", tmp_path / "include.pdf")
    assert "NOIDUNGBIMAT" not in pdftotext(tmp_path / "include.pdf")
    linked = (
        '<text:section text:name="S1"><text:section-source xlink:type="simple" '
        f'xlink:href="{secret.as_uri()}" text:filter-name="Text"/><text:p>cached</text:p>'
        '</text:section><text:p><draw:frame draw:name="I" svg:width="5cm" svg:height="5cm" '
        f'text:anchor-type="as-char"><draw:image xlink:href="{picture.as_uri()}" '
        'xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame>')
    odt = make_odt(tmp_path / "linked.odt", ["Tham luận", "x"])
    with zipfile.ZipFile(odt) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    content = parts["content.xml"].decode("utf-8").replace(
        'office:version="1.2">',
        'xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
        'office:version="1.2">').replace("<text:p>x", linked, 1)
    with zipfile.ZipFile(odt, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, content if name == "content.xml" else data)
    normalise(odt, "odt", tmp_path / "linked.pdf")
    text = pdftotext(tmp_path / "linked.pdf")
    assert "Tham luận" in text and "NOIDUNGBIMAT" not in text
    with pikepdf.open(tmp_path / "linked.pdf") as pdf:
        assert len(pdf.pages[0].get_images()) == 0


def test_a_conversion_over_the_memory_limit_is_refused_as_such(tmp_path, monkeypatch):
    monkeypatch.setattr(office, "MEMORY_MB", 300)  # LibreOffice needs more to start
    docx = docmaker.make_docx(tmp_path / "paper.docx", [VIETNAMESE])
    with pytest.raises(ConversionError) as caught:
        normalise(docx, "docx", tmp_path / "paper.pdf")
    assert caught.value.code == "memory"
    assert not (tmp_path / "paper.pdf").exists()
    assert str(MESSAGES["memory"])


# -- only http, https and mailto links --------------------------------------------------------

SAFE = ["https://dost.quangngai.gov.vn/", "http://example.org/a", "mailto:vanphong@example.vn"]
UNSAFE = ["javascript:app.alert(1)", " JavaScript:void(0)", "file:///etc/passwd",
          "\\\\server\\share\\paper.docx", "data:text/html;base64,PHNjcmlwdD4=",
          "java\tscript:alert(1)", "paper.pdf"]


def link_pdf(path: Path) -> Path:
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=docmaker.A4)
    rect = Array([10, 10, 50, 50])
    annots = [Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect,
                         A=Dictionary(S=Name.URI, URI=String(uri))) for uri in SAFE + UNSAFE]
    annots.append(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect,
                             A=Dictionary(S=Name.GoToR, F=String("other.pdf"),
                                          D=Array([0, Name.Fit]))))
    annots.append(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect,
                             A=pdf.make_indirect(Dictionary(S=Name.Launch,
                                                            F=String("cmd.exe")))))
    page.obj.Annots = Array([pdf.make_indirect(a) for a in annots])
    pdf.save(path)
    return path


def link_targets(path: Path) -> list[str]:
    found = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", Array()):
                action = annot.get("/A")
                if isinstance(action, Dictionary):
                    found.append(f"{action.get('/S')} {action.get('/URI', action.get('/F', ''))}")
    return found


def test_pdf_keeps_only_http_https_and_mailto_links(tmp_path):
    result = normalise(link_pdf(tmp_path / "links.pdf"), "pdf", tmp_path / "clean.pdf")
    assert link_targets(tmp_path / "clean.pdf") == [f"/URI {uri}" for uri in SAFE]
    assert any(note.code == "removed" and note.params["what"] == "unsafe links"
               for note in result.notes), result.notes
    raw = (tmp_path / "clean.pdf").read_bytes()
    assert b"etc/passwd" not in raw and b"cmd.exe" not in raw


@pytest.mark.skipif(not (CORPUS / "valid" / "poi__56392.docx").is_file(), reason="no corpus")
def test_word_hyperlinks_keep_only_safe_targets(tmp_path):
    """The corpus's LibreOffice-made .docx with its mailto link, given five more links (copies
    of its own hyperlink, so that they look as a word processor writes them)."""
    targets = ["https://dost.quangngai.gov.vn/", "mailto:vanphong@example.vn",
               "file:///etc/passwd", "javascript:alert(1)", "\\\\server\\share\\x.docx"]
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
    docx = tmp_path / "links.docx"
    with zipfile.ZipFile(CORPUS / "valid" / "poi__56392.docx") as source, \
            zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                own = re.search(r'<w:hyperlink r:id="rId2">.*?</w:hyperlink>', text)
                assert own
                more = "".join(own.group(0).replace("rId2", f"rIdL{n}")
                               .replace("klienti@livetelecom.cz", f"Liên kết {n} ")
                               for n in range(len(targets)))
                data = text.replace(own.group(0), more + own.group(0), 1).encode("utf-8")
            elif info.filename == "word/_rels/document.xml.rels":
                relations = "".join(
                    f'<Relationship Id="rIdL{n}" Type="{kind}" Target="{escape(target)}" '
                    'TargetMode="External"/>' for n, target in enumerate(targets))
                data = data.replace(b"</Relationships>",
                                    relations.encode("utf-8") + b"</Relationships>")
            copy.writestr(info, data)
    normalise(docx, "docx", tmp_path / "links.pdf")
    assert sorted(link_targets(tmp_path / "links.pdf")) == [
        "/URI https://dost.quangngai.gov.vn/", "/URI mailto:klienti@livetelecom.cz",
        "/URI mailto:vanphong@example.vn"]
    text = " ".join(pdftotext(tmp_path / "links.pdf").split())
    assert "Liên kết 4" in text  # the text stays, the link goes


# -- fonts embedded at upload -----------------------------------------------------------------


def unembedded_pdf(path: Path) -> Path:
    """A PDF that names Helvetica and Times-Roman without embedding them."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=docmaker.A4)
    fonts = Dictionary(
        F1=pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type1,
                                        BaseFont=Name.Helvetica, Encoding=Name.WinAnsiEncoding)),
        F2=pdf.make_indirect(Dictionary(Type=Name("/Font"), Subtype=Name.Type1,
                                        BaseFont=Name("/Times-Roman"),
                                        Encoding=Name.WinAnsiEncoding)))
    page.obj.Resources = Dictionary(Font=fonts)
    page.obj.Contents = pdf.make_stream(
        b"BT /F1 18 Tf 72 760 Td (Embedded fonts for the printer) Tj ET "
        b"BT /F2 14 Tf 72 730 Td (Times Roman line of the paper) Tj ET")
    pdf.save(path)
    return path


def test_unembedded_fonts_are_embedded_at_upload(tmp_path):
    source = unembedded_pdf(tmp_path / "raw.pdf")
    before = pdffonts(source)
    assert " no " in before  # the "emb" column says no
    result = normalise(source, "pdf", tmp_path / "embedded.pdf")
    after = pdffonts(tmp_path / "embedded.pdf")
    rows_ = [line.split() for line in after.splitlines()[2:] if line.strip()]
    assert len(rows_) == 2 and all(row[-5] == "yes" for row in rows_), after
    text = pdftotext(tmp_path / "embedded.pdf")
    assert "Embedded fonts for the printer" in text and "Times Roman line" in text
    assert result.pages == 1
    assert Note("fonts_embedded", fonts=["Helvetica", "Times-Roman"], more=False) in result.notes


def test_embedding_keeps_rotation_boxes_and_text_position(tmp_path):
    source = unembedded_pdf(tmp_path / "raw.pdf")
    with pikepdf.open(source, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0].obj
        page.MediaBox = Array([100, 200, 695.28, 1041.89])
        page.CropBox = Array([110, 210, 685, 1032])
        page.Rotate = 90
        page.Contents = pdf.make_stream(b"1 0 0 1 100 200 cm " + page.Contents.read_bytes())
        pdf.save(source)
    result = normalise(source, "pdf", tmp_path / "embedded.pdf")
    assert any(note.code == "fonts_embedded" for note in result.notes), result.notes
    with pikepdf.open(tmp_path / "embedded.pdf") as pdf:
        page = pdf.pages[0]
        assert page.rotation == 90
        assert [float(v) for v in page.mediabox] == [100, 200, 695.28, 1041.89]
        assert [float(v) for v in page.cropbox] == [110, 210, 685, 1032]
    before = next(w for w in words(source, 1) if w[0] == "Embedded")
    after = next(w for w in words(tmp_path / "embedded.pdf", 1) if w[0] == "Embedded")
    assert all(abs(a - b) < 1 for a, b in zip(before[1:], after[1:], strict=True))


# -- through the upload page --------------------------------------------------------------------


def test_presenter_uploads_a_pdf_with_unembedded_fonts_and_is_told_in_vietnamese(
        app, client_as, tmp_path):
    client = client_as("presenter")
    data = unembedded_pdf(tmp_path / "raw.pdf").read_bytes()
    with clock.frozen(BEFORE):
        response = upload(client, 2, data, "tham-luan.pdf")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    page = client.get("/papers/2").get_data(as_text=True)
    assert "phông chữ chưa được nhúng trong PDF (Helvetica, Times-Roman) đã được nhúng vào" in page
    (revision,) = rows(app)
    assert revision.normalised_path and revision.normalised_path in stored_files(app)
    stored = Path(app.config["UPLOAD_DIR"]) / revision.normalised_path
    fonts = [line.split() for line in pdffonts(stored).splitlines()[2:] if line.strip()]
    assert fonts and all(row[-5] == "yes" for row in fonts)  # the "emb" column


def test_presenter_uploads_word_97_and_odt(app, client_as, tmp_path):
    if not HELLO_DOC.is_file():
        pytest.skip("no corpus")
    client = client_as("presenter")
    odt = make_odt(tmp_path / "paper.odt", [VIETNAMESE]).read_bytes()
    with clock.frozen(BEFORE):
        first = upload(client, 2, HELLO_DOC.read_bytes(), "Tham luận.doc")
        second = upload(client, 2, odt, "Tham luận.odt")
    assert first.status_code == 302 and second.status_code == 302
    revisions = rows(app)
    assert [(r.file_type, r.stored_path.rsplit(".", 1)[-1]) for r in revisions] == [
        ("doc", "doc"), ("odt", "odt")]
    assert all(r.normalised_path and r.normalised_pages == 1 for r in revisions)


def test_presenter_uploading_a_file_with_macros_is_told_why_in_vietnamese(app, client_as):
    client = client_as("presenter")
    data = docmaker.make_ole2(Path(app.config["UPLOAD_DIR"]).parent / "m.doc",
                              ("WordDocument", "1Table", "Macros", "VBA")).read_bytes()
    with clock.frozen(BEFORE):
        response = upload(client, 2, data, "bai.doc")
    assert response.status_code in (400, 422)
    text = response.get_data(as_text=True)
    assert "Tệp có chứa macro" in text
    assert rows(app) == []
    assert [f for f in stored_files(app) if not f.startswith(".tmp/")] == []


def test_upload_form_offers_word_97_and_odt(client_as):
    with clock.frozen(BEFORE):
        page = client_as("presenter").get("/papers/2").get_data(as_text=True)
    assert ".doc," in page and ".odt" in page
    assert "Tệp tham luận (.docx, .doc, .odt hoặc PDF)" in page
