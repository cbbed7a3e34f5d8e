"""Page numbers and the draft mark, stamped on the booklet's pages.

The stamp font is a small subset of the bundled Liberation Serif, built by hand and embedded
as a Type 0 font with a ToUnicode map, so the numbers and the mark are extractable text; the
draft's large diagonal mark is drawn as glyph outlines. No box is painted over a paper."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf, String

from portal.fileio import write_atomically
from portal.settings import FONT_DIR

from .parts import BookletError
from .places import (
    CENTRE,
    NUMBER_SIZE,
    Place,
    apply,
    concat,
    invert,
    num,
    num4,
    place_baseline,
    place_x,
    view_matrix,
)

DRAFT_MARK = "BẢN NHÁP"
BANNER_SIZE = 10.0  # pt, the draft's text line at the top
BANNER_DROP = 22.0  # pt from the top edge as viewed to the banner's baseline
_STAMP_CHARS = "0123456789" + DRAFT_MARK


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


@functools.lru_cache(maxsize=2)
def stamp_font(cache_dir: Path | None = None) -> _StampFont:
    """The stamp font: made once a process, or read from ``cache_dir`` (subsetting costs
    about half a second of CPU, mostly importing fontTools)."""
    source = FONT_DIR / "LiberationSerif-Regular.ttf"
    if cache_dir is None:
        return make_stamp_font()
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
    font = make_stamp_font()
    with contextlib.suppress(OSError):
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        meta = {"sha256": hashlib.sha256(font.data).hexdigest(), "name": font.name,
                "gids": font.gids, "widths": font.widths, "ascent": font.ascent,
                "descent": font.descent, "cap_height": font.cap_height,
                "bbox": list(font.bbox)}
        for path, payload in ((data_path, font.data), (meta_path, json.dumps(meta).encode())):
            write_atomically(path, payload)
    return font


def make_stamp_font() -> _StampFont:
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
            return f"{num(point[0] * factor + self.offset)} {num(point[1] * factor)}"

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



def _scale_page_content(page: pikepdf.Page, matrix: list[float], view_w: float,
                        view_h: float, scale: float) -> list[float]:
    """The user-space ``cm`` that shrinks the page's content by ``scale`` towards its top
    centre as viewed; the page's annotations move with it."""
    shrink = [scale, 0, 0, scale, view_w / 2 * (1 - scale), view_h * (1 - scale)]
    user = concat(concat(invert(matrix), shrink), matrix)
    annotations = page.obj.get("/Annots")
    if isinstance(annotations, Array):
        for annotation in annotations:
            rect = annotation.get("/Rect") if isinstance(annotation, Dictionary) else None
            if isinstance(rect, Array) and len(rect) == 4:
                with contextlib.suppress(TypeError, ValueError):
                    x0, y0 = apply(user, float(rect[0]), float(rect[1]))
                    x1, y1 = apply(user, float(rect[2]), float(rect[3]))
                    annotation.Rect = Array([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)])
    return user


STAMP_KEY = "/BkltStamp"  # marks the content streams the build added to a page


def stamp_pages(booklet: Pdf, draft: bool, places: Sequence[Place] | None = None,
                 first: int = 1, numbers: Sequence[int | None] | None = None,
                 font: _StampFont | None = None) -> None:
    """Number the pages bottom centre as viewed (or where ``places`` says), the cover
    (page 1) excepted; mark drafts. No box is painted: where the paper has ink in the
    number's band the number goes elsewhere or the content is scaled down (``places``).
    ``numbers`` overrides the printed number per page (None: no number)."""
    font = font or stamp_font()
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
        matrix, view_w, view_h = view_matrix(page)
        ops = [f"Q q {' '.join(num(v) for v in matrix)} cm"]
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
                f"q {state_name} gs {a:.5f} {b:.5f} {-b:.5f} {a:.5f} {num(x)} {num(y)} cm "
                f"{form_name} Do Q"
            )
            ops.append(
                f"BT 0.35 g {font_name} {num(BANNER_SIZE)} Tf 0 Tr 0 Tc 0 Tw 100 Tz "
                f"1 0 0 1 {num((view_w - banner_w) / 2)} {num(view_h - BANNER_DROP)} Tm "
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
                    f"q {' '.join(num4(v) for v in user)} cm\n".encode())
                page_push[STAMP_KEY] = True
            text = str(number)
            text_w = font.width(text, NUMBER_SIZE)
            x = place_x(where, view_w) - text_w / 2
            ops.append(
                f"BT 0 g {font_name} {num(NUMBER_SIZE)} Tf 0 Tr 0 Tc 0 Tw 100 Tz "
                f"1 0 0 1 {num(x)} {num(place_baseline(where, view_h))} Tm "
                f"<{font.encode(text).decode()}> Tj ET"
            )
        ops.append("Q\n")
        page.contents_add(page_push, prepend=True)
        stamp = booklet.make_stream(" ".join(ops).encode())
        stamp[STAMP_KEY] = True
        page.contents_add(stamp)

