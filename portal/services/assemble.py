"""Build the proceedings booklet from papers already normalised to PDF (see ``convert``).

The front matter (cover, agenda with the programme's times, table of contents, and a
placeholder page for each missing paper) is one WeasyPrint render of
``templates/pdf/front_matter.html`` through the shared setup in ``weasy`` (the bundled
Liberation Serif, one FontConfiguration); everything else is pikepdf in one process: the
pages are merged, links other than http/https/mailto are removed, font subsets that share a
name but not a program are renamed, every page but the cover gets its number (bottom centre
as viewed, whatever its size, origin or /Rotate; moved to a free place, or the page's content
scaled down, where the paper has ink there; never a box over the paper), a draft gets a
"BẢN NHÁP" mark on every page, and the page labels, bookmarks and metadata are written. The
same inputs give the same bytes (no build time, an /ID derived from the content).

Print editions (``build_edition``) are made from a final booklet: "a4" (every page A4
portrait, papers on right-hand pages, padded to a multiple of 4, TrimBox) and "a5-booklet"
(the A4 edition imposed two-up in saddle-stitch order).

The stamp font is a small subset of the bundled Liberation Serif, embedded as a Type 0 font
with a ToUnicode map, so the numbers and the mark are extractable text. Pure functions: no
Flask, no database.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, Pdf, String

from portal.fileio import temporary_path, write_atomically
from portal.services import weasy
from portal.services.documents.pdf import page_rotation
from portal.services.weasy import FONT_DIR, PDF_TEMPLATE_DIR

FRONT_TEMPLATE = "front_matter.html"
BOOKLET_CSS = PDF_TEMPLATE_DIR / "booklet.css"
_FRONT_VERSION = "2"

DRAFT_MARK = "BẢN NHÁP"
NUMBER_SIZE = 11.0  # pt
NUMBER_BASELINE = 31.0  # pt above the bottom edge as viewed (about 11 mm)
BANNER_SIZE = 10.0  # pt, the draft's text line at the top
BANNER_DROP = 22.0  # pt from the top edge as viewed to the banner's baseline
_STAMP_CHARS = "0123456789" + DRAFT_MARK

Progress = Callable[[str, float], None]


# -- inputs and result ----------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaItem:
    """One row of the booklet's agenda: a time range in Vietnam time ("08:15 – 08:40")."""

    time: str
    title: str
    kind: str = ""  # "Báo cáo đề dẫn", "Tham luận"; "" for the opening and closing items
    unit: str = ""
    presenter: str = ""


@dataclass(frozen=True)
class FrontMatter:
    """What the cover and agenda say; dates already formatted in Vietnam time.

    ``agenda`` is the programme (opening, papers, closing) with their times; when empty, the
    agenda lists the papers without times."""

    title: str
    organiser: str
    agency: str = "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH QUẢNG NGÃI"
    venue: str = ""
    session: str = ""  # e.g. "08:00–11:30, ngày 17/05/2021"
    place_date: str = ""  # e.g. "Quảng Ngãi, tháng 5 năm 2021"
    agenda: tuple[AgendaItem, ...] = ()


@dataclass(frozen=True)
class Part:
    """One paper of the booklet; ``pdf`` is its normalised PDF, or None when missing."""

    position: int
    kind: str  # "Báo cáo đề dẫn", "Tham luận"
    unit: str
    presenter: str
    title: str
    pdf: Path | None


@dataclass
class BookletResult:
    pages: int
    starts: list[int]  # 1-based first page of each part, in order
    sha256: str
    size: int
    front_pages: int = 0
    front_cached: bool = False
    seconds: float = 0.0
    front_renders: int = 0  # WeasyPrint renders this build needed (0 when cached)
    preflight: Preflight | None = None


class BookletError(Exception):
    """The booklet cannot be built; the message says why."""


class MissingPapers(BookletError):
    """A final booklet was asked for while some papers are missing."""

    def __init__(self, parts: Sequence[Part]):
        self.parts = list(parts)
        listed = "; ".join(f"{part.position}. {part.unit}" for part in self.parts)
        super().__init__(f"papers missing: {listed}")


class FontsNotEmbedded(BookletError):
    """A final booklet was asked for while some papers use fonts that are not embedded."""

    def __init__(self, fonts: Sequence[tuple[int, str]]):
        self.fonts = list(fonts)
        listed = "; ".join(f"{position}. {name}" for position, name in self.fonts)
        super().__init__(f"fonts not embedded: {listed}")


@dataclass
class PaperCheck:
    """What the preflight found in one paper's PDF."""

    position: int
    pages: int
    sizes: list[str] = field(default_factory=list)  # distinct page sizes, named
    unembedded: list[str] = field(default_factory=list)  # fonts not embedded


@dataclass
class Preflight:
    papers: list[PaperCheck] = field(default_factory=list)

    @property
    def unembedded(self) -> list[tuple[int, str]]:
        return [(paper.position, name) for paper in self.papers for name in paper.unembedded]


def size_name(width: float, height: float, rotation: int = 0) -> str:
    """"A4", "Letter ngang", "210×99 mm", "A4 ↻90°": a page size as the Office says it."""
    short, long_ = sorted((width, height))
    orientation = "" if height >= width else " ngang"
    if abs(short - 595.3) < 3 and abs(long_ - 841.9) < 3:
        label = "A4" + orientation
    elif abs(short - 612) < 3 and abs(long_ - 792) < 3:
        label = "Letter" + orientation
    else:
        label = f"{width * 25.4 / 72:.0f}×{height * 25.4 / 72:.0f} mm"
    return label + (f" ↻{rotation}°" if rotation else "")


def preflight_pdf(pdf: Pdf, position: int = 0) -> PaperCheck:
    """Page sizes and fonts not embedded of one paper."""
    check = PaperCheck(position=position, pages=len(pdf.pages))
    for page in pdf.pages:
        try:
            box = [float(v) for v in page.mediabox]
            label = size_name(abs(box[2] - box[0]), abs(box[3] - box[1]), page_rotation(page))
        except (TypeError, ValueError, pikepdf.PdfError):
            label = "?"
        if label not in check.sizes:
            check.sizes.append(label)
    for font, descriptor in iter_fonts(pdf):
        if font.get("/Subtype") == Name.Type3:
            continue
        if descriptor is None or not any(
            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            name = str(font.get("/BaseFont", "?")).lstrip("/")
            if name not in check.unembedded:
                check.unembedded.append(name)
    return check


def preflight_sources(parts: Sequence[Part], sources: Sequence[Pdf | None]) -> Preflight:
    return Preflight([
        preflight_pdf(source, part.position)
        for part, source in zip(parts, sources, strict=True) if source is not None
    ])


def iter_fonts(pdf: Pdf) -> Any:
    """Every font dictionary used by the pages (forms included), once, with its descriptor
    (the descendant's for a Type 0 font; None when there is none)."""
    seen: set[tuple[int, int]] = set()

    def fonts_of(resources: Any, depth: int) -> Any:
        if not isinstance(resources, Dictionary) or depth > 12:
            return
        if resources.is_indirect:
            if resources.objgen in seen:
                return
            seen.add(resources.objgen)
        fonts = resources.get("/Font")
        if isinstance(fonts, Dictionary):
            for _name, font in fonts.items():
                if not isinstance(font, Dictionary):
                    continue
                if font.is_indirect:
                    if font.objgen in seen:
                        continue
                    seen.add(font.objgen)
                descriptor = font.get("/FontDescriptor")
                if font.get("/Subtype") == Name.Type0:
                    descendants = font.get("/DescendantFonts")
                    if isinstance(descendants, Array) and len(descendants):
                        descendant = descendants[0]
                        if isinstance(descendant, Dictionary):
                            descriptor = descendant.get("/FontDescriptor")
                yield font, descriptor if isinstance(descriptor, Dictionary) else None
                if font.get("/Subtype") == Name.Type3:
                    yield from fonts_of(font.get("/Resources"), depth + 1)
        xobjects = resources.get("/XObject")
        if isinstance(xobjects, Dictionary):
            for _name, xobject in xobjects.items():
                if isinstance(xobject, pikepdf.Stream) and xobject.get("/Subtype") == Name.Form:
                    if xobject.objgen in seen:
                        continue
                    seen.add(xobject.objgen)
                    yield from fonts_of(xobject.get("/Resources"), depth + 1)

    for page in pdf.pages:
        yield from fonts_of(page.obj.get("/Resources"), 0)
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, Array):
            for annotation in annotations:
                appearance = annotation.get("/AP") if isinstance(annotation, Dictionary) else None
                normal = appearance.get("/N") if isinstance(appearance, Dictionary) else None
                if isinstance(normal, pikepdf.Stream):
                    yield from fonts_of(normal.get("/Resources"), 1)


def plan_starts(front_pages: int, part_pages: Sequence[int]) -> list[int]:
    """The 1-based first page of each part, after ``front_pages`` of front matter."""
    starts, page = [], front_pages + 1
    for count in part_pages:
        starts.append(page)
        page += count
    return starts


# -- the build ------------------------------------------------------------------------------


def build_booklet(
    front: FrontMatter,
    parts: list[Part],
    out: Path,
    draft: bool,
    *,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    front_pages_guess: int = 3,
    created: datetime | None = None,
) -> BookletResult:
    """Build the booklet into ``out`` (written to a temporary file, then renamed).

    A final build (``draft=False``) refuses missing papers with ``MissingPapers`` and papers
    with fonts not embedded with ``FontsNotEmbedded``.
    ``cache_dir``, if given, keeps rendered front matter keyed by everything it shows, and
    where the page numbers go on each paper. ``front_pages_guess`` is the length of cover,
    agenda and contents the last build had: right, the front matter is rendered once.
    ``created`` (the newest paper's upload time) is the booklet's date: the same papers
    give the same bytes.
    """
    started = time.perf_counter()
    report = progress or (lambda stage, fraction: None)
    ordered = sorted(parts, key=lambda part: part.position)
    missing = [part for part in ordered if part.pdf is None]
    if missing and not draft:
        raise MissingPapers(missing)
    out = Path(out)
    try:
        return _build(front, ordered, out, draft, cache_dir, report, started,
                      max(1, front_pages_guess), created)
    except pikepdf.PdfError as error:
        raise BookletError(f"the booklet cannot be built: {error}") from error


def _build(
    front: FrontMatter,
    ordered: list[Part],
    out: Path,
    draft: bool,
    cache_dir: Path | None,
    report: Progress,
    started: float,
    guess: int,
    created: datetime | None,
) -> BookletResult:
    with contextlib.ExitStack() as stack:
        sources: list[Pdf | None] = []
        for part in ordered:
            if part.pdf is None:
                sources.append(None)
                continue
            try:
                sources.append(stack.enter_context(pikepdf.open(part.pdf)))
            except (pikepdf.PdfError, OSError) as error:
                raise BookletError(f"paper {part.position} cannot be read: {error}") from error
        counts = [len(source.pages) if source is not None else 0 for source in sources]
        for part, source, count in zip(ordered, sources, counts, strict=True):
            if source is not None and count == 0:
                raise BookletError(f"paper {part.position} has no pages")

        checks = preflight_sources(ordered, sources)
        if not draft and checks.unembedded:
            raise FontsNotEmbedded(checks.unembedded)

        report("front matter", 0.05)
        rendered = _front_matter(front, ordered, counts, cache_dir, guess)
        front_pdf = stack.enter_context(pikepdf.open(io.BytesIO(rendered.data)))

        report("merging", 0.4)
        booklet = stack.enter_context(Pdf.new())
        _append_pages(booklet, front_pdf, range(rendered.front_pages))
        start_indices = []
        for index, source in enumerate(sources):
            start_indices.append(len(booklet.pages))
            if source is not None:
                _append_pages(booklet, source, range(len(source.pages)))
            else:
                first, count = rendered.placeholders[index]
                _append_pages(booklet, front_pdf, range(first, first + count))
        starts = [index + 1 for index in start_indices]
        if starts != rendered.starts:
            raise BookletError("internal error: table of contents disagrees with the pages")

        report("numbering", 0.55)
        _link_table_of_contents(booklet, rendered.front_pages, start_indices)
        keep_safe_links(booklet)
        unique_subset_names(booklet)
        places: list[Place] = [CENTRE] * rendered.front_pages
        for part, source in zip(ordered, sources, strict=True):
            if source is None:
                places += [CENTRE] * rendered.placeholders[ordered.index(part)][1]
            else:
                places += number_places(part.pdf, len(source.pages), cache_dir)
        _stamp_pages(booklet, draft, places, font=_stamp_font_in(
            Path(cache_dir) if cache_dir is not None else None))
        _finish_document(booklet, front, ordered, start_indices, rendered, created)

        report("saving", 0.75)
        version = max(
            (pdf.pdf_version for pdf in (front_pdf, *sources) if pdf is not None),
            key=lambda text: tuple(int(n) for n in text.split(".") if n.isdigit()),
        )
        tmp = temporary_path(out)
        try:
            booklet.save(
                tmp,
                min_version=version,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                compress_streams=True,
                deterministic_id=True,
            )
            digest, size = _sha256(tmp)
            os.replace(tmp, out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        pages = len(booklet.pages)

    report("done", 1.0)
    return BookletResult(
        pages=pages,
        starts=starts,
        sha256=digest,
        size=size,
        front_pages=rendered.front_pages,
        front_cached=rendered.cached,
        seconds=round(time.perf_counter() - started, 4),
        front_renders=rendered.renders,
        preflight=checks,
    )


def _append_pages(booklet: Pdf, source: Pdf, pages: range) -> None:
    """Append ``source``'s pages with what they need from their document: form fields,
    named destinations of their links, optional content (layers). Their own bookmarks are
    left behind (the booklet has one per paper). Older pikepdf: a plain page copy."""
    if hasattr(booklet, "add_pages_from"):
        booklet.add_pages_from(source, pages, outlines="ignore")
    else:  # older pikepdf without add_pages_from: the pages alone
        booklet.pages.extend([source.pages[index] for index in pages])


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# -- front matter ---------------------------------------------------------------------------


@dataclass
class _Rendered:
    data: bytes
    front_pages: int  # cover + agenda + table of contents
    starts: list[int]
    placeholders: dict[int, tuple[int, int]] = field(default_factory=dict)  # part -> pages
    anchors: dict[str, int] = field(default_factory=dict)  # "cover", "agenda", "toc" -> page
    cached: bool = False
    renders: int = 0


@functools.lru_cache(maxsize=1)
def _jinja_environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PDF_TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _front_key(front: FrontMatter, parts: Sequence[Part], starts: Sequence[int]) -> str:
    material = {
        "version": _FRONT_VERSION,
        "css": hashlib.sha256(BOOKLET_CSS.read_bytes()).hexdigest(),
        "template": hashlib.sha256((PDF_TEMPLATE_DIR / FRONT_TEMPLATE).read_bytes()).hexdigest(),
        "front": asdict(front),
        "parts": [
            [part.kind, part.unit, part.presenter, part.title, part.pdf is None] for part in parts
        ],
        "starts": list(starts),
    }
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def _front_matter(
    front: FrontMatter,
    parts: Sequence[Part],
    counts: Sequence[int],
    cache_dir: Path | None,
    guess: int = 3,
) -> _Rendered:
    """Render the front matter whose table of contents matches the final page numbers.

    The placeholders come after the table of contents, so the page numbers depend only on
    the length of cover + agenda + contents (and of the placeholders): start from the last
    build's length, render, and render again only if it was wrong.
    """
    part_pages = [
        count if part.pdf is not None else 1 for part, count in zip(parts, counts, strict=True)
    ]
    renders = 0
    for _attempt in range(5):
        starts = plan_starts(guess, part_pages)
        key = _front_key(front, parts, starts)
        cached = _cache_load(cache_dir, key)
        if cached is not None and cached.front_pages == guess:
            return cached
        rendered = _render_front(front, parts, starts)
        renders += 1
        rendered.renders = renders
        actual_pages = [
            count if part.pdf is not None else rendered.placeholders[index][1]
            for index, (part, count) in enumerate(zip(parts, counts, strict=True))
        ]
        if rendered.front_pages == guess and actual_pages == part_pages:
            _cache_store(cache_dir, key, rendered)
            return rendered
        part_pages = actual_pages
        guess = rendered.front_pages
    raise BookletError("the front matter's page count does not settle")


def agency_lines(agency: str) -> list[str]:
    """The agency's name as the cover sets it: the lines given, or the department over its
    province ("SỞ KHOA HỌC VÀ CÔNG NGHỆ" / "TỈNH QUẢNG NGÃI") when given as one line."""
    lines = [line.strip() for line in agency.splitlines() if line.strip()]
    if len(lines) == 1:
        head, sep, tail = lines[0].rpartition(" TỈNH ")
        if sep and head:
            return [head, "TỈNH " + tail]
    return lines


def _agenda_without_times(parts: Sequence[Part]) -> tuple[AgendaItem, ...]:
    return tuple(AgendaItem("", part.title, part.kind, part.unit, part.presenter)
                 for part in parts)


def bookmark_title(part: Part) -> str:
    """"1. Báo cáo đề dẫn – Văn phòng Sở: <title>"."""
    return f"{part.position}. {part.kind} – {part.unit}: {part.title}"


def _render_front(front: FrontMatter, parts: Sequence[Part], starts: list[int]) -> _Rendered:
    html = _jinja_environment().get_template(FRONT_TEMPLATE).render(
        front=front, parts=parts, starts=starts, agency_lines=agency_lines(front.agency),
        agenda=front.agenda or _agenda_without_times(parts),
    )
    document = weasy.render(html, [BOOKLET_CSS])
    data = weasy.write_pdf(document)
    anchors: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        for name in page.anchors:
            anchors.setdefault(name, number)
    total = len(document.pages)
    firsts = sorted(
        (anchors[f"missing-{index}"], index)
        for index, part in enumerate(parts)
        if part.pdf is None
    )
    placeholders: dict[int, tuple[int, int]] = {}
    for position, (first, index) in enumerate(firsts):
        end = firsts[position + 1][0] if position + 1 < len(firsts) else total
        placeholders[index] = (first, end - first)
    front_pages = firsts[0][0] if firsts else total
    return _Rendered(
        data=data,
        front_pages=front_pages,
        starts=starts,
        placeholders=placeholders,
        anchors={name: anchors[name] for name in ("cover", "agenda", "toc") if name in anchors},
    )


def _cache_paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    return cache_dir / f"front-{key}.pdf", cache_dir / f"front-{key}.json"


def _cache_load(cache_dir: Path | None, key: str) -> _Rendered | None:
    if cache_dir is None:
        return None
    pdf_path, meta_path = _cache_paths(Path(cache_dir), key)
    try:
        meta = json.loads(meta_path.read_text())
        data = pdf_path.read_bytes()
    except (OSError, ValueError):
        return None
    if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        return None
    return _Rendered(
        data=data,
        front_pages=int(meta["front_pages"]),
        starts=[int(value) for value in meta["starts"]],
        placeholders={int(k): (int(v[0]), int(v[1])) for k, v in meta["placeholders"].items()},
        anchors={str(k): int(v) for k, v in meta["anchors"].items()},
        cached=True,
    )


def _cache_store(cache_dir: Path | None, key: str, rendered: _Rendered, keep: int = 16) -> None:
    if cache_dir is None:
        return
    cache_dir = Path(cache_dir)
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        pdf_path, meta_path = _cache_paths(cache_dir, key)
        meta = {
            "sha256": hashlib.sha256(rendered.data).hexdigest(),
            "front_pages": rendered.front_pages,
            "starts": rendered.starts,
            "placeholders": {str(k): list(v) for k, v in rendered.placeholders.items()},
            "anchors": rendered.anchors,
        }
        for path, payload in ((pdf_path, rendered.data), (meta_path, json.dumps(meta).encode())):
            write_atomically(path, payload)
        entries = sorted(cache_dir.glob("front-*.pdf"), key=lambda p: p.stat().st_mtime)
        for stale in entries[:-keep]:
            stale.unlink(missing_ok=True)
            stale.with_suffix(".json").unlink(missing_ok=True)


# -- links, outline, labels, metadata -------------------------------------------------------


def _link_table_of_contents(booklet: Pdf, front_pages: int, start_indices: list[int]) -> None:
    """Point the contents' entries (rendered as ``booklet-part:N`` links) at the papers."""
    for page in list(booklet.pages)[:front_pages]:
        annotations = page.obj.get("/Annots")
        if not isinstance(annotations, Array):
            continue
        for annotation in annotations:
            action = annotation.get("/A") if isinstance(annotation, Dictionary) else None
            if not isinstance(action, Dictionary) or action.get("/S") != Name.URI:
                continue
            uri = str(action.get("/URI", ""))
            if not uri.startswith("booklet-part:"):
                continue
            try:
                target = start_indices[int(uri.split(":", 1)[1])]
            except (ValueError, IndexError):
                del annotation["/A"]
                continue
            del annotation["/A"]
            annotation.Dest = Array([booklet.pages[target].obj, Name.Fit])


def _finish_document(
    booklet: Pdf,
    front: FrontMatter,
    parts: Sequence[Part],
    start_indices: list[int],
    rendered: _Rendered,
    created: datetime | None,
) -> None:
    root = booklet.Root
    root.PageLabels = Dictionary(Nums=Array([0, Dictionary(S=Name.D)]))
    root.Lang = String("vi")
    root.PageMode = Name.UseOutlines
    root.ViewerPreferences = Dictionary(DisplayDocTitle=True)
    stamp = pdf_date(created)
    info = Dictionary(
        Title=String(front.title),
        Author=String(front.organiser),
        Subject=String("Tài liệu tọa đàm"),
        Creator=String("Seminar portal"),
        Producer=String(f"pikepdf {pikepdf.__version__}"),
    )
    if stamp:
        info.CreationDate = String(stamp)
        info.ModDate = String(stamp)
    booklet.docinfo = booklet.make_indirect(info)
    anchors = rendered.anchors
    with booklet.open_outline() as outline:
        outline.root.clear()
        for title, name in (("Bìa", "cover"), ("Chương trình", "agenda"), ("Mục lục", "toc")):
            if name in anchors:
                outline.root.append(OutlineItem(title, anchors[name]))
        for part, index in zip(parts, start_indices, strict=True):
            outline.root.append(OutlineItem(bookmark_title(part), index))


def pdf_date(moment: datetime | None) -> str:
    """A PDF date string in UTC, or "" for no date."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


# -- links and font names -------------------------------------------------------------------

SAFE_SCHEMES = ("http", "https", "mailto")


def _safe_uri(uri: str) -> bool:
    scheme, sep, _rest = uri.strip().partition(":")
    return bool(sep) and scheme.lower() in SAFE_SCHEMES and not uri.strip().startswith("//")


def keep_safe_links(pdf: Pdf) -> int:
    """Keep only http, https and mailto links (and links inside the booklet); remove every
    other action (javascript:, file:, UNC paths, data:, launch, remote files, forms).
    Returns how many links or actions were removed."""
    removed = 0
    root = pdf.Root
    for key in ("/OpenAction", "/AA"):
        if key in root:
            del root[key]
            removed += 1
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key in ("/JavaScript", "/EmbeddedFiles"):
            if key in names:
                del names[key]
                removed += 1
    for page in pdf.pages:
        if "/AA" in page.obj:
            del page.obj["/AA"]
            removed += 1
        annotations = page.obj.get("/Annots")
        if not isinstance(annotations, Array):
            continue
        kept = Array()
        for annotation in annotations:
            if not isinstance(annotation, Dictionary):
                continue
            if "/AA" in annotation:
                del annotation["/AA"]
                removed += 1
            action = annotation.get("/A")
            if isinstance(action, Dictionary):
                kind = action.get("/S")
                safe = kind == Name.GoTo or (
                    kind == Name.URI and _safe_uri(str(action.get("/URI", "")))
                )
                if safe:
                    if "/Next" in action:
                        del action["/Next"]
                else:
                    removed += 1
                    if annotation.get("/Subtype") == Name.Link:
                        continue  # a link to nowhere: the whole annotation goes
                    del annotation["/A"]
            elif action is not None:
                del annotation["/A"]
                removed += 1
            kept.append(annotation)
        if len(kept) != len(annotations):
            page.obj.Annots = kept
    return removed


def _subset_tag(material: bytes) -> str:
    return "".join(chr(ord("A") + byte % 26) for byte in hashlib.sha256(material).digest()[:6])


def unique_subset_names(pdf: Pdf) -> int:
    """Give every distinct embedded font program its own subset name: papers made by the
    same tool often reuse a tag ("BAWKYD+DejaVu-Serif") for different subsets, which a
    print shop's RIP may mix up. Fonts whose name is shared by different programs get a
    tag derived from their program's hash. Returns how many fonts were renamed."""
    fonts: list[tuple[Dictionary, Dictionary, str, bytes]] = []
    programs: dict[str, set[bytes]] = {}
    for font, descriptor in iter_fonts(pdf):
        if descriptor is None:
            continue
        name = str(descriptor.get("/FontName", font.get("/BaseFont", ""))).lstrip("/")
        if len(name) < 8 or name[6] != "+" or not name[:6].isupper():
            continue
        program = next((descriptor[key] for key in ("/FontFile2", "/FontFile3", "/FontFile")
                        if isinstance(descriptor.get(key), pikepdf.Stream)), None)
        if program is None:
            continue
        try:
            digest = hashlib.sha256(program.read_bytes()).digest()
        except pikepdf.PdfError:
            digest = hashlib.sha256(program.read_raw_bytes()).digest()
        fonts.append((font, descriptor, name, digest))
        programs.setdefault(name, set()).add(digest)
    renamed = 0
    done: set[tuple[int, int]] = set()
    for font, descriptor, name, digest in fonts:
        if len(programs[name]) < 2:
            continue
        tag = _subset_tag(digest + name.encode())
        new = tag + name[6:]
        if not descriptor.is_indirect or descriptor.objgen not in done:
            descriptor.FontName = Name("/" + new)
            if descriptor.is_indirect:
                done.add(descriptor.objgen)
        targets = [font]
        descendants = font.get("/DescendantFonts")
        if isinstance(descendants, Array):
            targets += [item for item in descendants if isinstance(item, Dictionary)]
        for target in targets:
            base = str(target.get("/BaseFont", "")).lstrip("/")
            if base[:7] == name[:7]:
                target.BaseFont = Name("/" + tag + base[6:])
        renamed += 1
    return renamed


# -- page numbers and the draft mark --------------------------------------------------------


@dataclass(frozen=True)
class _StampFont:
    data: bytes
    name: str  # subset tag + PostScript name
    gids: dict[str, int]
    widths: dict[int, int]  # glyph id -> width in 1/1000 em
    ascent: int
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]

    def encode(self, text: str) -> bytes:
        return "".join(f"{self.gids[char]:04X}" for char in text).encode()

    def width(self, text: str, size: float) -> float:
        return sum(self.widths[self.gids[char]] for char in text) * size / 1000


_STAMP_FONT_VERSION = "2"


def _stamp_font() -> _StampFont:
    return _stamp_font_in(None)


@functools.lru_cache(maxsize=2)
def _stamp_font_in(cache_dir: Path | None) -> _StampFont:
    """The stamp font: made once a process, or read from ``cache_dir`` (subsetting costs
    about half a second of CPU, mostly importing fontTools)."""
    source = FONT_DIR / "LiberationSerif-Regular.ttf"
    if cache_dir is None:
        return _make_stamp_font()
    stat = source.stat()
    key = hashlib.sha256(
        f"{_STAMP_FONT_VERSION}|{_STAMP_CHARS}|{stat.st_size}|{stat.st_mtime_ns}".encode()
    ).hexdigest()[:24]
    meta_path = Path(cache_dir) / f"stamp-font-{key}.json"
    data_path = meta_path.with_suffix(".ttf")
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        meta = json.loads(meta_path.read_text())
        data = data_path.read_bytes()
        if hashlib.sha256(data).hexdigest() == meta["sha256"]:
            return _StampFont(
                data=data, name=meta["name"], gids=meta["gids"],
                widths={int(k): int(v) for k, v in meta["widths"].items()},
                ascent=meta["ascent"], descent=meta["descent"], cap_height=meta["cap_height"],
                bbox=tuple(meta["bbox"]))
    font = _make_stamp_font()
    with contextlib.suppress(OSError):
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        meta = {"sha256": hashlib.sha256(font.data).hexdigest(), "name": font.name,
                "gids": font.gids, "widths": font.widths, "ascent": font.ascent,
                "descent": font.descent, "cap_height": font.cap_height,
                "bbox": list(font.bbox)}
        for path, payload in ((data_path, font.data), (meta_path, json.dumps(meta).encode())):
            write_atomically(path, payload)
    return font


def _make_stamp_font() -> _StampFont:
    """Subset Liberation Serif Regular to the digits and the draft mark."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(FONT_DIR / "LiberationSerif-Regular.ttf"), lazy=True,
                  recalcTimestamp=False)  # the same bytes in every build
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # keep copyright and licence-relevant names
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "DSIG", "gasp", "FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=_STAMP_CHARS)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    units = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    gids = {char: font.getGlyphID(cmap[ord(char)]) for char in set(_STAMP_CHARS)}
    widths = {gid: round(font["hmtx"][font.getGlyphName(gid)][0] * 1000 / units)
              for gid in gids.values()}
    head = font["head"]
    tag = "".join(
        chr(ord("A") + byte % 26) for byte in hashlib.sha256(_STAMP_CHARS.encode()).digest()[:6]
    )
    return _StampFont(
        data=buffer.getvalue(),
        name=f"{tag}+LiberationSerif",
        gids=gids,
        widths=widths,
        ascent=round(font["hhea"].ascent * 1000 / units),
        descent=round(font["hhea"].descent * 1000 / units),
        cap_height=round(getattr(font["OS/2"], "sCapHeight", 0) * 1000 / units) or 662,
        bbox=tuple(round(v * 1000 / units) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),
    )


@dataclass(frozen=True)
class _Outline:
    ops: bytes  # fill operators in font units (1000/em)
    width: float
    bottom: float
    top: float


@functools.lru_cache(maxsize=1)
def _mark_outline() -> _Outline:
    """The draft mark's glyph outlines (Liberation Serif Bold) as PDF path operators."""
    from fontTools.pens.basePen import BasePen
    from fontTools.ttLib import TTFont

    font = TTFont(str(FONT_DIR / "LiberationSerif-Bold.ttf"))
    glyphs = font.getGlyphSet()
    cmap = font.getBestCmap()
    factor = 1000 / font["head"].unitsPerEm
    parts: list[str] = []

    class PathPen(BasePen):
        def __init__(self, offset: float):
            super().__init__(glyphs)
            self.offset = offset

        def _xy(self, point: tuple[float, float]) -> str:
            return f"{_num(point[0] * factor + self.offset)} {_num(point[1] * factor)}"

        def _moveTo(self, pt: tuple[float, float]) -> None:
            parts.append(f"{self._xy(pt)} m")

        def _lineTo(self, pt: tuple[float, float]) -> None:
            parts.append(f"{self._xy(pt)} l")

        def _curveToOne(self, pt1: Any, pt2: Any, pt3: Any) -> None:
            parts.append(f"{self._xy(pt1)} {self._xy(pt2)} {self._xy(pt3)} c")

        def _closePath(self) -> None:
            parts.append("h")

    advance = 0.0
    for char in DRAFT_MARK:
        name = cmap[ord(char)]
        glyphs[name].draw(PathPen(advance))
        advance += glyphs[name].width * factor
    body = " ".join(parts)
    return _Outline(
        ops=f"0.45 g {body} f".encode(),
        width=advance,
        bottom=font["hhea"].descent * factor,
        top=font["hhea"].ascent * factor,
    )


def _font_object(pdf: Pdf, font: _StampFont) -> Dictionary:
    """The stamp font as a Type 0 / CIDFontType2 font with a ToUnicode map, in ``pdf``."""
    file = pikepdf.Stream(pdf, font.data)
    file.Length1 = len(font.data)
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name("/" + font.name),
        Flags=6,  # serif, symbolic (glyphs addressed by id)
        FontBBox=Array(list(font.bbox)),
        ItalicAngle=0,
        Ascent=font.ascent,
        Descent=font.descent,
        CapHeight=font.cap_height,
        StemV=80,
        FontFile2=file,
    )
    widths = Array()
    for gid in sorted(font.widths):
        widths.extend([gid, Array([font.widths[gid]])])
    descendant = Dictionary(
        Type=Name.Font,
        Subtype=Name.CIDFontType2,
        BaseFont=Name("/" + font.name),
        CIDSystemInfo=Dictionary(
            Registry=String("Adobe"), Ordering=String("Identity"), Supplement=0
        ),
        FontDescriptor=pdf.make_indirect(descriptor),
        W=widths,
        CIDToGIDMap=Name.Identity,
    )
    entries = "\n".join(
        f"<{gid:04X}> <{ord(char):04X}>" for char, gid in sorted(font.gids.items())
    )
    to_unicode = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{len(font.gids)} beginbfchar\n{entries}\nendbfchar\n"
        "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/" + font.name),
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([pdf.make_indirect(descendant)]),
            ToUnicode=pikepdf.Stream(pdf, to_unicode.encode()),
        )
    )


def _resource_name(resources: Dictionary, category: str, base: str, value: Any) -> Name:
    """The name under which ``value`` sits in ``resources[category]``, adding it if needed
    (shared resource dictionaries get one entry, never a clash with the page's own)."""
    group = resources.get(category)
    if not isinstance(group, Dictionary):
        group = Dictionary()
        resources[category] = group
    for attempt in range(100):
        name = f"/{base}{attempt or ''}"
        existing = group.get(name)
        if existing is None:
            group[name] = value
            return Name(name)
        if existing.is_indirect and existing.objgen == value.objgen:
            return Name(name)
    raise BookletError("cannot name the stamp's resources")


def _view_matrix(page: pikepdf.Page) -> tuple[list[float], float, float]:
    """A matrix from viewed coordinates (origin at the bottom left of the page as shown,
    rotation applied) to the page's user space, and the viewed width and height."""
    try:
        box = [float(v) for v in page.cropbox]
        media = [float(v) for v in page.mediabox]
    except (TypeError, ValueError, pikepdf.PdfError):
        box = media = [0.0, 0.0, 595.28, 841.89]
    x0, y0 = max(min(box[0], box[2]), min(media[0], media[2])), max(
        min(box[1], box[3]), min(media[1], media[3])
    )
    x1, y1 = min(max(box[0], box[2]), max(media[0], media[2])), min(
        max(box[1], box[3]), max(media[1], media[3])
    )
    if x1 - x0 < 1 or y1 - y0 < 1:  # crop box outside the media box: trust the media box
        x0, y0, x1, y1 = min(media[0], media[2]), min(media[1], media[3]), max(
            media[0], media[2]), max(media[1], media[3])
    width, height = x1 - x0, y1 - y0
    scale = 1.0
    with contextlib.suppress(TypeError, ValueError):
        unit = float(page.obj.get("/UserUnit", 1))
        if unit > 0:
            scale = 1 / unit
    rotation = page_rotation(page)
    if rotation == 90:
        matrix = [0, scale, -scale, 0, x1, y0]
        view_w, view_h = height, width
    elif rotation == 180:
        matrix = [-scale, 0, 0, -scale, x1, y1]
        view_w, view_h = width, height
    elif rotation == 270:
        matrix = [0, -scale, scale, 0, x0, y1]
        view_w, view_h = height, width
    else:
        matrix = [scale, 0, 0, scale, x0, y0]
        view_w, view_h = width, height
    return matrix, view_w / scale, view_h / scale


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# Where the number goes: "c" bottom centre, "r"/"l" bottom right/left corner, "t" top
# centre, "s" bottom centre with the page's content scaled down by the factor to make room.
Place = tuple[str, float]
CENTRE: Place = ("c", 1.0)
BAND_HALF = 20.0  # pt either side of the number's centre checked for ink
BAND_LOW, BAND_HIGH = NUMBER_BASELINE - 6, NUMBER_BASELINE + NUMBER_SIZE + 3
CORNER = 60.0  # pt from the side edge to the centre of a corner number
_PLACES_VERSION = "1"
_INK_DPI = 24
_INK_LEVEL = 215  # a grey pixel darker than this is ink


def _place_x(place: str, view_w: float) -> float:
    return {"r": view_w - CORNER, "l": CORNER}.get(place, view_w / 2)


def _place_baseline(place: str, view_h: float) -> float:
    return view_h - NUMBER_BASELINE - NUMBER_SIZE + 4 if place == "t" else NUMBER_BASELINE


def _inked(image: Any, k: float, view_h: float, cx: float, low: float, high: float) -> bool:
    width, height = image.size
    x0, x1 = max(0, int((cx - BAND_HALF) * k)), min(width, math.ceil((cx + BAND_HALF) * k))
    y0, y1 = max(0, int((view_h - high) * k)), min(height, math.ceil((view_h - low) * k))
    if x1 <= x0 or y1 <= y0:
        return False
    darkest = image.crop((x0, y0, x1, y1)).getextrema()[0]
    return darkest < _INK_LEVEL


def _choose_place(image: Any, view_w: float, view_h: float) -> Place:
    k = _INK_DPI / 72
    for place in ("c", "r", "l"):
        if not _inked(image, k, view_h, _place_x(place, view_w), BAND_LOW, BAND_HIGH):
            return (place, 1.0)
    top = _place_baseline("t", view_h)
    if not _inked(image, k, view_h, view_w / 2, top - 6, top + NUMBER_SIZE + 3):
        return ("t", 1.0)
    return ("s", round((view_h - BAND_HIGH - 4) / view_h, 4))


def number_places(path: Path | None, pages: int, cache_dir: Path | None = None) -> list[Place]:
    """Where each page of the paper at ``path`` gets its number: the bottom centre unless
    the paper already has ink there (its own footer, a scan's page number), then a free
    corner, the top, or, failing all, the page's content scaled down to free the bottom.

    The pages are rendered once at 24 dpi (poppler's ``pdftoppm``); the answer is kept in
    ``cache_dir`` per file content, so a rebuild does not render again."""
    if path is None:
        return [CENTRE] * pages
    digest = _sha256(Path(path))[0]
    cache = Path(cache_dir) / f"places-{_PLACES_VERSION}-{digest[:32]}.json" if cache_dir else None
    if cache is not None:
        with contextlib.suppress(OSError, ValueError, TypeError):
            stored = json.loads(cache.read_text())
            if len(stored) == pages:
                return [(str(where), float(scale)) for where, scale in stored]
    places = _find_places(Path(path), pages)
    if cache is not None:
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = temporary_path(cache)
            tmp.write_text(json.dumps(places))
            os.replace(tmp, cache)
    return places


def _find_places(path: Path, pages: int) -> list[Place]:
    import shutil
    import subprocess
    import tempfile

    from PIL import Image

    tool = shutil.which("pdftoppm")
    if tool is None:
        return [CENTRE] * pages
    with tempfile.TemporaryDirectory(prefix="bands-") as folder:
        try:
            subprocess.run(
                [tool, "-r", str(_INK_DPI), "-gray", "-cropbox", str(path),
                 os.path.join(folder, "p")],
                check=True, capture_output=True, timeout=120,
            )
        except (OSError, subprocess.SubprocessError):
            return [CENTRE] * pages
        images = sorted(Path(folder).glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[-1]))
        places: list[Place] = []
        with pikepdf.open(path) as pdf:
            for index, page in enumerate(pdf.pages):
                if index >= len(images):
                    places.append(CENTRE)
                    continue
                _matrix, view_w, view_h = _view_matrix(page)
                with Image.open(images[index]) as image:
                    places.append(_choose_place(image.convert("L"), view_w, view_h))
    return places + [CENTRE] * (pages - len(places))


def _concat(first: Sequence[float], then: Sequence[float]) -> list[float]:
    """The matrix applying ``first`` and then ``then`` (PDF order: first × then)."""
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = then
    return [a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2]


def _invert(m: Sequence[float]) -> list[float]:
    a, b, c, d, e, f = m
    det = a * d - b * c
    return [d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det]


def _apply(m: Sequence[float], x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _scale_page_content(page: pikepdf.Page, matrix: list[float], view_w: float,
                        view_h: float, scale: float) -> list[float]:
    """The user-space ``cm`` that shrinks the page's content by ``scale`` towards its top
    centre as viewed; the page's annotations move with it."""
    shrink = [scale, 0, 0, scale, view_w / 2 * (1 - scale), view_h * (1 - scale)]
    user = _concat(_concat(_invert(matrix), shrink), matrix)
    annotations = page.obj.get("/Annots")
    if isinstance(annotations, Array):
        for annotation in annotations:
            rect = annotation.get("/Rect") if isinstance(annotation, Dictionary) else None
            if isinstance(rect, Array) and len(rect) == 4:
                with contextlib.suppress(TypeError, ValueError):
                    x0, y0 = _apply(user, float(rect[0]), float(rect[1]))
                    x1, y1 = _apply(user, float(rect[2]), float(rect[3]))
                    annotation.Rect = Array([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)])
    return user


STAMP_KEY = "/BkltStamp"  # marks the content streams the build added to a page


def _stamp_pages(booklet: Pdf, draft: bool, places: Sequence[Place] | None = None,
                 first: int = 1, numbers: Sequence[int | None] | None = None,
                 font: _StampFont | None = None) -> None:
    """Number the pages bottom centre as viewed (or where ``places`` says), the cover
    (page 1) excepted; mark drafts. No box is painted: where the paper has ink in the
    number's band the number goes elsewhere or the content is scaled down (``places``).
    ``numbers`` overrides the printed number per page (None: no number)."""
    font = font or _stamp_font()
    font_ref = _font_object(booklet, font)
    push = booklet.make_stream(b"q\n")  # shared: saves the page's initial state
    push[STAMP_KEY] = True
    mark_hex = font.encode(DRAFT_MARK).decode()
    banner_w = font.width(DRAFT_MARK, BANNER_SIZE)
    if draft:
        outline = _mark_outline()
        state_ref = booklet.make_indirect(Dictionary(Type=Name.ExtGState, ca=0.18, CA=0.18))
        mark_ref = booklet.make_stream(
            outline.ops,
            Type=Name.XObject,
            Subtype=Name.Form,
            BBox=Array([0, outline.bottom, outline.width, outline.top]),
            Resources=Dictionary(),
        )
    for index, page in enumerate(booklet.pages):
        number: int | None = index + first
        if numbers is not None:
            number = numbers[index]
        elif number == 1:
            number = None
        if number is None and not draft:
            continue
        place = places[index] if places is not None and index < len(places) else CENTRE
        resources = page.obj.get("/Resources")
        if not isinstance(resources, Dictionary):
            resources = Dictionary()
            page.obj.Resources = resources
        font_name = _resource_name(resources, "/Font", "BkltF", font_ref)
        matrix, view_w, view_h = _view_matrix(page)
        ops = [f"Q q {' '.join(_num(v) for v in matrix)} cm"]
        if draft:
            # A large diagonal mark drawn as outlines (so it never mixes into the page's
            # extractable text), and a small "BẢN NHÁP" line of real text at the top.
            state_name = _resource_name(resources, "/ExtGState", "BkltGS", state_ref)
            form_name = _resource_name(resources, "/XObject", "BkltMark", mark_ref)
            angle = math.atan2(view_h, view_w)
            scale = min(0.1, 0.6 * math.hypot(view_w, view_h) / outline.width)
            cos, sin = math.cos(angle), math.sin(angle)
            half_w = outline.width * scale / 2
            half_h = (outline.top + outline.bottom) * scale / 2
            x = view_w / 2 - cos * half_w + sin * half_h
            y = view_h / 2 - sin * half_w - cos * half_h
            a, b = cos * scale, sin * scale
            ops.append(
                f"q {state_name} gs {a:.5f} {b:.5f} {-b:.5f} {a:.5f} {_num(x)} {_num(y)} cm "
                f"{form_name} Do Q"
            )
            ops.append(
                f"BT 0.35 g {font_name} {_num(BANNER_SIZE)} Tf 0 Tr 0 Tc 0 Tw 100 Tz "
                f"1 0 0 1 {_num((view_w - banner_w) / 2)} {_num(view_h - BANNER_DROP)} Tm "
                f"<{mark_hex}> Tj ET"
            )
        page_push = push
        if number is not None:
            where, factor = place
            if where == "t" and draft:
                where = "r"  # the banner holds the top centre of a draft
            if where == "s":
                user = _scale_page_content(page, matrix, view_w, view_h, factor)
                page_push = booklet.make_stream(
                    f"q {' '.join(_num4(v) for v in user)} cm\n".encode())
                page_push[STAMP_KEY] = True
            text = str(number)
            text_w = font.width(text, NUMBER_SIZE)
            x = _place_x(where, view_w) - text_w / 2
            ops.append(
                f"BT 0 g {font_name} {_num(NUMBER_SIZE)} Tf 0 Tr 0 Tc 0 Tw 100 Tz "
                f"1 0 0 1 {_num(x)} {_num(_place_baseline(where, view_h))} Tm "
                f"<{font.encode(text).decode()}> Tj ET"
            )
        ops.append("Q\n")
        page.contents_add(page_push, prepend=True)
        stamp = booklet.make_stream(" ".join(ops).encode())
        stamp[STAMP_KEY] = True
        page.contents_add(stamp)


def _num4(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# -- print editions -------------------------------------------------------------------------

A4_W, A4_H = 595.276, 841.89
EDITIONS = ("a4", "a5-booklet")
_BLANK_LABEL = "–"


@dataclass
class EditionResult:
    edition: str
    pages: int
    sha256: str
    size: int
    blanks: int = 0
    seconds: float = 0.0


def _outline_targets(pdf: Pdf) -> list[tuple[str, int]]:
    """The booklet's bookmarks as (title, page index)."""
    index_of = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}
    targets = []
    with pdf.open_outline() as outline:
        for item in outline.root:
            dest = item.destination
            if isinstance(dest, Array) and len(dest) and dest[0].objgen in index_of:
                targets.append((item.title, index_of[dest[0].objgen]))
    return targets


def _write_outline(pdf: Pdf, targets: Sequence[tuple[str, int]]) -> None:
    with pdf.open_outline() as outline:
        outline.root.clear()
        for title, index in targets:
            outline.root.append(OutlineItem(title, index))


def _strip_stamps(page: pikepdf.Page) -> None:
    contents = page.obj.get("/Contents")
    if isinstance(contents, Array):
        kept = [s for s in contents if not (isinstance(s, pikepdf.Stream) and s.get(STAMP_KEY))]
        page.obj.Contents = Array(kept)


def _page_form(pdf: Pdf, page: pikepdf.Page) -> pikepdf.Stream:
    """The page's content as a Form XObject in ``pdf`` (its own resources, its media box)."""
    contents = page.obj.get("/Contents")
    streams = list(contents) if isinstance(contents, Array) else [contents]
    data = b"\n".join(s.read_bytes() for s in streams if isinstance(s, pikepdf.Stream))
    resources = page.obj.get("/Resources")
    return pdf.make_stream(
        data, Type=Name.XObject, Subtype=Name.Form,
        BBox=Array([float(v) for v in page.mediabox]),
        Resources=resources if isinstance(resources, Dictionary) else Dictionary())


def _is_a4_portrait(view_w: float, view_h: float) -> bool:
    return abs(view_w - A4_W) < 3 and abs(view_h - A4_H) < 3


def _refit_to_a4(pdf: Pdf, page: pikepdf.Page) -> None:
    """Redraw ``page`` (stamps removed) on A4 portrait: scaled to fit above the number's
    band, a landscape page turned a quarter counter-clockwise (read with the book turned
    clockwise, its foot at the outer edge)."""
    matrix, view_w, view_h = _view_matrix(page)
    _strip_stamps(page)
    to_view = _invert(matrix)
    if view_w > view_h:
        to_view = _concat(to_view, [0, 1, -1, 0, view_h, 0])
        view_w, view_h = view_h, view_w
    band = BAND_HIGH + 4
    scale = min(A4_W / view_w, (A4_H - band) / view_h)
    x = (A4_W - view_w * scale) / 2
    y = band + (A4_H - band - view_h * scale) / 2
    user = _concat(to_view, [scale, 0, 0, scale, x, y])
    form = _page_form(pdf, page)
    for key in ("/CropBox", "/BleedBox", "/ArtBox", "/TrimBox", "/Rotate", "/UserUnit"):
        if key in page.obj:
            del page.obj[key]
    page.obj.MediaBox = Array([0, 0, A4_W, A4_H])
    page.obj.Resources = Dictionary(XObject=Dictionary(BkltPage=form))
    page.obj.Contents = pdf.make_stream(
        f"q {' '.join(_num4(v) for v in user)} cm /BkltPage Do Q\n".encode())
    annotations = page.obj.get("/Annots")
    if isinstance(annotations, Array):
        for annotation in annotations:
            rect = annotation.get("/Rect") if isinstance(annotation, Dictionary) else None
            if isinstance(rect, Array) and len(rect) == 4:
                with contextlib.suppress(TypeError, ValueError):
                    corners = [_apply(user, float(rect[i]), float(rect[j]))
                               for i, j in ((0, 1), (2, 3), (0, 3), (2, 1))]
                    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
                    annotation.Rect = Array([min(xs), min(ys), max(xs), max(ys)])


def _blank_page(pdf: Pdf) -> pikepdf.Page:
    return pikepdf.Page(pdf.make_indirect(Dictionary(
        Type=Name.Page, MediaBox=Array([0, 0, A4_W, A4_H]), TrimBox=Array([0, 0, A4_W, A4_H]),
        Resources=Dictionary(), Contents=pdf.make_stream(b""))))


def _a4_edition(pdf: Pdf, starts: Sequence[int], cache_dir: Path | None = None
                ) -> tuple[list[int | None], int]:
    """Turn the screen booklet ``pdf`` into the A4 print edition in place. Returns the
    printed number of every page (None for blank pages) and how many blanks were added.

    The numbering stays that of the screen edition: the contents page and the bookmarks
    need no change, and the blank pages carry no number."""
    originals = list(pdf.pages)
    numbers: list[int | None] = []
    sequence: list[pikepdf.Page] = []
    first_pages = {start - 1 for start in starts}
    blanks = 0
    restamp: list[int] = []
    for index, page in enumerate(originals):
        if index in first_pages and len(sequence) % 2 == 1:
            sequence.append(_blank_page(pdf))
            numbers.append(None)
            blanks += 1
        _matrix, view_w, view_h = _view_matrix(page)
        if _is_a4_portrait(view_w, view_h):
            box = [float(v) for v in page.cropbox]
            page.obj.TrimBox = Array(box)
        else:
            _refit_to_a4(pdf, page)
            restamp.append(len(sequence))
            page.obj.TrimBox = Array([0, 0, A4_W, A4_H])
        sequence.append(page)
        numbers.append(index + 1)
    while len(sequence) % 4:
        sequence.append(_blank_page(pdf))
        numbers.append(None)
        blanks += 1
    for _ in range(len(pdf.pages)):
        del pdf.pages[-1]
    pdf.pages.extend(sequence)
    stamp_numbers: list[int | None] = [None] * len(sequence)
    for index in restamp:
        stamp_numbers[index] = numbers[index] if numbers[index] != 1 else None
    _stamp_pages(pdf, draft=False, numbers=stamp_numbers, font=_stamp_font_in(cache_dir))
    nums = Array()
    for index, number in enumerate(numbers):
        nums.extend([index, Dictionary(S=Name.D, St=number) if number is not None
                     else Dictionary(P=String(_BLANK_LABEL))])
    pdf.Root.PageLabels = Dictionary(Nums=nums)
    return numbers, blanks


def _a5_booklet(a4: Pdf) -> tuple[Pdf, dict[int, int]]:
    """Impose the A4 edition two-up on A4 landscape sheets in saddle-stitch order (each A4
    page scaled to A5). Returns the new PDF and, per A4 page index, its side's index."""
    total = len(a4.pages)
    sheet_w, sheet_h, slot_w = A4_H, A4_W, A4_H / 2
    out = Pdf.new()
    forms = []
    for page in a4.pages:
        matrix, view_w, view_h = _view_matrix(page)
        form = _page_form(a4, page)
        forms.append((out.copy_foreign(form), _invert(matrix), view_w, view_h))
    sides: dict[int, int] = {}
    order = []
    for sheet in range(total // 4):
        order.append((total - 1 - 2 * sheet, 2 * sheet))  # front: left, right
        order.append((2 * sheet + 1, total - 2 - 2 * sheet))  # back: left, right
    for side_index, (left, right) in enumerate(order):
        ops, xobjects = [], Dictionary()
        for slot, a4_index in enumerate((left, right)):
            form, to_view, view_w, view_h = forms[a4_index]
            scale = min(slot_w / view_w, sheet_h / view_h)
            x = slot * slot_w + (slot_w - view_w * scale) / 2
            y = (sheet_h - view_h * scale) / 2
            user = _concat(to_view, [scale, 0, 0, scale, x, y])
            name = f"/P{slot}"
            xobjects[name] = form
            ops.append(f"q {' '.join(_num4(v) for v in user)} cm {name} Do Q")
            sides[a4_index] = side_index
        out.pages.append(pikepdf.Page(out.make_indirect(Dictionary(
            Type=Name.Page, MediaBox=Array([0, 0, sheet_w, sheet_h]),
            TrimBox=Array([0, 0, sheet_w, sheet_h]),
            Resources=Dictionary(XObject=xobjects),
            Contents=out.make_stream(" ".join(ops).encode())))))
    return out, sides


def build_edition(source: Path, out: Path, edition: str, starts: Sequence[int],
                  cache_dir: Path | None = None) -> EditionResult:
    """Make a print edition of the final booklet ``source`` (its papers start on the pages
    ``starts``) into ``out``: "a4" or "a5-booklet". Deterministic: the same booklet gives
    the same bytes."""
    if edition not in EDITIONS:
        raise BookletError(f"unknown edition {edition!r}")
    started = time.perf_counter()
    out = Path(out)
    try:
        with pikepdf.open(source) as pdf:
            targets = _outline_targets(pdf)
            index_of = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}
            numbers, blanks = _a4_edition(pdf, starts,
                                          Path(cache_dir) if cache_dir is not None else None)
            moved = {index_of[page.obj.objgen]: position
                     for position, page in enumerate(pdf.pages) if page.obj.objgen in index_of}
            info = {str(key): str(value) for key, value in pdf.docinfo.items()}
            if edition == "a4":
                result_pdf, mapping = pdf, moved
            else:
                result_pdf, sides = _a5_booklet(pdf)
                mapping = {old: sides[new] for old, new in moved.items()}
                result_pdf.Root.Lang = String("vi")
                result_pdf.Root.PageMode = Name.UseOutlines
            _write_outline(result_pdf, [(title, mapping[index]) for title, index in targets])
            if result_pdf is not pdf:
                result_pdf.docinfo = result_pdf.make_indirect(
                    Dictionary({key: String(value) for key, value in info.items()}))
            info_subject = f"Tài liệu tọa đàm – bản in {edition}"
            result_pdf.docinfo.Subject = String(info_subject)
            tmp = temporary_path(out)
            try:
                result_pdf.save(tmp, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                                compress_streams=True, deterministic_id=True)
                digest, size = _sha256(tmp)
                pages = len(result_pdf.pages)
                os.replace(tmp, out)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                if result_pdf is not pdf:
                    result_pdf.close()
    except pikepdf.PdfError as error:
        raise BookletError(f"the print edition cannot be made: {error}") from error
    return EditionResult(edition=edition, pages=pages, sha256=digest, size=size,
                         blanks=blanks, seconds=round(time.perf_counter() - started, 4))
