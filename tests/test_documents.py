"""Upload validation: sniffing, PDF and DOCX checks, and the bounded worker process.

Runs against the shared corpus of real documents (skipped with a reason when it is absent)
and against documents made here with ``tests.docmaker``. No Flask app is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pikepdf
import pytest

from portal.services.documents import checker, docx, pdf, worker
from portal.services.documents.check import inspect
from portal.services.documents.notes import Note
from portal.services.documents.results import MESSAGES, CheckResult, DocumentRefused
from portal.services.documents.sniff import sniff
from tests import docmaker
from tests.docmaker import A4, LETTER

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MANIFEST = CORPUS / "MANIFEST.json"
QPDF = shutil.which("qpdf")
needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice (libreoffice-writer-nogui) or pdftotext is not installed")

# What this project chose where the corpus says "either", and the code for each refusal.
EITHER_ACCEPTED = {
    "hostile/pypdf__selenium-pypdf-issue-177.pdf",
    "hostile/qpdf__xref-errors.pdf",
    "hostile/poi__clusterfuzz-testcase-minimized-POIXWPFFuzzer-6733884933668864.docx",
    "hostile/mammoth__external-picture.docx",
}
# The corpus calls this OLE2 file with a .docm name "legacy binary Word; ask for .docx or PDF";
# Word 97-2003 files are converted by LibreOffice now. The rule is by content, not by name: a
# file with a VBA project (or Basic macros) is refused, and this one has none, so it is accepted.
ACCEPTED_DESPITE_THE_CORPUS = {
    "hostile/poi__cpansearch.perl.org_src_tobyink_acme-rundoc-0.001_word-lib_hello_world.docm",
}
KIND_BY_SUFFIX = {".pdf": "pdf", ".docx": "docx", ".docm": "doc", ".doc": "doc", ".odt": "odt"}
REFUSAL_CODES = {
    "tricky/sf__libreoffice-writer-password.pdf": "encrypted",
    "hostile/plumber__empty.pdf": "empty",
    "hostile/qpdf__bad1.pdf": "unsupported_type",
    "hostile/pdfminer__zen_of_python_corrupted.pdf": "damaged",
    "hostile/pdfjs__scan-bad.pdf": "damaged",
    "hostile/qpdf__deep-pages.pdf": "too_complex",
    "hostile/pdfjs__issue19484_2.pdf": "damaged",
    "hostile/poi__truncated62886.docx": "damaged",
    "hostile/poi__clusterfuzz-testcase-minimized-POIXWPFFuzzer-4791943399604224.docx": "damaged",
}
ALL_CODES = {"empty", "macros", "unsupported_type", "encrypted", "damaged", "no_pages",
             "unreadable_page", "zip_bomb", "too_complex", "timeout", "memory", "storage_full"}


def _corpus_rows() -> list[dict]:
    if not MANIFEST.is_file():
        return []
    rows = json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]
    return [row for row in rows if not row["expect"].startswith("not a paper")]


CORPUS_ROWS = _corpus_rows()
needs_corpus = pytest.mark.skipif(
    not CORPUS_ROWS, reason=f"the shared corpus is not checked out beside the repo ({CORPUS})")


def _expected(row: dict) -> str:
    expect = row["expect"]
    if row["dest"] in ACCEPTED_DESPITE_THE_CORPUS:
        return "accept"
    if expect.startswith("either"):
        return "accept" if row["dest"] in EITHER_ACCEPTED else "reject"
    return "accept" if expect == "accept" else "reject"


def _refusal(path: Path) -> DocumentRefused:
    with pytest.raises(DocumentRefused) as caught:
        inspect(path)
    return caught.value


# --------------------------------------------------------------------------------------------
# The shared corpus


@needs_corpus
@pytest.mark.parametrize("row", CORPUS_ROWS, ids=[row["dest"] for row in CORPUS_ROWS])
def test_corpus_outcome(row: dict) -> None:
    path = CORPUS / row["dest"]
    started = time.monotonic()
    if _expected(row) == "accept":
        info = inspect(path)
        assert info.file_type == KIND_BY_SUFFIX[path.suffix]
        if info.file_type == "pdf":
            assert info.pages >= 1
            assert len(info.page_sizes) == info.pages
        else:
            assert info.pages is None
        assert all(isinstance(note, Note) for note in info.notes)
    else:
        refused = _refusal(path)
        assert refused.code == REFUSAL_CODES[row["dest"]], refused.detail
        assert str(MESSAGES[refused.code])
        # The corpus asks that a refusal costs the server at most a few seconds. (Accepted long
        # files such as the 180-page report take longer to check on a busy machine.)
        assert time.monotonic() - started < 5


@needs_corpus
def test_every_corpus_refusal_has_an_expected_code() -> None:
    refused = {row["dest"] for row in CORPUS_ROWS if _expected(row) == "reject"}
    assert refused == set(REFUSAL_CODES)


@needs_corpus
@pytest.mark.skipif(QPDF is None, reason="qpdf is not installed")
@pytest.mark.parametrize("name", sorted(
    row["dest"] for row in CORPUS_ROWS
    if row["dest"].endswith(".pdf") and _expected(row) == "accept"
))
def test_accepted_pdf_rewrites_to_a_file_qpdf_passes(name: str, tmp_path: Path) -> None:
    """What is accepted is later rewritten by pikepdf; that copy must pass ``qpdf --check``."""
    output = tmp_path / "rewritten.pdf"
    with pikepdf.open(CORPUS / name) as pdf:
        pdf.save(output)
    result = subprocess.run([QPDF, "--check", str(output)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_corpus
def test_repaired_pdfs_say_so() -> None:
    for name in ("hostile/pypdf__selenium-pypdf-issue-177.pdf", "hostile/qpdf__xref-errors.pdf"):
        notes = inspect(CORPUS / name).notes
        assert Note("repaired") in notes, name


@needs_corpus
def test_pdf_with_broken_encryption_settings_is_damaged_not_password_protected() -> None:
    refused = _refusal(CORPUS / "hostile/pdfjs__issue19484_2.pdf")
    assert refused.code == "damaged"
    assert "encryption" in refused.detail


@needs_corpus
def test_indirect_rotation_is_resolved() -> None:
    info = inspect(CORPUS / "tricky/pypdf__indirect-rotation.pdf")
    assert info.pages == 5
    assert {tuple(size) for size in info.page_sizes} == {(612.0, 792.0, 0)}


@needs_corpus
@needs_office
def test_docx_with_a_damaged_theme_is_accepted_and_its_text_converts(tmp_path: Path) -> None:
    path = CORPUS / "hostile" / (
        "poi__clusterfuzz-testcase-minimized-POIXWPFFuzzer-6733884933668864.docx")
    answer = checker.run_checked(path, convert_to=tmp_path / "out.pdf")
    assert Note("damaged_part", part="word/theme/theme1.xml") in answer.all_notes
    text = subprocess.run(["pdftotext", str(tmp_path / "out.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Content control within a paragraph" in text


@needs_corpus
def test_external_picture_is_noted_and_never_fetched() -> None:
    info = inspect(CORPUS / "hostile/mammoth__external-picture.docx")
    assert info.notes == [Note("linked_picture", name="tiny-picture.png")]


@needs_corpus
def test_encrypted_pdfs_with_an_empty_password_are_accepted_with_a_note() -> None:
    for name in ("tricky/pypdf__r2-empty-password.pdf", "tricky/pypdf__r6-empty-password.pdf",
                 "tricky/pdfjs__empty_protected.pdf"):
        info = inspect(CORPUS / name)
        assert Note("encrypted") in info.notes, name


# --------------------------------------------------------------------------------------------
# Sniffing


def test_sniff_by_content_not_name(tmp_path: Path) -> None:
    assert sniff(docmaker.make_pdf(tmp_path / "paper.docx")) == "pdf"
    assert sniff(docmaker.make_docx(tmp_path / "paper.pdf")) == "docx"
    assert sniff(docmaker.make_png(tmp_path / "picture.pdf")) == "unknown"
    assert sniff(docmaker.make_ole2(tmp_path / "old.docx", ("WordDocument",))) == "doc"
    assert sniff(docmaker.make_ole2(tmp_path / "other.docx")) == "unknown"
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert sniff(tmp_path / "empty.pdf") == "empty"
    (tmp_path / "text.pdf").write_text("just some text\n")
    assert sniff(tmp_path / "text.pdf") == "unknown"


def test_sniff_allows_junk_before_the_pdf_header(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "junk.pdf", prefix=b"\x00junk from a mail client\r\n")
    assert sniff(path) == "pdf"
    assert inspect(path).pages == 1
    late = tmp_path / "late.pdf"
    late.write_bytes(b" " * 2000 + docmaker.make_pdf(tmp_path / "plain.pdf").read_bytes())
    assert sniff(late) == "unknown"


def test_sniff_zip_kinds(tmp_path: Path) -> None:
    macro = "application/vnd.ms-word.document.macroEnabled.main+xml"
    assert sniff(docmaker.make_docx(tmp_path / "m.docm", main_type=macro)) == "docx"
    assert sniff(docmaker.make_docx(tmp_path / "x.xlsx", main_type=docmaker.XLSX_MAIN_TYPE)) \
        == "unknown"
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert sniff(tmp_path / "plain.zip") == "unknown"
    with zipfile.ZipFile(tmp_path / "text.odt", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    assert sniff(tmp_path / "text.odt") == "odt"
    with zipfile.ZipFile(tmp_path / "sheet.odt", "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert sniff(tmp_path / "sheet.odt") == "unknown"


# --------------------------------------------------------------------------------------------
# PDFs made here


def test_pdf_page_sizes_and_rotation(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "mixed.pdf", [A4, LETTER, (595, 842, 90)],
                             text_per_page=["one", "two", "three"])
    info = inspect(path)
    assert info == CheckResult(
        file_type="pdf",
        pages=3,
        page_sizes=[[595.28, 841.89, 0], [612.0, 792.0, 0], [595.0, 842.0, 90]],
        notes=[],
    )


def test_pdf_inherited_indirect_and_negative_rotation(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "rot.pdf", [A4, A4, A4, A4])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.Root.Pages.Rotate = 180  # inherited by pages without their own /Rotate
        pdf.pages[1].obj.Rotate = pdf.make_indirect(270)
        pdf.pages[2].obj.Rotate = -90
        pdf.pages[3].obj.Rotate = 45  # not a multiple of 90: ignored
        pdf.save(path)
    rotations = [size[2] for size in inspect(path).page_sizes]
    assert rotations == [180, 270, 270, 0]


def test_pdf_crop_box_is_the_visible_size(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "crop.pdf", [A4])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.CropBox = pikepdf.Array([10, 20, 310, 420])
        pdf.save(path)
    assert inspect(path).page_sizes == [[300.0, 400.0, 0]]


@pytest.mark.parametrize("revision", [4, 6])
def test_pdf_needing_a_password_is_refused(tmp_path: Path, revision: int) -> None:
    path = docmaker.make_pdf(tmp_path / "secret.pdf", text_per_page=["secret"],
                             encryption=pikepdf.Encryption(user="secret", owner="o", R=revision))
    refused = _refusal(path)
    assert refused.code == "encrypted"
    assert "password" in str(MESSAGES["encrypted"])


@pytest.mark.parametrize("revision", [4, 6])
def test_pdf_with_an_empty_user_password_is_accepted(tmp_path: Path, revision: int) -> None:
    path = docmaker.make_pdf(tmp_path / "open.pdf", text_per_page=["open"],
                             encryption=pikepdf.Encryption(user="", owner="owner", R=revision))
    info = inspect(path)
    assert info.pages == 1
    assert info.notes == [Note("encrypted")]


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.8, 0.95])
def test_truncated_pdf_is_damaged(tmp_path: Path, fraction: float) -> None:
    whole = docmaker.make_pdf(tmp_path / "whole.pdf", [A4, A4], text_per_page=["a", "b"])
    data = whole.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: int(len(data) * fraction)])
    assert _refusal(cut).code == "damaged"


def test_corrupt_compressed_page_is_damaged(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "zlib.pdf", text_per_page=["checksum"])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        contents = pdf.pages[0].obj.Contents
        raw = bytearray(contents.read_raw_bytes())
        raw[-1] ^= 0xFF  # break the Adler-32 checksum only: qpdf alone would not notice
        contents.write(bytes(raw), filter=pikepdf.Name.FlateDecode)
        pdf.save(path, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    refused = _refusal(path)
    assert refused.code == "damaged"
    assert "page 1" in refused.detail


@pytest.mark.parametrize("content", [b"BT (never closed Tj ET", b"1 2 3 4 re f ) )"])
def test_unreadable_page_is_named(tmp_path: Path, content: bytes) -> None:
    path = docmaker.make_pdf(tmp_path / "page.pdf", [A4, A4, A4], text_per_page=["a", "b", "c"])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[1].obj.Contents = pdf.make_stream(content)
        pdf.save(path)
    refused = _refusal(path)
    assert refused.code == "unreadable_page"
    assert refused.detail.startswith("page 2:")


def test_pdf_without_pages(tmp_path: Path) -> None:
    path = tmp_path / "nopages.pdf"
    pikepdf.new().save(path)
    assert _refusal(path).code == "no_pages"


def test_pdf_page_limit(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "three.pdf", [A4, A4, A4])
    with pytest.raises(DocumentRefused) as caught:
        pdf.inspect_pdf(path, max_pages=2)
    assert caught.value.code == "too_complex"


def test_png_renamed_pdf_is_unsupported(tmp_path: Path) -> None:
    refused = _refusal(docmaker.make_png(tmp_path / "scan.pdf"))
    assert refused.code == "unsupported_type"
    assert "image/png" in refused.detail


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(b"")
    assert _refusal(path).code == "empty"


# --------------------------------------------------------------------------------------------
# Word files made here


def test_minimal_docx_is_accepted(tmp_path: Path) -> None:
    path = docmaker.make_docx(tmp_path / "paper.docx",
                              ["Tham luận", "Giải pháp nâng cao chỉ số cải cách hành chính"])
    info = inspect(path)
    assert (info.file_type, info.pages, info.page_sizes, info.notes) == ("docx", None, [], [])


def test_macro_enabled_docx_is_refused(tmp_path: Path) -> None:
    path = docmaker.make_docx(
        tmp_path / "paper.docm", main_type="application/vnd.ms-word.document.macroEnabled.main+xml",
        extra_parts={"word/vbaProject.bin": b"\x00" * 64})
    assert sniff(path) == "docx"
    assert _refusal(path).code == "macros"
    # The VBA project alone (a .docx content type, renamed) is refused too.
    hidden = docmaker.make_docx(tmp_path / "renamed.docx",
                                extra_parts={"word/vbaProject.bin": b"\x00" * 64})
    assert _refusal(hidden).code == "macros"


def test_zip_bomb_is_refused_quickly(tmp_path: Path) -> None:
    path = docmaker.make_docx_bomb(tmp_path / "bomb.docx", unpacked_mb=300)
    assert path.stat().st_size < 5 * 1024 * 1024
    started = time.monotonic()
    refused = _refusal(path)
    assert refused.code == "zip_bomb"
    assert time.monotonic() - started < 5


def test_high_compression_ratio_is_refused(tmp_path: Path) -> None:
    path = docmaker.make_docx_bomb(tmp_path / "ratio.docx", unpacked_mb=20)
    assert _refusal(path).code == "zip_bomb"
    assert docx.inspect_docx(path, max_ratio=10_000).pages is None


def test_too_many_members(tmp_path: Path) -> None:
    path = docmaker.make_docx(tmp_path / "many.docx",
                              extra_parts={f"customXml/item{i}.xml": "<a/>" for i in range(30)})
    with pytest.raises(DocumentRefused) as caught:
        docx.inspect_docx(path, max_members=10)
    assert caught.value.code == "too_complex"


XXE_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    f'<w:document xmlns:w="{docmaker.W_NAMESPACE}"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r>'
    "</w:p></w:body></w:document>"
)
LAUGHS_DOCUMENT = (
    '<?xml version="1.0"?>\n<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
    + f']>\n<w:document xmlns:w="{docmaker.W_NAMESPACE}"><w:body><w:p><w:r><w:t>&i;</w:t>'
    "</w:r></w:p></w:body></w:document>"
)


@pytest.mark.parametrize("document", [XXE_DOCUMENT, LAUGHS_DOCUMENT], ids=["xxe", "laughs"])
def test_docx_with_entities_never_resolves_them(tmp_path: Path, document: str) -> None:
    path = docmaker.make_docx(tmp_path / "entity.docx", document=document)
    started = time.monotonic()
    refused = _refusal(path)
    assert refused.code == "damaged"
    assert time.monotonic() - started < 5
    secret = Path("/etc/passwd").read_text(errors="replace") if Path("/etc/passwd").exists() \
        else "root:x:0:0"
    first_line = secret.splitlines()[0] if secret else "root:x:0:0"
    assert first_line not in refused.detail
    assert first_line not in str(refused)


def test_xxe_in_content_types_is_never_resolved(tmp_path: Path) -> None:
    types_xml = docmaker.content_types_xml().replace(
        "<Types ", '<!DOCTYPE Types [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Types ', 1)
    path = docmaker.make_docx(tmp_path / "types.docx",
                              extra_parts={"[Content_Types].xml": types_xml})
    assert sniff(path) == "docx"
    assert _refusal(path).code == "damaged"


def _corrupt_stored_member(path: Path, member: str) -> None:
    """Flip a byte inside a stored (uncompressed) member so that its CRC no longer matches."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        assert info.compress_type == zipfile.ZIP_STORED
    data = bytearray(path.read_bytes())
    name_length, extra_length = (int.from_bytes(data[info.header_offset + offset:
                                                     info.header_offset + offset + 2], "little")
                                 for offset in (26, 28))
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.file_size // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _docx_with_stored(path: Path, stored: dict[str, str]) -> Path:
    docmaker.make_docx(path, ["Hello"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as archive:
        for name, text in stored.items():
            archive.writestr(name, text)
    return path


def test_bad_crc_in_theme_is_tolerated_with_a_note(tmp_path: Path) -> None:
    path = _docx_with_stored(tmp_path / "theme.docx",
                             {"word/theme/theme1.xml": "<a:theme>" + "x" * 200 + "</a:theme>"})
    _corrupt_stored_member(path, "word/theme/theme1.xml")
    info = inspect(path)
    assert info.notes == [Note("damaged_part", part="word/theme/theme1.xml")]


def test_bad_crc_in_the_main_document_is_damaged(tmp_path: Path) -> None:
    path = tmp_path / "main.docx"
    docmaker.make_docx(path, ["Hello"])
    document = docmaker.document_xml(["Hello world " * 20])
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp_path / "stored.docx", "w") as copy:
        for item in source.infolist():
            if item.filename == "word/document.xml":
                copy.writestr(item.filename, document, zipfile.ZIP_STORED)
            else:
                copy.writestr(item.filename, source.read(item), zipfile.ZIP_DEFLATED)
    _corrupt_stored_member(tmp_path / "stored.docx", "word/document.xml")
    refused = _refusal(tmp_path / "stored.docx")
    assert refused.code == "damaged"
    assert "word/document.xml" in refused.detail


def test_external_relationships(tmp_path: Path) -> None:
    path = docmaker.make_docx(tmp_path / "links.docx", document_rels=[
        ("rId1", docmaker.IMAGE_REL, "http://example.invalid/logo.png", True),
        ("rId2", docmaker.R_NAMESPACE + "/hyperlink", "https://example.invalid/", True),
        ("rId3", docmaker.IMAGE_REL, "media/image1.png", False),
    ])
    assert inspect(path).notes == [Note("linked_picture", name="logo.png")]


def test_docx_structure_errors(tmp_path: Path) -> None:
    no_body = docmaker.make_docx(
        tmp_path / "nobody.docx",
        document=f'<w:document xmlns:w="{docmaker.W_NAMESPACE}"></w:document>')
    assert _refusal(no_body).code == "damaged"
    wrong_root = docmaker.make_docx(tmp_path / "root.docx", document="<html><body/></html>")
    assert _refusal(wrong_root).code == "damaged"
    broken_xml = docmaker.make_docx(tmp_path / "xml.docx", document="<w:document><w:body>")
    assert _refusal(broken_xml).code == "damaged"
    missing = docmaker.make_docx(tmp_path / "missing.docx")
    with zipfile.ZipFile(missing) as source, zipfile.ZipFile(tmp_path / "m2.docx", "w") as copy:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                copy.writestr(item, source.read(item))
    assert _refusal(tmp_path / "m2.docx").code == "damaged"


def test_truncated_docx_is_damaged(tmp_path: Path) -> None:
    whole = docmaker.make_docx(tmp_path / "whole.docx", ["Hello"] * 50)
    cut = tmp_path / "cut.docx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert sniff(cut) == "docx"
    assert _refusal(cut).code == "damaged"


@pytest.mark.parametrize(("streams", "code"), [
    ((), "unsupported_type"),
    (("WordDocument", "1Table", "Macros", "VBA"), "macros"),
    (("WordDocument", "1Table", "_VBA_PROJECT_CUR"), "macros"),
    (("EncryptionInfo", "EncryptedPackage"), "encrypted"),
    (("Workbook",), "unsupported_type"),
])
def test_ole2_files(tmp_path: Path, streams: tuple[str, ...], code: str) -> None:
    assert _refusal(docmaker.make_ole2(tmp_path / "paper.docx", streams)).code == code


def test_other_zips_are_unsupported(tmp_path: Path) -> None:
    xlsx = docmaker.make_docx(tmp_path / "sheet.docx", main_type=docmaker.XLSX_MAIN_TYPE)
    assert _refusal(xlsx).code == "unsupported_type"
    with zipfile.ZipFile(tmp_path / "plain.docx", "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert _refusal(tmp_path / "plain.docx").code == "unsupported_type"


# --------------------------------------------------------------------------------------------
# Messages and the exception


def test_every_code_has_a_message_that_says_what_to_do() -> None:
    assert set(MESSAGES) == ALL_CODES
    for code, message in MESSAGES.items():
        text = str(message)
        assert text.endswith("."), code
        assert len(text.split(". ")) >= 2 or "," in text, code


def test_unknown_code_becomes_damaged() -> None:
    refused = DocumentRefused("mystery", "something odd")
    assert refused.code == "damaged"
    assert "mystery" in refused.detail
    assert str(refused) == str(MESSAGES["damaged"])


# --------------------------------------------------------------------------------------------
# The worker: in process (conversion contract) and as a bounded child process


def test_worker_checks_without_converting(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "paper.pdf")
    answer = worker.work(path, None)
    assert answer["ok"] is True
    assert answer["result"]["converted"] is None
    assert answer["result"]["pages"] == 1
    assert not (tmp_path / "out.pdf").exists()


def test_worker_converts_and_answers_json_once(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "paper.pdf", [A4, A4], text_per_page=["a", "b"])
    answer = worker.work(path, tmp_path / "out.pdf")
    assert answer["ok"] is True
    result = json.loads(json.dumps(answer["result"]))  # what crosses the pipe
    assert result["converted"]["pages"] == 2
    assert result["converted"]["page_sizes"] == [[595.28, 841.89, 0]] * 2
    with pikepdf.open(tmp_path / "out.pdf") as converted:
        assert len(converted.pages) == 2


def test_worker_reports_refusals_and_surprises(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert worker.work(empty, None) == {"ok": False, "code": "empty",
                                           "detail": "the file has no bytes"}
    missing = worker.work(tmp_path / "missing.pdf", None)
    assert missing["ok"] is False and missing["code"] == "damaged"
    assert "FileNotFoundError" in missing["detail"]


def _workers_running(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "portal.services.documents.worker" in command and marker in command:
                found.append(command)
    return found


def test_run_checked_accepts_and_refuses(tmp_path: Path) -> None:
    path = docmaker.make_pdf(tmp_path / "paper.pdf", [A4, (595, 842, 90)])
    answer = checker.run_checked(path)
    assert answer.file_type == "pdf"
    assert answer.page_sizes == [[595.28, 841.89, 0], [595.0, 842.0, 90]]
    with pytest.raises(DocumentRefused) as caught:
        checker.run_checked(docmaker.make_ole2(tmp_path / "old.doc",
                                                 ("WordDocument", "1Table", "Macros", "VBA")))
    assert caught.value.code == "macros"


@pytest.fixture(scope="module")
def slow_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real input that takes seconds and a few hundred MB to check: one huge page."""
    folder = tmp_path_factory.mktemp("slow")
    return docmaker.make_pdf_with_large_content(folder / "huge-page.pdf", 200)


def test_run_checked_timeout_kills_the_worker(slow_pdf: Path) -> None:
    started = time.monotonic()
    with pytest.raises(DocumentRefused) as caught:
        checker.run_checked(slow_pdf, timeout=0.8)
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 5
    assert _workers_running(str(slow_pdf)) == []


def test_run_checked_memory_limit(slow_pdf: Path) -> None:
    with pytest.raises(DocumentRefused) as caught:
        checker.run_checked(slow_pdf, memory_mb=250)
    assert caught.value.code == "memory"
    assert _workers_running(str(slow_pdf)) == []


def test_worker_cpu_limit_answers_timeout(slow_pdf: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))
    result = subprocess.run(
        [sys.executable, "-m", "portal.services.documents.worker", str(slow_pdf),
         "--cpu-seconds", "1"],
        capture_output=True, text=True, timeout=30, cwd=root, env=env)
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"ok": False, "code": "timeout", "detail": "CPU time limit reached"}


def test_answer_without_json_is_mapped() -> None:
    with pytest.raises(DocumentRefused) as caught:
        checker._read_answer(-9, b"", b"")
    assert caught.value.code == "memory"
    with pytest.raises(DocumentRefused) as caught:
        checker._read_answer(1, b"", b"Traceback...\nMemoryError\n")
    assert caught.value.code == "memory"
    with pytest.raises(DocumentRefused) as caught:
        checker._read_answer(-11, b"", b"Segmentation fault")
    assert caught.value.code == "damaged"
    with pytest.raises(DocumentRefused) as caught:
        checker._read_answer(0, b'{"ok": false, "code": "zip_bomb", "detail": "x"}\n', b"")
    assert caught.value.code == "zip_bomb"
