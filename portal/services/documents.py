"""File sniffing and per-format validation of uploaded papers (PDF, Word .docx/.doc, .odt).

A file is judged by its content, never by its name or the MIME type a browser sent. The checks
here run inside a child process with bounded memory and CPU time (see ``docworker``);
``run_checked`` is what the web process calls.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import posixpath
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any, Final

import filetype
import pikepdf
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring
from defusedxml.ElementTree import iterparse as xml_iterparse
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from .errors import InvalidDocument

PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]

# Readers accept junk before the PDF header within the first 1024 bytes.
PDF_HEADER_WINDOW: Final = 1024
OLE2_MAGIC: Final = bytes.fromhex("d0cf11e0a1b11ae1")
ZIP_MAGICS: Final = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODT_TYPE: Final = b"application/vnd.oasis.opendocument.text"
MACRO_CONTENT_TYPES: Final = frozenset({
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
})
# Storages a VBA project lives in, inside a Word 97-2003 file.
OLE_MACRO_STORAGES: Final = ("Macros", "_VBA_PROJECT_CUR", "VBA", "_VBA_PROJECT")

WORD_MAIN_CONTENT_TYPES: Final = frozenset({
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
})

# PDF limits.
MAX_PAGES: Final = 5000
MAX_PAGE_TREE_DEPTH: Final = 64
MAX_CONTENT_BYTES_PER_PAGE: Final = 256 * 1024 * 1024
# DOCX limits (defaults of inspect_docx) and the size below which the ratio is not judged.
MAX_UNPACKED_BYTES: Final = 200 * 1024 * 1024
MAX_RATIO: Final = 100
MAX_MEMBERS: Final = 5000
RATIO_FLOOR_BYTES: Final = 10 * 1024 * 1024
MAX_XML_PART_BYTES: Final = 16 * 1024 * 1024
CHUNK: Final = 1 << 20

# Parts of a Word package that no converter reads for the text; damage there is tolerable.
TOLERABLE_PARTS: Final = re.compile(
    r"^(docProps/|customXml/|word/theme/|word/glossary/|word/printerSettings/|word/fonts/"
    r"|word/(fontTable|webSettings|settings|stylesWithEffects|people|commentsExtended"
    r"|commentsIds|commentsExtensible)\.xml$|word/_rels/(fontTable|settings)\.xml\.rels$)"
)

MESSAGES: dict[str, LazyString] = {
    "empty": _l(
        "The file is empty (0 bytes). Choose the file of your paper again and upload it."
    ),
    "macros": _l(
        "The file contains macros (VBA or Basic programs), which the portal does not accept. "
        "Save your paper as a Word Document (.docx) without macros or as PDF, then upload it "
        "again."
    ),
    "unsupported_type": _l(
        "This file is neither a PDF nor a Word document (.docx, .doc) nor an OpenDocument text "
        "(.odt). Save your paper as .docx or PDF and upload it again."
    ),
    "encrypted": _l(
        "The file is protected by a password. Save it again without a password to open it, "
        "then upload it."
    ),
    "damaged": _l(
        "The file is damaged and cannot be read. Open your paper on your computer, save it "
        "again as .docx or export it as PDF, then upload the new file."
    ),
    "no_pages": _l(
        "The PDF has no pages. Export your paper to PDF again, or upload the Word document "
        "(.docx) instead."
    ),
    "unreadable_page": _l(
        "A page of the PDF cannot be read. Export your paper to PDF again, or upload the Word "
        "document (.docx) instead."
    ),
    "zip_bomb": _l(
        "The Word file unpacks to far more data than a paper needs, so it was not opened. "
        "Remove very large embedded objects, save the document again, then upload it."
    ),
    "too_complex": _l(
        "The file is too complex to be processed safely (for example, too many pages or a "
        "structure nested too deeply). Save it again as PDF with Word's \"Save as PDF\", or "
        "upload the Word document (.docx), then try again."
    ),
    "timeout": _l(
        "Checking the file took too long, so it was stopped. Save your paper again as .docx "
        "or PDF (making large pictures smaller helps), then upload it."
    ),
    "memory": _l(
        "The file needs too much memory to be checked, so it was stopped. Make large pictures "
        "smaller, save your paper again as .docx or PDF, then upload it."
    ),
    # Not the file's fault: the portal's disk is full (callers answer 503, "storage full").
    "storage_full": _l(
        "The portal could not save your file right now (the storage is full or not "
        "writable). Nothing was stored. Please try again later and tell the Office."
    ),
}

log = logging.getLogger(__name__)

# How a full disk shows in an error's text (qpdf: "QPDFSystemError: No space left on device").
NO_SPACE_SIGNS = ("No space left on device", "Disk quota exceeded", "ENOSPC", "EDQUOT")


def is_no_space(error: BaseException | str | None) -> bool:
    """Whether ``error`` (an exception, or its text) means the disk is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error or "")
    return any(sign in text for sign in NO_SPACE_SIGNS)


class DocumentRefused(InvalidDocument):
    """An upload is refused. ``code`` is a key of MESSAGES; ``detail`` is for the logs."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in MESSAGES:
            detail = f"{code}: {detail}"
            code = "damaged"
        super().__init__(MESSAGES[code])
        self.code = code
        self.detail = detail or code

    def __repr__(self) -> str:
        return f"DocumentRefused({self.code!r}, {self.detail!r})"


# --------------------------------------------------------------------------------------------
# Sniffing


def sniff(path: Path | str) -> str:
    """The kind of file by content: "pdf", "docx", "doc", "odt", "empty" or "unknown"."""
    path = Path(path)
    if path.stat().st_size == 0:
        return "empty"
    with path.open("rb") as handle:
        head = handle.read(PDF_HEADER_WINDOW)
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(path)
    if head.startswith(OLE2_MAGIC):
        # A Word 97-2003 file, or a password-protected Office file (refused as such).
        return "doc" if _ole_kind(path) in ("word", "encrypted") else "unknown"
    if b"%PDF-" in head:
        return "pdf"
    return "unknown"


def describe(path: Path | str) -> str:
    """A short description of an unsupported file for the logs (its MIME type if known)."""
    try:
        kind = filetype.guess(str(path))
    except OSError:
        kind = None
    return kind.mime if kind is not None else "unrecognised content"


def _sniff_zip(path: Path) -> str:
    declared = _declared_entries(path)
    if declared is not None and declared > MAX_MEMBERS:
        return _sniff_zip_by_names(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and _read_small(archive, "mimetype", 200).strip() == ODT_TYPE:
                return "odt"
            try:
                main = _main_part_name(archive)
            except DocumentRefused:
                # An unreadable [Content_Types].xml in a package that has a Word body: damaged.
                return "docx" if "word/document.xml" in names else "unknown"
            return "docx" if main is not None else "unknown"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return _sniff_zip_by_names(path)


def _sniff_zip_by_names(path: Path) -> str:
    """For an archive that is not opened: "docx" when its first names are a Word package's.

    Such a file is then refused as damaged (or too complex) rather than as another format.
    """
    with path.open("rb") as handle:
        window = handle.read(CHUNK)
    if b"xl/workbook" in window or b"ppt/presentation" in window:
        return "unknown"
    if b"mimetype" + ODT_TYPE in window[:200]:
        return "odt"
    return "docx" if b"word/" in window or b"[Content_Types].xml" in window else "unknown"


def _ole_kind(path: Path) -> str:
    """Classify an OLE2 compound file by its stream names: word, encrypted, other or unknown."""
    names = {
        "word": "WordDocument".encode("utf-16-le"),
        "encrypted": "EncryptedPackage".encode("utf-16-le"),
        "workbook": "Workbook".encode("utf-16-le"),
        "powerpoint": "PowerPoint Document".encode("utf-16-le"),
    }
    found: set[str] = set()
    overlap = max(len(n) for n in names.values())
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            window = tail + chunk
            found.update(key for key, name in names.items() if name in window)
            tail = window[-overlap:]
    if "word" in found:
        return "word"
    if "encrypted" in found:
        return "encrypted"
    if "workbook" in found or "powerpoint" in found:
        return "other"
    return "unknown"


# --------------------------------------------------------------------------------------------
# PDF


def inspect_pdf(
    path: Path | str,
    *,
    max_pages: int = MAX_PAGES,
    max_depth: int = MAX_PAGE_TREE_DEPTH,
) -> dict[str, Any]:
    """Check a PDF; return ``pages``, ``page_sizes`` ([width, height, rotation]) and ``notes``.

    Sizes are those of the visible area (CropBox, else MediaBox) in points, before rotation.
    """
    path = Path(path)
    pdf = _open_pdf(path)
    try:
        with pdf:
            return _inspect_open_pdf(pdf, max_pages=max_pages, max_depth=max_depth)
    except pikepdf.PdfError as error:
        raise _pdf_structure_error(error) from None
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise DocumentRefused("damaged", f"{type(error).__name__}: {error}") from None


def _inspect_open_pdf(pdf: pikepdf.Pdf, *, max_pages: int, max_depth: int) -> dict[str, Any]:
    notes: list[str] = []
    repairs = pdf.get_warnings()
    _check_page_tree(pdf, max_pages=max_pages, max_depth=max_depth)
    pages = list(pdf.pages)
    repairs += pdf.get_warnings()
    if not pages:
        raise DocumentRefused("no_pages", "the page tree holds no pages")
    sizes = [_page_size(page, number) for number, page in enumerate(pages, start=1)]
    _check_content_compression(pages)
    page_numbers = {page.obj.objgen: number for number, page in enumerate(pages, start=1)}
    _raise_for_problems(_syntax_problems(pdf), page_numbers)
    if pdf.is_encrypted:
        notes.append("The PDF is encrypted but opens without a password.")
    notes.extend(_form_notes(pdf))
    if repairs:
        _check_repairable(pdf, len(pages), repairs)
        notes.append("The PDF was slightly damaged and has been repaired.")
    return {"pages": len(sizes), "page_sizes": sizes, "notes": notes}


def _open_pdf(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path, password="", inherit_page_attributes=False)
    except pikepdf.PasswordError:
        raise _password_problem(path) from None
    except pikepdf.PdfError as error:
        raise _pdf_structure_error(error) from None
    except MemoryError:
        raise
    except (OSError, ValueError, RuntimeError) as error:
        raise DocumentRefused("damaged", f"{type(error).__name__}: {error}") from None


def _pdf_structure_error(error: Exception) -> DocumentRefused:
    text = str(error)
    if "bad_alloc" in text:
        return DocumentRefused("memory", text)
    if "too deeply nested" in text:
        return DocumentRefused("too_complex", text)
    return DocumentRefused("damaged", text)


def _password_problem(path: Path) -> DocumentRefused:
    """Tell a PDF that needs a password from one whose encryption is itself broken.

    qpdf refuses both alike. pypdf is asked whether the empty password opens the file: when it
    does but qpdf cannot decrypt, the encryption settings are invalid and the file is damaged.
    """
    from pypdf import PasswordType, PdfReader

    needs_password = DocumentRefused("encrypted", "the PDF needs a password to open")
    try:
        reader = PdfReader(path)
        if not reader.is_encrypted:
            return DocumentRefused("damaged", "qpdf asks for a password for an unencrypted PDF")
        opened = reader.decrypt("")
    except MemoryError:
        raise
    except Exception:  # pypdf is only a second opinion here
        return needs_password
    if opened == PasswordType.NOT_DECRYPTED:
        return needs_password
    return DocumentRefused(
        "damaged", "invalid encryption settings: the empty password is accepted by pypdf but "
        "qpdf cannot decrypt the file"
    )


def _check_page_tree(pdf: pikepdf.Pdf, *, max_pages: int, max_depth: int) -> None:
    """Walk the page tree before qpdf does, refusing one too deep or with too many pages."""
    try:
        root = pdf.Root.get("/Pages")
    except pikepdf.PdfError as error:
        raise _pdf_structure_error(error) from None
    if not isinstance(root, pikepdf.Dictionary):
        raise DocumentRefused("damaged", "the document has no page tree")
    stack: list[tuple[pikepdf.Object, int]] = [(root, 0)]
    seen: set[tuple[int, int]] = set()
    leaves = 0
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise DocumentRefused("too_complex", f"page tree deeper than {max_depth} levels")
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        kids = node.get("/Kids") if isinstance(node, pikepdf.Dictionary) else None
        if isinstance(kids, pikepdf.Array) and node.get("/Type") != pikepdf.Name.Page:
            stack.extend((kid, depth + 1) for kid in kids)
        else:
            leaves += 1
            if leaves > max_pages:
                raise DocumentRefused("too_complex", f"more than {max_pages} pages")


def _page_size(page: pikepdf.Page, number: int) -> list[float | int]:
    media = _rectangle(_inherited(page.obj, "/MediaBox"))
    if media is None:
        raise DocumentRefused("unreadable_page", f"page {number}: no valid /MediaBox")
    crop = _rectangle(_inherited(page.obj, "/CropBox"))
    x0, y0, x1, y1 = media
    if crop is not None:
        # The visible area is the crop box clipped to the media box.
        left, bottom = max(x0, crop[0]), max(y0, crop[1])
        right, top = min(x1, crop[2]), min(y1, crop[3])
        if right - left >= 1 and top - bottom >= 1:
            x0, y0, x1, y1 = left, bottom, right, top
    width, height = x1 - x0, y1 - y0
    if width < 1 or height < 1:
        raise DocumentRefused("unreadable_page", f"page {number}: size {width} x {height}")
    return [round(width, 2), round(height, 2), _page_rotation(page.obj)]


def _inherited(node: Any, key: str) -> Any:
    """A page attribute, looked up through the page's ancestors (bounded, loop-safe)."""
    for _ in range(MAX_PAGE_TREE_DEPTH + 2):
        if not isinstance(node, pikepdf.Dictionary):
            return None
        if key in node:
            return node.get(key)
        node = node.get("/Parent")
    return None


def _rectangle(value: Any) -> tuple[float, float, float, float] | None:
    """A PDF rectangle normalised to (left, bottom, right, top), or None when malformed."""
    if not isinstance(value, pikepdf.Array) or len(value) != 4:
        return None
    try:
        a, b, c, d = (float(item) for item in value)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(item) for item in (a, b, c, d)):
        return None
    return min(a, c), min(b, d), max(a, c), max(b, d)


def _page_rotation(page: pikepdf.Dictionary) -> int:
    """The page's /Rotate (inherited, indirect resolved), normalised to 0, 90, 180 or 270."""
    value = _inherited(page, "/Rotate")
    try:
        degrees = int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0
    return degrees % 360 if degrees % 90 == 0 else 0


def _content_streams(page: pikepdf.Page) -> list[pikepdf.Stream]:
    contents = page.obj.get("/Contents")
    if isinstance(contents, pikepdf.Stream):
        return [contents]
    if isinstance(contents, pikepdf.Array):
        return [item for item in contents if isinstance(item, pikepdf.Stream)]
    return []


def _check_content_compression(pages: list[pikepdf.Page]) -> None:
    """Inflate each page's compressed content strictly (zlib checksums included).

    qpdf forgives a bad checksum; a corrupt compressed page is refused here.
    """
    checked: set[tuple[int, int]] = set()
    for number, page in enumerate(pages, start=1):
        total = 0
        for stream in _content_streams(page):
            if stream.is_indirect:
                if stream.objgen in checked:
                    continue
                checked.add(stream.objgen)
            filters = stream.get("/Filter")
            if isinstance(filters, pikepdf.Array):
                filters = filters[0] if len(filters) else None
            if filters != pikepdf.Name.FlateDecode:
                continue
            total += _inflate_strictly(stream.read_raw_bytes(), number,
                                       MAX_CONTENT_BYTES_PER_PAGE - total)


def _inflate_strictly(raw: bytes, number: int, budget: int) -> int:
    if not raw.strip():
        return 0
    inflater = zlib.decompressobj()
    produced = 0
    data = raw
    try:
        while data and not inflater.eof:
            produced += len(inflater.decompress(data, CHUNK))
            if produced > budget:
                raise DocumentRefused(
                    "too_complex", f"page {number}: content larger than "
                    f"{MAX_CONTENT_BYTES_PER_PAGE // (1024 * 1024)} MB")
            data = inflater.unconsumed_tail
    except zlib.error as error:
        raise DocumentRefused("damaged", f"page {number}: corrupt compressed content ({error})") \
            from None
    if not inflater.eof:
        raise DocumentRefused("damaged", f"page {number}: compressed content is truncated")
    return produced


def _syntax_problems(pdf: pikepdf.Pdf) -> list[str]:
    """Problems found as ``qpdf --check`` finds them, without those of linearization hints.

    Hints are rebuilt or dropped when the file is rewritten, so their errors do not matter.
    """
    hint_warnings: set[str] = set()
    if pdf.is_linearized:
        try:
            pdf.check_linearization(StringIO())
        except pikepdf.PdfError:
            pass
        hint_warnings = {f"WARNING: {warning}" for warning in pdf.get_warnings()}
    check = getattr(pdf, "check_pdf_syntax", None) or pdf.check
    try:
        with warnings.catch_warnings():
            # Without jbig2dec, JBIG2 pictures are not decoded; pikepdf warns and goes on.
            warnings.filterwarnings("ignore", message=".*missing some specialized decoders")
            problems = list(check())
    except pikepdf.PdfError as error:
        raise _pdf_structure_error(error) from None
    return [problem for problem in problems if problem not in hint_warnings]


def _raise_for_problems(
    problems: list[str], page_numbers: dict[tuple[int, int], int] | None = None
) -> None:
    """Refuse for the first kind of problem found: memory, a page, no pages, or damage."""
    if not problems:
        return
    if any("bad_alloc" in problem for problem in problems):
        raise DocumentRefused("memory", "; ".join(problems[:3]))
    for problem in problems:
        if re.match(r"ERROR: page \d+:", problem):
            raise DocumentRefused("unreadable_page", problem)
        if "does not contain any pages" in problem:
            raise DocumentRefused("no_pages", problem)
        # Warnings met while parsing a page's content name the page object.
        found = re.search(r"page object (\d+) (\d+) stream \d+ \d+ \(content", problem)
        if found and page_numbers is not None:
            number = page_numbers.get((int(found[1]), int(found[2])))
            raise DocumentRefused("unreadable_page", f"page {number or '?'}: {problem}")
    raise DocumentRefused("damaged", "; ".join(problems[:3]))


def _form_notes(pdf: pikepdf.Pdf) -> list[str]:
    notes: list[str] = []
    form = pdf.Root.get("/AcroForm")
    if not isinstance(form, pikepdf.Dictionary):
        return notes
    if "/XFA" in form:
        notes.append("The PDF holds an XFA form; only its printed page content is used.")
    flags = form.get("/SigFlags")
    if isinstance(flags, int) and flags & 1:
        notes.append("The PDF is digitally signed; the signature does not carry over into "
                     "the proceedings.")
    return notes


def _check_repairable(pdf: pikepdf.Pdf, pages: int, repairs: list[str]) -> None:
    """A file qpdf had to repair is kept only if its rewritten copy is clean."""
    with tempfile.TemporaryDirectory(prefix="portal-pdf-") as folder:
        copy = Path(folder) / "repaired.pdf"
        try:
            pdf.save(copy)
            with pikepdf.open(copy) as rewritten:
                problems = rewritten.get_warnings() + _syntax_problems(rewritten)
                count = len(rewritten.pages)
        except pikepdf.PdfError as error:
            raise DocumentRefused("damaged", f"repair failed: {error}") from None
    if problems or count != pages:
        raise DocumentRefused(
            "damaged", "repair failed: " + "; ".join((problems or repairs)[:3]))


# --------------------------------------------------------------------------------------------
# DOCX


def inspect_docx(
    path: Path | str,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
) -> dict[str, Any]:
    """Check a Word package: a sound ZIP within size limits, with a well-formed main part.

    The limits are judged from the central directory before anything is decompressed.
    """
    path = Path(path)
    notes: list[str] = []
    with _open_package(path, max_unpacked_bytes, max_ratio, max_members) as archive:
        main = _main_part_name(archive)
        if main is None:
            raise DocumentRefused("unsupported_type", "a ZIP package without a Word document")
        if main not in archive.NameToInfo:
            raise DocumentRefused("damaged", f"the main part {main} is missing")
        notes.extend(_check_members(archive, main))
        words, pictures = _check_main_part(archive, main)
        notes.extend(_external_relationship_notes(archive))
        if _macro_main_type(archive) or any(
                name.lower().endswith("vbaproject.bin") for name in archive.namelist()):
            raise DocumentRefused("macros", "a Word package with a VBA project")
        if words == 0 and pictures == 0:
            notes.append("The document appears to contain no text.")
    return {"pages": None, "page_sizes": [], "notes": notes}


def _open_package(path: Path, max_unpacked_bytes: int, max_ratio: float,
                  max_members: int) -> zipfile.ZipFile:
    """The ZIP of a Word or OpenDocument file, opened only when its central directory keeps
    within the limits (members, unpacked size, ratio); refused otherwise, nothing inflated."""
    declared = _declared_entries(path)
    if declared is not None and declared > max_members:
        raise DocumentRefused("too_complex", f"{declared} members (limit {max_members})")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise DocumentRefused("damaged", f"not a readable ZIP archive: {error}") from None
    try:
        _check_zip_limits(archive, path, max_unpacked_bytes, max_ratio, max_members)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_zip_limits(
    archive: zipfile.ZipFile, path: Path, max_unpacked: int, max_ratio: float, max_members: int
) -> None:
    members = archive.infolist()
    if len(members) > max_members:
        raise DocumentRefused("too_complex", f"{len(members)} members (limit {max_members})")
    names = [member.filename for member in members]
    if len(set(names)) != len(names):
        raise DocumentRefused("damaged", "the ZIP archive holds two members with the same name")
    unpacked = sum(member.file_size for member in members)
    packed = max(sum(member.compress_size for member in members), 1)
    if unpacked > max_unpacked:
        raise DocumentRefused(
            "zip_bomb", f"unpacks to {unpacked} bytes (limit {max_unpacked})")
    ratio = unpacked / min(packed, path.stat().st_size or 1)
    if unpacked > RATIO_FLOOR_BYTES and ratio > max_ratio:
        raise DocumentRefused(
            "zip_bomb", f"compression ratio {ratio:.0f} (limit {max_ratio}), {unpacked} bytes")
    for member in members:
        if member.flag_bits & 0x1:
            raise DocumentRefused("encrypted", f"ZIP member {member.filename} is encrypted")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DocumentRefused(
                "damaged", f"ZIP member {member.filename} uses compression {member.compress_type}")


def _declared_entries(path: Path) -> int | None:
    """The number of members the end-of-central-directory record declares (ZIP64 aware).

    Read before the archive is opened, so that a huge directory is never loaded.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 65536 - 22))
        tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) < end + 22:
        return None
    count = struct.unpack_from("<H", tail, end + 10)[0]
    if count != 0xFFFF:
        return count
    locator = tail.rfind(b"PK\x06\x07", 0, end)
    record = tail.rfind(b"PK\x06\x06", 0, locator if locator >= 0 else end)
    if record < 0 or len(tail) < record + 40:
        return None
    return int(struct.unpack_from("<Q", tail, record + 32)[0])


def _read_small(archive: zipfile.ZipFile, name: str, limit: int = MAX_XML_PART_BYTES) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise DocumentRefused("too_complex", f"{name} is {info.file_size} bytes")
    with archive.open(info) as handle:
        return handle.read(limit + 1)[:limit]


def _parse_small_xml(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        return xml_fromstring(_read_small(archive, name), forbid_dtd=True)
    except DocumentRefused:
        raise
    except DefusedXmlException as error:
        raise DocumentRefused("damaged", f"{name}: forbidden XML construct ({error!r})") \
            from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError) as error:
        raise DocumentRefused("damaged", f"{name}: {type(error).__name__}: {error}") from None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _main_part_name(archive: zipfile.ZipFile) -> str | None:
    """The member that holds the Word main document, as declared in [Content_Types].xml."""
    if "[Content_Types].xml" not in archive.NameToInfo:
        return None
    types = _parse_small_xml(archive, "[Content_Types].xml")
    for element in types.iter():
        if _local(element.tag) != "Override":
            continue
        if (element.get("ContentType") or "").strip() in WORD_MAIN_CONTENT_TYPES:
            return (element.get("PartName") or "").lstrip("/")
    return None


def _check_members(archive: zipfile.ZipFile, main: str) -> list[str]:
    """Read every member once to verify its CRC; tolerate damage only in parts nobody reads."""
    notes: list[str] = []
    for member in archive.infolist():
        if member.is_dir():
            continue
        try:
            with archive.open(member) as handle:
                while handle.read(CHUNK):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            if member.filename != main and TOLERABLE_PARTS.match(member.filename):
                notes.append(f"A damaged part of the file ({member.filename}) was left out; "
                             "the text is not affected.")
                continue
            raise DocumentRefused(
                "damaged", f"{member.filename}: {type(error).__name__}: {error}") from None
    return notes


def _check_main_part(archive: zipfile.ZipFile, main: str) -> tuple[int, int]:
    """Parse the main document as a stream; return the number of text runs and pictures."""
    words = pictures = 0
    root_seen = body_seen = False
    try:
        with archive.open(main) as handle:
            for event, element in xml_iterparse(
                handle, events=("start", "end"), forbid_dtd=True
            ):
                name = _local(element.tag)
                if event == "start":
                    if not root_seen:
                        root_seen = True
                        if name != "document":
                            raise DocumentRefused("damaged", f"{main}: root element is {name}")
                    body_seen = body_seen or name == "body"
                    continue
                if name == "t" and element.text:
                    words += 1
                elif name in ("drawing", "pict", "object"):
                    pictures += 1
                element.clear()
    except DocumentRefused:
        raise
    except DefusedXmlException as error:
        raise DocumentRefused("damaged", f"{main}: forbidden XML construct ({error!r})") \
            from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError) as error:
        raise DocumentRefused("damaged", f"{main}: {type(error).__name__}: {error}") from None
    if not body_seen:
        raise DocumentRefused("damaged", f"{main}: no document body")
    return words, pictures


def _relationship_parts(archive: zipfile.ZipFile) -> Iterator[str]:
    for name in archive.namelist():
        if name.endswith(".rels") and not TOLERABLE_PARTS.match(name):
            yield name


def _external_relationship_notes(archive: zipfile.ZipFile) -> list[str]:
    """Notes about linked (external) content: it is never fetched, so it is left out."""
    notes: list[str] = []
    for name in _relationship_parts(archive):
        relations = _parse_small_xml(archive, name)
        for relation in relations.iter():
            if _local(relation.tag) != "Relationship":
                continue
            if (relation.get("TargetMode") or "").lower() != "external":
                continue
            kind = (relation.get("Type") or "").rstrip("/").rsplit("/", 1)[-1]
            if kind in ("hyperlink", "attachedTemplate"):
                continue
            target = posixpath.basename((relation.get("Target") or "").rstrip("/"))[:80]
            if kind == "image":
                note = (f"A linked picture ({target}) is not inside the file and was left out. "
                        "Insert the picture itself if it should appear.")
            else:
                note = (f"Linked content ({kind}: {target}) is not inside the file and was "
                        "left out.")
            if note not in notes:
                notes.append(note)
    return notes


def _macro_main_type(archive: zipfile.ZipFile) -> bool:
    if "[Content_Types].xml" not in archive.NameToInfo:
        return False
    types = _parse_small_xml(archive, "[Content_Types].xml")
    return any((element.get("ContentType") or "").strip() in MACRO_CONTENT_TYPES
               for element in types.iter())


# --------------------------------------------------------------------------------------------
# Word 97-2003 (.doc) and OpenDocument text (.odt): LibreOffice reads them; checked here for
# what the portal refuses before any conversion (macros, passwords, broken packages).


def inspect_doc(path: Path | str) -> dict[str, Any]:
    """Check a Word 97-2003 compound file: refused when it carries a VBA project."""
    path = Path(path)
    if _ole_has_storage(path, OLE_MACRO_STORAGES):
        raise DocumentRefused("macros", "a Word 97-2003 file with a VBA project")
    return {"pages": None, "page_sizes": [], "notes": []}


def _ole_has_storage(path: Path, names: tuple[str, ...]) -> bool:
    """Whether a directory entry of the compound file has one of ``names``.

    Directory entries are 128-byte records (sectors start at 512): the UTF-16 name padded to 64
    bytes, then its length in bytes including the terminator. Text that merely contains the word
    is not such a record.
    """
    wanted = {name.encode("utf-16-le") + b"\x00\x00": len(name) * 2 + 2 for name in names}
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            for entry in range(0, len(chunk) - 127, 128):
                record = chunk[entry:entry + 128]
                length = struct.unpack_from("<H", record, 64)[0]
                for encoded, size in wanted.items():
                    if length == size and record.startswith(encoded):
                        return True
    return False


def inspect_odt(path: Path | str) -> dict[str, Any]:
    """Check an OpenDocument text: a sound ZIP within limits, well-formed, without macros."""
    path = Path(path)
    with _open_package(path, MAX_UNPACKED_BYTES, MAX_RATIO, MAX_MEMBERS) as archive:
        names = archive.namelist()
        if "content.xml" not in names:
            raise DocumentRefused("damaged", "the OpenDocument has no content.xml")
        if any(re.match(r"^(Basic/[^/]+/(?!script-lb\.xml$)[^/]+\.xml|Scripts/.+[^/])$", name)
               for name in names):
            raise DocumentRefused("macros", "an OpenDocument with Basic or script macros")
        manifest = "META-INF/manifest.xml"
        if manifest in names and b"encryption-data" in _read_small(archive, manifest):
            raise DocumentRefused("encrypted", "an encrypted OpenDocument")
        _check_members(archive, "content.xml")
        _check_well_formed(archive, "content.xml")
    return {"pages": None, "page_sizes": [], "notes": []}


def _check_well_formed(archive: zipfile.ZipFile, name: str) -> None:
    try:
        with archive.open(name) as handle:
            for _event, element in xml_iterparse(handle, events=("end",), forbid_dtd=True):
                element.clear()
    except DefusedXmlException as error:
        raise DocumentRefused("damaged", f"{name}: forbidden XML construct ({error!r})") \
            from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError) as error:
        raise DocumentRefused("damaged", f"{name}: {type(error).__name__}: {error}") from None


# --------------------------------------------------------------------------------------------
# Dispatch and the parent side of the worker


def inspect(path: Path | str) -> dict[str, Any]:
    """Sniff and check a file; return file_type, pages, page_sizes and notes, or refuse it."""
    path = Path(path)
    kind = sniff(path)
    if kind == "empty":
        raise DocumentRefused("empty", "the file has no bytes")
    if kind == "doc":
        if _ole_kind(path) == "encrypted":
            raise DocumentRefused("encrypted", "a password-protected Office document")
        info = inspect_doc(path)
    elif kind == "pdf":
        info = inspect_pdf(path)
    elif kind == "docx":
        info = inspect_docx(path)
    elif kind == "odt":
        info = inspect_odt(path)
    else:
        raise DocumentRefused("unsupported_type", describe(path))
    return {"file_type": kind, **info}


MEMORY_SIGNS: Final = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")


# What the checking child inherits: never the portal's secrets (SECRET_KEY, DATABASE_URL,
# MAIL_PASSWORD…), since it parses files from outside.
_WORKER_ENV = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH", "FONTCONFIG_PATH",
               "FONTCONFIG_FILE", "XDG_CACHE_HOME", "VIRTUAL_ENV"}


# Wall-clock budgets of the checking child: a PDF is checked (and its fonts embedded) within a
# minute; a Word file LibreOffice can open is given the time a long report needs (see office).
PDF_SECONDS: Final = 60.0
WORD_SECONDS: Final = 330.0


def time_budget(src: Path | str, convert: bool = True) -> float:
    """The wall-clock limit for checking (and converting) ``src``, judged by its content."""
    try:
        kind = sniff(src)
    except OSError:
        return PDF_SECONDS
    return WORD_SECONDS if convert and kind in ("docx", "doc", "odt") else PDF_SECONDS


def run_checked(
    src: Path | str,
    convert_to: Path | str | None = None,
    timeout: float | None = None,
    memory_mb: int = 1536,
) -> dict[str, Any]:
    """Check (and convert) a file in a child process bounded in time and memory.

    Returns the worker's answer (ok is true) or raises DocumentRefused. The child, and any
    process it starts, is killed on timeout; none is left running, and no partial output file
    survives. Without ``timeout``, the limit is ``time_budget(src)``.

    The child is forked from a warm checker (``docworker --serve``, one per web process,
    started on first use with a clean environment), which has the checks imported already;
    the limits (address space, CPU time) are applied in the child after the fork, and the
    wall-clock limit is kept here by killing the child's process group.
    """
    if timeout is None:
        timeout = time_budget(src, convert_to is not None)
    try:
        return _run_in_checker(src, convert_to, timeout, memory_mb)
    finally:
        if convert_to is not None:
            _remove_partial(Path(convert_to))


def _run_in_checker(src: Path | str, convert_to: Path | str | None, timeout: float,
                    memory_mb: int) -> dict[str, Any]:
    request = {
        "src": str(Path(src).resolve()),
        "convert_to": str(Path(convert_to).resolve()) if convert_to is not None else None,
        "memory_mb": int(memory_mb),
        "cpu_seconds": math.ceil(timeout) + 1,
    }
    deadline = time.monotonic() + timeout
    checker = _Checker.take()
    try:
        try:
            checker.send(request)
            started = checker.receive(deadline)
        except (OSError, EOFError, ValueError):
            # A checker that has gone (killed, or its pipe broken): one fresh start.
            checker.close()
            checker = _Checker()
            checker.send(request)
            started = checker.receive(deadline)
        if started is None:
            raise DocumentRefused("timeout", f"no answer within {timeout:g} s")
        child = int(started["pid"])
        try:
            done = checker.receive(deadline)
        except (OSError, EOFError, ValueError) as error:
            _kill_child_group(child)
            raise DocumentRefused("damaged", f"the checker ended: {error}") from None
        if done is None:
            _kill_child_group(child)
            raise DocumentRefused("timeout", f"no answer within {timeout:g} s")
    except BaseException:
        checker.close()  # a request left half-way: this checker is not used again
        raise
    checker.give_back()
    return _read_answer(int(done["returncode"]), str(done.get("stdout", "")).encode(),
                        str(done.get("stderr", "")).encode())


def _kill_child_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _checker_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key in _WORKER_ENV or key.startswith(("PORTAL_DOCWORKER_", "LC_"))}
    env["PORTAL_DOCWORKER_PARENT"] = str(os.getpid())  # it ends if we are killed
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if part)
    return env


def _remove_partial(target: Path) -> None:
    """The converter writes ``.<name>.*.part`` beside its target and renames it (pikepdf
    adds its own ``.pikepdf.<that name>…``); a child killed (timeout, memory) or failing (full
    disk) leaves them: no .part survives its check. The target's name is unique (mkstemp)."""
    try:
        for partial in target.parent.iterdir():
            if f".{target.name}." in partial.name and partial.name != target.name:
                partial.unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove the partial files of %s", target)


class _Checker:
    """One warm checker process (``docworker --serve``) and its pipes; used by one thread at
    a time (a web process with threads starts one per concurrent upload)."""

    _idle: list[_Checker] = []
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.buffer = b""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portal.services.docworker", "--serve"],
            cwd=PROJECT_ROOT, env=_checker_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    @classmethod
    def take(cls) -> _Checker:
        with cls._lock:
            while cls._idle:
                checker = cls._idle.pop()
                if checker.owner == os.getpid() and checker.process.poll() is None:
                    return checker
                checker.close()
        return cls()

    def give_back(self) -> None:
        with self._lock:
            self._idle.append(self)

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The checker's next line as a dict; None when the deadline passes first."""
        assert self.process.stdout is not None
        stream = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([stream], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(stream, 1 << 16)
            if not chunk:
                raise EOFError("the checker closed its output")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        """Kill the checker (and its group) and reap it."""
        if self.owner != os.getpid():
            return  # inherited across a fork: the process that started it ends it
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.returncode is None:
            self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        self.process.wait()


def forget_checker() -> None:
    """After a fork (a new web worker): the parent's idle checkers are not ours to use."""
    with _Checker._lock:
        _Checker._idle = []


def _read_answer(returncode: int, stdout: bytes, stderr: bytes) -> dict[str, Any]:
    answer: dict[str, Any] | None = None
    for line in reversed(stdout.decode("utf-8", "replace").splitlines()):
        if line.strip().startswith("{"):
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            break
    errors = stderr.decode("utf-8", "replace")[-500:]
    if answer is None and is_no_space(errors):
        raise DocumentRefused("storage_full", errors.strip())
    if answer is not None and not answer.get("ok") and is_no_space(answer.get("detail")):
        raise DocumentRefused("storage_full", str(answer.get("detail")))
    if answer is None:
        if returncode == -signal.SIGXCPU:
            raise DocumentRefused("timeout", "CPU time limit reached")
        if returncode == -signal.SIGKILL or any(sign in errors for sign in MEMORY_SIGNS):
            raise DocumentRefused("memory", f"worker ended ({returncode}): {errors.strip()}")
        raise DocumentRefused("damaged", f"worker ended ({returncode}) without an answer: "
                                         f"{errors.strip()}")
    if not answer.get("ok"):
        raise DocumentRefused(str(answer.get("code") or "damaged"), str(answer.get("detail")))
    return answer
