"""Print editions of a final booklet: "a4" (every page A4 portrait, papers on right-hand
pages, padded to a multiple of 4, TrimBox) and "a5-booklet" (the A4 edition imposed two-up in
saddle-stitch order). Deterministic: the same booklet gives the same bytes."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem, Pdf, String

from portal.fileio import temporary_path
from portal.settings import sha256_file

from .parts import EDITIONS, BookletError
from .places import BAND_HIGH, apply, concat, invert, num4, view_matrix
from .stamp import STAMP_KEY, stamp_font, stamp_pages

A4_W, A4_H = 595.276, 841.89
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
    matrix, view_w, view_h = view_matrix(page)
    _strip_stamps(page)
    to_view = invert(matrix)
    if view_w > view_h:
        to_view = concat(to_view, [0, 1, -1, 0, view_h, 0])
        view_w, view_h = view_h, view_w
    band = BAND_HIGH + 4
    scale = min(A4_W / view_w, (A4_H - band) / view_h)
    x = (A4_W - view_w * scale) / 2
    y = band + (A4_H - band - view_h * scale) / 2
    user = concat(to_view, [scale, 0, 0, scale, x, y])
    form = _page_form(pdf, page)
    for key in ("/CropBox", "/BleedBox", "/ArtBox", "/TrimBox", "/Rotate", "/UserUnit"):
        if key in page.obj:
            del page.obj[key]
    page.obj.MediaBox = Array([0, 0, A4_W, A4_H])
    page.obj.Resources = Dictionary(XObject=Dictionary(BkltPage=form))
    page.obj.Contents = pdf.make_stream(
        f"q {' '.join(num4(v) for v in user)} cm /BkltPage Do Q\n".encode())
    annotations = page.obj.get("/Annots")
    if isinstance(annotations, Array):
        for annotation in annotations:
            rect = annotation.get("/Rect") if isinstance(annotation, Dictionary) else None
            if isinstance(rect, Array) and len(rect) == 4:
                with contextlib.suppress(TypeError, ValueError):
                    corners = [apply(user, float(rect[i]), float(rect[j]))
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
        _matrix, view_w, view_h = view_matrix(page)
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
    stamp_pages(pdf, draft=False, numbers=stamp_numbers, font=stamp_font(cache_dir))
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
        matrix, view_w, view_h = view_matrix(page)
        form = _page_form(a4, page)
        forms.append((out.copy_foreign(form), invert(matrix), view_w, view_h))
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
            user = concat(to_view, [scale, 0, 0, scale, x, y])
            name = f"/P{slot}"
            xobjects[name] = form
            ops.append(f"q {' '.join(num4(v) for v in user)} cm {name} Do Q")
            sides[a4_index] = side_index
        out.pages.append(pikepdf.Page(out.make_indirect(Dictionary(
            Type=Name.Page, MediaBox=Array([0, 0, sheet_w, sheet_h]),
            TrimBox=Array([0, 0, sheet_w, sheet_h]),
            Resources=Dictionary(XObject=xobjects),
            Contents=out.make_stream(" ".join(ops).encode())))))
    return out, sides


def make_edition(source: Path, out: Path, edition: str, starts: Sequence[int],
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
                digest, size = sha256_file(tmp)
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
