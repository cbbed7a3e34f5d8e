"""The booklet's inputs and results, its errors, and the page plan: plain data, no PDF library."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Progress = Callable[[str, float], None]

EDITIONS = ("a4", "a5-booklet")  # the print editions of a final booklet



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



def plan_starts(front_pages: int, part_pages: Sequence[int]) -> list[int]:
    """The 1-based first page of each part, after ``front_pages`` of front matter."""
    starts, page = [], front_pages + 1
    for count in part_pages:
        starts.append(page)
        page += count
    return starts

