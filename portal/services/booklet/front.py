"""The front matter: cover, agenda, table of contents and a placeholder page per missing
paper, one WeasyPrint render of ``templates/pdf/front_matter.html`` (the bundled Liberation
Serif, one FontConfiguration, through ``weasy``), kept in a cache keyed by everything it
shows. The last build's length of cover + agenda + contents is the first guess: right, the
front matter is rendered once."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from portal.fileio import write_atomically
from portal.services import weasy
from portal.settings import PDF_TEMPLATE_DIR

from .parts import AgendaItem, BookletError, FrontMatter, Part, plan_starts

FRONT_TEMPLATE = "front_matter.html"
BOOKLET_CSS = PDF_TEMPLATE_DIR / "booklet.css"
_FRONT_VERSION = "2"


@dataclass
class Rendered:
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


def render_front_matter(
    front: FrontMatter,
    parts: Sequence[Part],
    counts: Sequence[int],
    cache_dir: Path | None,
    guess: int = 3,
) -> Rendered:
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


def _render_front(front: FrontMatter, parts: Sequence[Part], starts: list[int]) -> Rendered:
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
    return Rendered(
        data=data,
        front_pages=front_pages,
        starts=starts,
        placeholders=placeholders,
        anchors={name: anchors[name] for name in ("cover", "agenda", "toc") if name in anchors},
    )


def _cache_paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    return cache_dir / f"front-{key}.pdf", cache_dir / f"front-{key}.json"


def _cache_load(cache_dir: Path | None, key: str) -> Rendered | None:
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
    return Rendered(
        data=data,
        front_pages=int(meta["front_pages"]),
        starts=[int(value) for value in meta["starts"]],
        placeholders={int(k): (int(v[0]), int(v[1])) for k, v in meta["placeholders"].items()},
        anchors={str(k): int(v) for k, v in meta["anchors"].items()},
        cached=True,
    )


def _cache_store(cache_dir: Path | None, key: str, rendered: Rendered, keep: int = 16) -> None:
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
