"""Normalise one uploaded paper (Word or PDF) into the PDF the booklet is built from.

Runs once per accepted revision, at upload time, in the bounded checking child; the booklet
build then only merges these results.

* A Word paper (.docx, .doc, .odt) is converted by LibreOffice in headless mode (``office``),
  which keeps its page size, margins, alignment, tables, page breaks, pictures, footnotes,
  headers and footers; Times New Roman and Arial resolve to the metric-compatible Liberation
  fonts. Its text is normalised to Unicode NFC first.
* A PDF is kept as it is, minus JavaScript, dangerous actions, embedded files and XFA, and saved
  without encryption; fonts it uses without embedding them are embedded by Ghostscript
  (``fontembed``).
* In every normalised paper only ``http``, ``https`` and ``mailto`` links survive.

Nothing here ever fetches a URL or reads a file named inside a document. ``make_url_fetcher``
is the locked WeasyPrint fetcher the booklet's own pages use.

Results are cacheable by ``(sha256 of the upload, CONVERTER_VERSION)``.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pikepdf
from pikepdf import Array, Dictionary, Name

from . import fontembed, office

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PDF_TEMPLATE_DIR = PROJECT_ROOT / "templates" / "pdf"
FONT_DIR = PROJECT_ROOT / "portal" / "static" / "fonts" / "liberation"

# Bump when the conversion code changes in a way that changes its output.
_CODE_VERSION = "3-libreoffice-prepress-fonts"

_MAX_XML_SCAN = 40 * 1024 * 1024
_WORD_KINDS = frozenset({"docx", "doc", "odt"})

# Fonts whose metric-compatible face is installed (fonts-liberation2), or symbol fonts used only
# for bullets.
_SAME_FONTS = frozenset({
    "times new roman", "times", "liberation serif", "tinos", "arial", "helvetica",
    "liberation sans", "arimo", "courier new", "courier", "liberation mono", "cousine",
})
_SYMBOL_FONTS = frozenset({"symbol", "wingdings", "wingdings 2", "wingdings 3", "webdings"})
_LEGACY_VN_FONT = re.compile(r"^(\.vn|vni[-_ ])", re.IGNORECASE)

# PDF actions removed from uploaded PDFs (URI links and in-document jumps stay).
_BAD_ACTIONS = frozenset(
    {
        "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
        "/Rendition", "/Movie", "/Sound", "/RichMediaExecute",
    }
)
_DROPPED_ANNOTATIONS = frozenset({"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia"})


def _converter_version() -> str:
    digest = hashlib.sha256()
    digest.update(_CODE_VERSION.encode())
    digest.update(office.REGISTRY.encode())
    return digest.hexdigest()[:16]


CONVERTER_VERSION: str = _converter_version()


class ConversionError(Exception):
    """The paper cannot be turned into a booklet PDF; the message says why, in English.

    ``code`` is the refusal code (see ``documents.MESSAGES``) the presenter is shown.
    """

    def __init__(self, message: str, code: str = "damaged") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class ConversionResult:
    """What a normalised paper looks like: its pages and notes for the Office."""

    pages: int
    page_sizes: list[list[float]]  # [width_pt, height_pt, rotation_degrees] per page
    notes: list[str] = field(default_factory=list)


# -- the URL fetcher ------------------------------------------------------------------------


def _allowed_roots() -> tuple[Path, ...]:
    return (FONT_DIR.resolve(), PDF_TEMPLATE_DIR.resolve())


def make_url_fetcher() -> URLFetcher:
    """A WeasyPrint fetcher that serves ``data:`` URLs and the project's fonts and PDF
    templates, and refuses everything else (network, other local files)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = _allowed_roots()

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if path.is_file() and any(path.is_relative_to(root) for root in roots):
                    content_type = mimetypes.guess_type(path.name)[0]
                    if path.suffix == ".ttf":
                        content_type = "font/ttf"
                    return URLFetcherResponse(
                        path.as_uri(),
                        body=path.read_bytes(),
                        headers={"Content-Type": content_type or "application/octet-stream"},
                    )
            raise ValueError(f"refused to fetch {url[:80]!r}")

    return LocalOnlyFetcher(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)


# -- entry point ----------------------------------------------------------------------------


def normalise(src: Path, file_type: str, dst: Path) -> ConversionResult:
    """Convert ``src`` (``"docx"``, ``"doc"``, ``"odt"`` or ``"pdf"``) into the PDF ``dst``.

    Raises ``ConversionError`` with a plain message when the paper cannot be used.
    ``dst`` is written through a temporary file and renamed, so it is never half written.
    """
    src, dst = Path(src), Path(dst)
    kind = file_type.lower().lstrip(".")
    tmp = temporary_path(dst)
    notes: list[str] = []
    try:
        if kind in _WORD_KINDS:
            _word_to_pdf(src, kind, tmp, notes)
        elif kind == "pdf":
            _clean_pdf(src, tmp, notes)
        else:
            raise ValueError(f"unknown file type {file_type!r}")
        pages, sizes = describe_pdf(tmp)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return ConversionResult(pages=pages, page_sizes=sizes, notes=_dedupe(notes))


def temporary_path(final: Path) -> Path:
    """A new, empty file beside ``final`` (same file system, so a rename is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(handle)
    return Path(name)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: a reader sees the old
    file or the whole new one, never a part."""
    tmp = temporary_path(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def describe_pdf(path: Path) -> tuple[int, list[list[float]]]:
    """Page count and ``[width, height, rotation]`` of each page's visible box."""
    with pikepdf.open(path) as pdf:
        sizes = []
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.cropbox)
            sizes.append([round(abs(x1 - x0), 2), round(abs(y1 - y0), 2), page_rotation(page)])
        return len(sizes), sizes


def page_rotation(page: pikepdf.Page) -> int:
    """The page's /Rotate (inherited or indirect) as 0, 90, 180 or 270."""
    try:
        degrees = int(page.rotation)
    except (TypeError, ValueError, pikepdf.PdfError):
        return 0
    return (round(degrees / 90) * 90) % 360


def _dedupe(notes: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for note in notes:
        seen.setdefault(note.strip(), None)
    return [note for note in seen if note]


# -- DOCX -----------------------------------------------------------------------------------


def _word_to_pdf(src: Path, kind: str, dst: Path, notes: list[str]) -> None:
    if kind == "docx":
        try:
            with zipfile.ZipFile(src) as archive:
                notes.extend(_docx_font_notes(archive))
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise ConversionError(f"not a valid Word (.docx) file: {error}") from error
    raw = temporary_path(dst)
    try:
        try:
            office.convert_to_pdf(src, kind, raw)
        except office.OfficeFailed as failed:
            raise ConversionError(failed.detail, failed.code) from None
        _clean_pdf(raw, dst, notes)
    finally:
        raw.unlink(missing_ok=True)


def _read_part(archive: zipfile.ZipFile, name: str) -> str:
    try:
        with archive.open(name) as part:
            return part.read(_MAX_XML_SCAN).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
        return ""  # a missing or damaged part (inspect judged whether it matters)


_RFONTS = re.compile(r"<w:rFonts\b([^>]*)>")
_FONT_ATTR = re.compile(r'w:(ascii|hAnsi)(Theme)?="([^"]+)"')
_THEME_FONT = re.compile(r"<a:(minor|major)Font>\s*<a:latin\s+typeface=\"([^\"]*)\"")
_STYLE_BLOCK = re.compile(r"<w:style\b([^>]*)>(.*?)</w:style>", re.DOTALL)
_STYLE_ID = re.compile(r'w:styleId="([^"]+)"')
_BASED_ON = re.compile(r'<w:basedOn w:val="([^"]+)"')
_STYLE_USE = re.compile(r'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"')
_DOC_DEFAULTS = re.compile(r"<w:docDefaults>(.*?)</w:docDefaults>", re.DOTALL)
_TIMES = re.compile(r"^times([ -]new[ -]roman)?([ -,]*(bold|italic|roman|regular|ps|psmt|mt))*$")


def _docx_font_notes(archive: zipfile.ZipFile) -> list[str]:
    """Notes naming the fonts the document uses that are not installed, with their stand-ins.

    Counts fonts set directly in the text, in the document defaults, and in the styles the
    text uses (with the styles they are based on); fonts of unused styles do not count.
    """
    theme = _read_part(archive, "word/theme/theme1.xml")
    theme_fonts = {kind: face for kind, face in _THEME_FONT.findall(theme)}
    document = _read_part(archive, "word/document.xml")
    styles_xml = _read_part(archive, "word/styles.xml")

    styles: dict[str, tuple[str, str | None]] = {}
    pending = set(_STYLE_USE.findall(document))
    for attributes, body in _STYLE_BLOCK.findall(styles_xml):
        style_id = _STYLE_ID.search(attributes)
        if not style_id:
            continue
        based_on = _BASED_ON.search(body)
        styles[style_id[1]] = (body, based_on[1] if based_on else None)
        if 'w:default="1"' in attributes:
            pending.add(style_id[1])
    used_styles: set[str] = set()
    while pending:
        style_id = pending.pop()
        if style_id in used_styles or style_id not in styles:
            continue
        used_styles.add(style_id)
        parent = styles[style_id][1]
        if parent:
            pending.add(parent)

    sources = [document, *(styles[style_id][0] for style_id in used_styles)]
    sources.extend(_DOC_DEFAULTS.findall(styles_xml))
    used: Counter[str] = Counter()
    for source in sources:
        for attributes in _RFONTS.findall(source):
            for _slot, is_theme, value in _FONT_ATTR.findall(attributes):
                name = theme_fonts.get(value[:5], "") if is_theme else value.split(";")[0]
                if name.strip():
                    used[name.strip()] += 1

    legacy = sorted(name for name in used if _LEGACY_VN_FONT.match(name))
    other = [
        name for name, _ in used.most_common()
        if name not in legacy
        and name.lower() not in _SAME_FONTS | _SYMBOL_FONTS
        and not _TIMES.match(name.lower())
    ]
    notes = []
    if legacy and _looks_legacy_encoded(document):
        notes.append(
            f"text typed in an old Vietnamese encoding ({', '.join(legacy[:3])}) comes out"
            " garbled; ask for a Unicode version"
        )
    substituted = [
        f"{name} → {stand_in}" for name in other[:4]
        if (stand_in := _installed_face(name)) and stand_in.lower() != name.lower()
    ]
    if substituted:
        notes.append("font substituted: " + ", ".join(substituted)
                     + (", …" if len(other) > 4 else ""))
    return notes


def _installed_face(family: str) -> str | None:
    """The family fontconfig gives LibreOffice for ``family`` (None when it cannot tell)."""
    tool = shutil.which("fc-match")
    if tool is None or not family.isprintable():
        return None
    try:
        found = subprocess.run([tool, "-f", "%{family[0]}", f"{family[:80]}"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None if found.returncode == 0 else None


# Letters that TCVN3 (ABC) and VNI text shows in place of Vietnamese letters when read as
# Unicode; none of them occurs in Vietnamese written in Unicode.
_LEGACY_MARKS = frozenset("¸µ¶·¹¨ª¬\u00ad®øöäëïñûü")
_WORD_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")


def _looks_legacy_encoded(document_xml: str) -> bool:
    text = "".join(_WORD_TEXT.findall(document_xml))
    marks = sum(1 for char in text if char in _LEGACY_MARKS)
    return marks >= 10 and marks * 50 >= sum(1 for char in text if not char.isascii())


# -- PDF ------------------------------------------------------------------------------------


def _clean_pdf(src: Path, dst: Path, notes: list[str]) -> None:
    try:
        pdf = pikepdf.open(src, password="")
    except pikepdf.PasswordError as error:
        raise ConversionError("the PDF needs a password to open") from error
    except (pikepdf.PdfError, OSError, ValueError, RecursionError) as error:
        raise ConversionError(f"the PDF cannot be read: {_short(error)}") from error
    with pdf:
        repaired = bool(pdf.get_warnings())
        try:
            count = len(pdf.pages)
        except (pikepdf.PdfError, RecursionError) as error:
            raise ConversionError(f"the PDF's page tree cannot be read: {_short(error)}") from error
        if count == 0:
            raise ConversionError("the PDF has no pages")
        if repaired and _broken_streams(pdf):
            raise ConversionError("the PDF is damaged: some pages or pictures cannot be read")
        if pdf.is_encrypted:
            notes.append("encryption removed")
        unembedded = _unembedded_fonts(pdf)
        removed = sanitise_pdf(pdf)
        for what, number in sorted(removed.items()):
            notes.append(f"{what} removed" if number == 1 else f"{what} removed ({number})")
        acroform = pdf.Root.get("/AcroForm")
        if isinstance(acroform, Dictionary):
            sig_flags = acroform.get("/SigFlags")
            if sig_flags is not None and int(sig_flags) & 1:
                notes.append("digitally signed: the signature does not carry over to the booklet")
            if acroform.get("/NeedAppearances"):
                with contextlib.suppress(pikepdf.PdfError):
                    pdf.generate_appearance_streams()
        try:
            pdf.save(
                dst,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                compress_streams=True,
                encryption=False,
                deterministic_id=True,
            )
        except (pikepdf.PdfError, OSError, RecursionError) as error:
            raise ConversionError(f"the PDF cannot be rewritten: {_short(error)}") from error
        warnings = pdf.get_warnings()
    damaged = [w for w in warnings if "stream" in w.lower() and "decod" in w.lower()]
    if damaged:
        raise ConversionError("the PDF has damaged content that cannot be read")
    if repaired or warnings:
        notes.append("the PDF had structural errors and was repaired")
    if unembedded:
        shown = ", ".join(unembedded[:4]) + (", …" if len(unembedded) > 4 else "")
        if _embed_fonts(dst, count):
            notes.append(f"fonts not embedded in the PDF ({shown}) were embedded")
        else:
            notes.append(f"fonts not embedded in the PDF ({shown}): printers substitute them")


def _embed_fonts(path: Path, pages: int) -> bool:
    """Replace the PDF at ``path`` by a copy with every font embedded, if that succeeds
    (same page count, no font left unembedded); links and actions cleaned again.

    Ghostscript turns a page's /Rotate into its content and moves the page's origin to 0 0, so
    the rotation is taken off before and put back after, and the boxes are restored (the
    content shifted back to where it was), so that the page reads and stamps as before.
    """
    unrotated, distilled, final = (temporary_path(path) for _ in range(3))
    try:
        with pikepdf.open(path) as original:
            geometry = [_page_geometry(page) for page in original.pages]
            for page in original.pages:
                page.obj.Rotate = 0
            original.save(unrotated)
        if not fontembed.embed_fonts(unrotated, distilled):
            return False
        with pikepdf.open(distilled) as pdf:
            if len(pdf.pages) != pages or _unembedded_fonts(pdf):
                return False
            for page, (boxes, rotation) in zip(pdf.pages, geometry, strict=True):
                _restore_geometry(pdf, page, boxes, rotation)
            sanitise_pdf(pdf)
            pdf.save(final, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                     compress_streams=True, encryption=False, deterministic_id=True)
        os.replace(final, path)
        return True
    except (pikepdf.PdfError, OSError, RecursionError, ValueError):
        return False
    finally:
        for temporary in (unrotated, distilled, final):
            temporary.unlink(missing_ok=True)


_BOXES = ("/MediaBox", "/CropBox", "/TrimBox", "/BleedBox", "/ArtBox")


def _page_geometry(page: pikepdf.Page) -> tuple[dict[str, list[float]], int]:
    boxes = {
        "/MediaBox": [float(v) for v in page.mediabox],
        "/CropBox": [float(v) for v in page.cropbox],
        "/TrimBox": [float(v) for v in page.trimbox],
        "/BleedBox": [float(v) for v in page.bleedbox],
        "/ArtBox": [float(v) for v in page.artbox],
    }
    return boxes, page_rotation(page)


def _restore_geometry(pdf: pikepdf.Pdf, page: pikepdf.Page, boxes: dict[str, list[float]],
                      rotation: int) -> None:
    media = boxes["/MediaBox"]
    x0, y0 = min(media[0], media[2]), min(media[1], media[3])
    if x0 or y0:
        page.contents_add(pdf.make_stream(f"1 0 0 1 {x0:g} {y0:g} cm\n".encode()),
                          prepend=True)
        for annotation in page.obj.get("/Annots", Array()):
            rect = annotation.get("/Rect") if isinstance(annotation, Dictionary) else None
            if isinstance(rect, Array) and len(rect) == 4:
                annotation.Rect = Array([float(rect[0]) + x0, float(rect[1]) + y0,
                                         float(rect[2]) + x0, float(rect[3]) + y0])
    for key in _BOXES:
        page.obj[key] = Array(boxes[key])
    if rotation:
        page.obj.Rotate = rotation
    elif "/Rotate" in page.obj:
        del page.obj["/Rotate"]


def _unembedded_fonts(pdf: pikepdf.Pdf) -> list[str]:
    """Names of the fonts the pages use without embedding them (Type 3 fonts excepted)."""
    names: dict[str, None] = {}
    seen: set[tuple[int, int]] = set()
    for page in pdf.pages:
        resources = page.obj.get("/Resources")
        fonts = resources.get("/Font") if isinstance(resources, Dictionary) else None
        if not isinstance(fonts, Dictionary):
            continue
        for font in fonts.values():
            if not isinstance(font, Dictionary) or font.objgen in seen:
                continue
            if font.is_indirect:
                seen.add(font.objgen)
            if font.get("/Subtype") == Name.Type3:
                continue
            described = font
            descendants = font.get("/DescendantFonts")
            if isinstance(descendants, Array) and len(descendants):
                described = descendants[0]
            descriptor = described.get("/FontDescriptor") if isinstance(
                described, Dictionary) else None
            embedded = isinstance(descriptor, Dictionary) and any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            if not embedded:
                names.setdefault(str(font.get("/BaseFont", "/?"))[1:].split("+")[-1], None)
    return list(names)


def _broken_streams(pdf: pikepdf.Pdf) -> int:
    """How many Flate streams of a repaired PDF fail to inflate (garbled bytes)."""
    broken = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream):
            continue
        filters = obj.get("/Filter")
        first = filters[0] if isinstance(filters, Array) and len(filters) else filters
        if first != Name.FlateDecode:
            continue
        try:
            zlib.decompressobj().decompress(obj.read_raw_bytes(), 64 * 1024 * 1024)
        except (zlib.error, pikepdf.PdfError):
            broken += 1
    return broken


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]


def sanitise_pdf(pdf: pikepdf.Pdf) -> Counter[str]:
    """Remove JavaScript, launch/submit/import/remote actions, links other than http, https
    and mailto, embedded files, media, XFA and open actions from ``pdf`` in place. Returns what
    was removed, counted."""
    removed: Counter[str] = Counter()
    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key, label in (("/JavaScript", "JavaScript"), ("/EmbeddedFiles", "embedded files")):
            if key in names:
                del names[key]
                removed[label] += 1
    if "/OpenAction" in root:  # a page to open at is harmless; a script is not
        label = _action_kind(root.get("/OpenAction"))
        if label:
            removed[label] += 1
        del root["/OpenAction"]
    for key, label in (
        ("/AA", "automatic actions"), ("/Collection", "portfolio view"),
        ("/AF", "embedded files"), ("/NeedsRendering", "XFA form"),
    ):
        if key in root:
            del root[key]
            removed[label] += 1
    acroform = root.get("/AcroForm")
    if isinstance(acroform, Dictionary) and "/XFA" in acroform:
        del acroform["/XFA"]
        removed["XFA form"] += 1
    for obj in pdf.objects:
        if isinstance(obj, (Dictionary, pikepdf.Stream)):
            _clean_dictionary(obj, removed, 0)
    return removed


def _action_kind(value: Any) -> str | None:
    if isinstance(value, Dictionary):
        subtype = value.get("/S")
        if isinstance(subtype, Name) and str(subtype) in _BAD_ACTIONS:
            return "JavaScript" if str(subtype) == "/JavaScript" else "unsafe actions"
        if subtype == Name.URI and not is_safe_uri(value.get("/URI")):
            return "unsafe links"
    return None


_SAFE_SCHEME = re.compile(r"^(https?|mailto):", re.IGNORECASE)
_IGNORED_IN_URI = re.compile(r"[\x00-\x20\x7f]")


def is_safe_uri(value: Any) -> bool:
    """Whether a link target is an http, https or mailto URL (javascript:, file:, data:, UNC
    paths, relative and scheme-less targets are not)."""
    if not isinstance(value, pikepdf.String):
        return False
    try:
        text = str(value)
    except (UnicodeDecodeError, ValueError):
        return False
    # Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
    return bool(_SAFE_SCHEME.match(_IGNORED_IN_URI.sub("", text)))


def _annotation_kind(value: Any) -> str | None:
    if isinstance(value, Dictionary) and value.get("/Type", Name.Annot) == Name.Annot:
        subtype = value.get("/Subtype")
        if isinstance(subtype, Name) and str(subtype) in _DROPPED_ANNOTATIONS:
            return "file attachments" if str(subtype) == "/FileAttachment" else "media"
    return None


def _holds_file_spec(value: Any) -> bool:
    items = list(value) if isinstance(value, Array) else [value]
    return any(
        isinstance(item, (Dictionary, pikepdf.Stream))
        and ("/EF" in item or item.get("/Type") == Name.Filespec)
        for item in items
    )


def _clean_dictionary(obj: Any, removed: Counter[str], depth: int) -> None:
    """Drop dangerous keys and values of one dictionary, and of the direct dictionaries and
    arrays inside it (indirect ones are visited on their own)."""
    if depth > 32:
        return
    for key in list(obj.keys()):
        if key == "/AA":
            del obj[key]
            removed["automatic actions"] += 1
            continue
        value = obj.get(key)
        if key in ("/EF", "/RF") or (key == "/AF" and _holds_file_spec(value)):
            del obj[key]
            removed["embedded files"] += 1
            continue
        label = _action_kind(value) or _annotation_kind(value)
        if label:
            del obj[key]
            removed[label] += 1
        elif isinstance(value, Array):
            _clean_array(value, removed, depth + 1)
        elif isinstance(value, Dictionary) and not value.is_indirect:
            _clean_dictionary(value, removed, depth + 1)


def _clean_array(array: Any, removed: Counter[str], depth: int) -> None:
    if depth > 32:
        return
    kept = []
    changed = False
    for item in array:
        label = _action_kind(item) or _annotation_kind(item)
        if label:
            removed[label] += 1
            changed = True
            continue
        if isinstance(item, Dictionary) and not item.is_indirect:
            _clean_dictionary(item, removed, depth + 1)
        elif isinstance(item, Array):
            _clean_array(item, removed, depth + 1)
        kept.append(item)
    if changed:
        array[:] = kept
