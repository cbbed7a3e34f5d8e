"""The seminar's programme: the opening item, the papers in order, the closing item, each with
its start and end. Times are not stored per item: they follow from the session's start and each
item's minutes, so reordering papers or changing one duration moves the rest consistently.

Used by every agenda (home page, materials, the booklet's agenda page) and by the Office's
programme editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..models import Assignment, Seminar


@dataclass(frozen=True)
class ProgrammeItem:
    kind: str  # "opening", "paper" or "closing"
    title: str
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    presenter: str = ""
    unit: str = ""
    assignment: Assignment | None = None

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def presenter_name(assignment: Assignment) -> str:
    """The name the agenda prints, as the Office typed it ("" when not yet known)."""
    if assignment.presenter_name.strip():
        return assignment.presenter_name.strip()
    return ""


def programme(seminar: Seminar) -> list[ProgrammeItem]:
    """Opening, every paper in position order, closing, back to back from session_start."""
    items: list[ProgrammeItem] = []
    at = seminar.session_start
    step = timedelta(minutes=max(seminar.opening_minutes or 0, 0))
    items.append(ProgrammeItem("opening", seminar.opening_title, at, at + step))
    at += step
    for assignment in sorted(seminar.assignments, key=lambda a: a.position):
        step = timedelta(minutes=max(assignment.duration_minutes or 0, 0))
        items.append(
            ProgrammeItem(
                "paper",
                assignment.title,
                at,
                at + step,
                presenter=presenter_name(assignment),
                unit=assignment.unit.name,
                assignment=assignment,
            )
        )
        at += step
    step = timedelta(minutes=max(seminar.closing_minutes or 0, 0))
    items.append(ProgrammeItem("closing", seminar.closing_title, at, at + step))
    return items


def programme_end(seminar: Seminar) -> datetime:
    return programme(seminar)[-1].ends_at


def overruns(seminar: Seminar) -> bool:
    """True when the programme ends after the session's announced end."""
    return programme_end(seminar) > seminar.session_end
