"""One inspection of a PDF, used by the check of an upload and by its conversion alike.

Limits (pages, page-tree depth, inflated content per page), the visible size and rotation of
each page (one rule: ``page_rotation``), strict inflating of compressed streams, what qpdf
finds, and the facts worth a note (encrypted, signed, XFA form, repaired).
"""

from __future__ import annotations

import math
import re
import tempfile
import warnings
import zlib
from io import StringIO
from pathlib import Path
from typing import Any, Final

import pikepdf

from .notes import Note
from .results import CheckResult, DocumentRefused, PageSize

MAX_PAGES: Final = 5000
MAX_PAGE_TREE_DEPTH: Final = 64
MAX_CONTENT_BYTES_PER_PAGE: Final = 256 * 1024 * 1024
CHUNK: Final = 1 << 20


def inspect_pdf(
    path: Path | str,
    *,
    max_pages: int = MAX_PAGES,
    max_depth: int = MAX_PAGE_TREE_DEPTH,
) -> CheckResult:
    """Check a PDF: its pages, ``page_sizes`` ([width, height, rotation]) and notes.

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


def _inspect_open_pdf(pdf: pikepdf.Pdf, *, max_pages: int, max_depth: int) -> CheckResult:
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
    if repairs:
        _check_repairable(pdf, len(pages), repairs)
    return CheckResult("pdf", len(sizes), sizes, facts(pdf, repaired=bool(repairs)))


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


def _page_size(page: pikepdf.Page, number: int) -> PageSize:
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
    return [round(width, 2), round(height, 2), page_rotation(page)]


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


def page_rotation(page: pikepdf.Page | pikepdf.Dictionary) -> int:
    """The page's /Rotate (inherited, indirect resolved) as 0, 90, 180 or 270; a value that is
    not a multiple of 90 is ignored (0), as viewers do."""
    value = _inherited(page.obj if isinstance(page, pikepdf.Page) else page, "/Rotate")
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


def _inflate_strictly(raw: bytes, number: int, budget: int, *, whole: bool = True) -> int:
    """Inflate ``raw`` (checksum included) within ``budget`` bytes; refuse the file if not.
    ``whole``: a stream that ends before its end is damaged too."""
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
    if whole and not inflater.eof:
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


def facts(pdf: pikepdf.Pdf, *, repaired: bool) -> list[Note]:
    """The notes an open PDF is worth, one per fact; the conversion says the same ones."""
    notes: list[Note] = []
    if pdf.is_encrypted:
        notes.append(Note("encrypted"))  # opens without a password; saved without encryption
    form = pdf.Root.get("/AcroForm")
    if isinstance(form, pikepdf.Dictionary):
        if "/XFA" in form or "/NeedsRendering" in pdf.Root:
            notes.append(Note("xfa_form"))
        flags = form.get("/SigFlags")
        if isinstance(flags, int) and flags & 1:
            notes.append(Note("signed"))
    if repaired:
        notes.append(Note("repaired"))
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



def broken_streams(pdf: pikepdf.Pdf) -> int:
    """How many Flate streams of a repaired PDF fail to inflate strictly (garbled bytes)."""
    broken = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream):
            continue
        filters = obj.get("/Filter")
        first = filters[0] if isinstance(filters, pikepdf.Array) and len(filters) else filters
        if first != pikepdf.Name.FlateDecode:
            continue
        try:
            _inflate_strictly(obj.read_raw_bytes(), 0, 64 * 1024 * 1024, whole=False)
        except DocumentRefused as refused:
            if refused.code == "damaged":
                broken += 1
        except pikepdf.PdfError:
            broken += 1
    return broken


def describe_pdf(path: Path) -> tuple[int, list[PageSize]]:
    """Page count and ``[width, height, rotation]`` of each page's visible box."""
    with pikepdf.open(path) as pdf:
        sizes: list[PageSize] = []
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.cropbox)
            sizes.append([round(abs(x1 - x0), 2), round(abs(y1 - y0), 2), page_rotation(page)])
        return len(sizes), sizes


def unembedded_fonts(pdf: pikepdf.Pdf) -> list[str]:
    """Names of the fonts the pages use without embedding them (Type 3 fonts excepted)."""
    names: dict[str, None] = {}
    seen: set[tuple[int, int]] = set()
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        fonts = resources.get("/Font") if isinstance(resources, pikepdf.Dictionary) else None
        if not isinstance(fonts, pikepdf.Dictionary):
            continue
        for font in fonts.values():
            if not isinstance(font, pikepdf.Dictionary) or font.objgen in seen:
                continue
            if font.is_indirect:
                seen.add(font.objgen)
            if font.get("/Subtype") == pikepdf.Name.Type3:
                continue
            described = font
            descendants = font.get("/DescendantFonts")
            if isinstance(descendants, pikepdf.Array) and len(descendants):
                described = descendants[0]
            descriptor = described.get("/FontDescriptor") if isinstance(
                described, pikepdf.Dictionary) else None
            embedded = isinstance(descriptor, pikepdf.Dictionary) and any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            if not embedded:
                names.setdefault(str(font.get("/BaseFont", "/?"))[1:].split("+")[-1], None)
    return list(names)
