"""Where a page's number goes: the bottom centre as viewed (whatever the page's size, origin,
/Rotate or /UserUnit) unless the paper has ink there, then a corner, the top, or the page's
content scaled down. Also the viewed-coordinates geometry the stamp and the print editions
share."""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf

from portal.fileio import temporary_path
from portal.services.documents.pdf import page_rotation
from portal.settings import sha256_file

NUMBER_SIZE = 11.0  # pt
NUMBER_BASELINE = 31.0  # pt above the bottom edge as viewed (about 11 mm)


def view_matrix(page: pikepdf.Page) -> tuple[list[float], float, float]:
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


def num(value: float) -> str:
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


def place_x(place: str, view_w: float) -> float:
    return {"r": view_w - CORNER, "l": CORNER}.get(place, view_w / 2)


def place_baseline(place: str, view_h: float) -> float:
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
        if not _inked(image, k, view_h, place_x(place, view_w), BAND_LOW, BAND_HIGH):
            return (place, 1.0)
    top = place_baseline("t", view_h)
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
    digest = sha256_file(Path(path))[0]
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
                _matrix, view_w, view_h = view_matrix(page)
                with Image.open(images[index]) as image:
                    places.append(_choose_place(image.convert("L"), view_w, view_h))
    return places + [CENTRE] * (pages - len(places))


def concat(first: Sequence[float], then: Sequence[float]) -> list[float]:
    """The matrix applying ``first`` and then ``then`` (PDF order: first × then)."""
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = then
    return [a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2]


def invert(m: Sequence[float]) -> list[float]:
    a, b, c, d, e, f = m
    det = a * d - b * c
    return [d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det]


def apply(m: Sequence[float], x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]




def num4(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


