"""Merge the front matter and the papers into the booklet: links kept safe, font subset names
made unique, page numbers stamped, the contents linked, bookmarks, page labels and metadata
written. The same inputs give the same bytes (no build time, an /ID derived from the content).
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, Pdf, String

from portal.fileio import temporary_path
from portal.settings import sha256_file

from .fonts import preflight_sources, unique_subset_names
from .front import Rendered, bookmark_title, render_front_matter
from .parts import (
    BookletError,
    BookletResult,
    FontsNotEmbedded,
    FrontMatter,
    Part,
    Progress,
)
from .places import CENTRE, Place, number_places
from .stamp import stamp_font, stamp_pages


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

    A final build (``draft=False``) refuses papers with fonts not embedded with
    ``FontsNotEmbedded``; that it needs all the papers is the service's rule (``build``).
    ``cache_dir``, if given, keeps rendered front matter keyed by everything it shows, and
    where the page numbers go on each paper. ``front_pages_guess`` is the length of cover,
    agenda and contents the last build had: right, the front matter is rendered once.
    ``created`` (the newest paper's upload time) is the booklet's date: the same papers
    give the same bytes.
    """
    started = time.perf_counter()
    report = progress or (lambda stage, fraction: None)
    ordered = sorted(parts, key=lambda part: part.position)
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
        rendered = render_front_matter(front, ordered, counts, cache_dir, guess)
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
        stamp_pages(booklet, draft, places, font=stamp_font(
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
            digest, size = sha256_file(tmp)
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
    left behind (the booklet has one per paper)."""
    booklet.add_pages_from(source, pages, outlines="ignore")


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
    rendered: Rendered,
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
