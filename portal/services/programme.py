"""The seminar's programme: the opening item, the papers in order, the closing item, each with
its start and end. Times are not stored per item: they follow from the session's start and each
item's minutes, so reordering papers or changing one duration moves the rest consistently.

Used by every agenda (home page, materials, the booklet's agenda page) and by the Office's
programme editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from .. import clock
from ..extensions import db
from ..models import Assignment, Seminar
from . import audit
from .errors import InvalidInput, NeedsConfirmation


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


# -- warnings and editing ------------------------------------------------------------------------


def deadline_warnings(seminar: Seminar) -> list:
    """The seminar's deadline, and every extension, that falls after the session starts."""
    return seminar_deadline_warnings(seminar) + extension_warnings(seminar)


def seminar_deadline_warnings(seminar: Seminar) -> list:
    if seminar.deadline <= seminar.session_start:
        return []
    return [_l("The deadline (%(deadline)s) falls after the session starts (%(start)s): "
               "papers could arrive after the seminar.",
               deadline=clock.format_datetime(seminar.deadline),
               start=clock.format_datetime(seminar.session_start))]


def extension_warnings(seminar: Seminar, only: Assignment | None = None) -> list:
    found = []
    for assignment in sorted(seminar.assignments, key=lambda a: a.position):
        if only is not None and assignment is not only:
            continue
        extension = assignment.deadline_extension
        if extension is not None and extension > seminar.session_start:
            found.append(_l("The extension of paper %(n)d (%(deadline)s) falls after the "
                            "session starts (%(start)s).", n=assignment.position,
                            deadline=clock.format_datetime(extension),
                            start=clock.format_datetime(seminar.session_start)))
    return found


def overrun_warnings(seminar: Seminar) -> list:
    if not overruns(seminar):
        return []
    end = programme_end(seminar)
    return [_l("The programme ends at %(end)s, after the session's end at %(session_end)s "
               "(%(minutes)d minutes too long).", end=clock.format_time(end),
               session_end=clock.format_time(seminar.session_end),
               minutes=int((end - seminar.session_end).total_seconds() // 60))]


def confirm_or_rollback(found: list, confirmed: bool) -> None:
    """Raise NeedsConfirmation (undoing the pending changes) unless confirmed or nothing found."""
    if found and not confirmed:
        db.session.rollback()
        raise NeedsConfirmation(found)


@dataclass(frozen=True)
class ItemEdit:
    assignment_id: int
    title: str
    presenter: str
    minutes: int


@dataclass(frozen=True)
class ProgrammeEdit:
    opening_title: str
    opening_minutes: int
    closing_title: str
    closing_minutes: int
    items: list[ItemEdit]


def save(seminar: Seminar, edit: ProgrammeEdit, actor=None, move: tuple[int, int] | None = None,
         confirmed: bool = False) -> None:
    """Save the programme's titles, presenters and minutes; with ``move`` = (assignment id,
    -1 or +1), also move that paper one place up or down (papers swap their numbers).

    Raises InvalidInput (nothing saved) for an empty title or impossible minutes, and
    NeedsConfirmation (nothing saved) when the programme would run past the session's end."""
    by_id = {a.id: a for a in seminar.assignments}
    for value, field in ((edit.opening_title, "opening_title"),
                         (edit.closing_title, "closing_title")):
        if not value.strip():
            raise _invalid_title(field)
    for name, value in (("opening_minutes", edit.opening_minutes),
                        ("closing_minutes", edit.closing_minutes)):
        if not 0 <= value <= 600:
            raise _invalid_minutes(name, 0)
    changes: dict[str, object] = {}
    seminar.opening_title = edit.opening_title.strip()[:300]
    seminar.opening_minutes = edit.opening_minutes
    seminar.closing_title = edit.closing_title.strip()[:300]
    seminar.closing_minutes = edit.closing_minutes
    for index, item in enumerate(edit.items):
        assignment = by_id.get(item.assignment_id)
        if assignment is None:
            db.session.rollback()
            raise InvalidInput(_invalid_item_text())
        if not item.title.strip():
            db.session.rollback()
            raise _invalid_title(f"items-{index}-title")
        if not 1 <= item.minutes <= 600:
            db.session.rollback()
            raise _invalid_minutes(f"items-{index}-minutes")
        if assignment.title != item.title.strip():
            changes[f"paper {assignment.position} title"] = item.title.strip()
        assignment.title = item.title.strip()
        assignment.presenter_name = item.presenter.strip()[:200]
        assignment.duration_minutes = item.minutes
    if move is not None:
        _move(seminar, *move)
        changes["moved"] = list(move)
    confirm_or_rollback(overrun_warnings(seminar), confirmed)
    audit.record("seminar.set_programme", actor, target=str(seminar.id),
                 end=clock.format_time(programme_end(seminar)), **changes)
    db.session.commit()


def _move(seminar: Seminar, assignment_id: int, step: int) -> None:
    ordered = sorted(seminar.assignments, key=lambda a: a.position)
    index = next((i for i, a in enumerate(ordered) if a.id == assignment_id), None)
    if index is None or step not in (-1, 1) or not 0 <= index + step < len(ordered):
        return
    one, other = ordered[index], ordered[index + step]
    first, second = one.position, other.position
    # The (seminar, position) pair is unique: park one paper on a free number first.
    used = {a.position for a in ordered}
    parking = next(n for n in range(99, 0, -1) if n not in used)
    one.position = parking
    db.session.flush()
    other.position = first
    db.session.flush()
    one.position = second
    db.session.flush()


def _invalid_title(field: str):
    return InvalidInput(_l("Write a title; the agenda prints it."), field=field)


def _invalid_minutes(field: str, least: int = 1):
    return InvalidInput(_l("Give the minutes as a whole number from %(least)d to 600."),
                        field=field, least=least)


def _invalid_item_text():
    return _l("The programme changed while you were editing it. Reload the page and try again.")
