"""What the Office checks before a build (the preflight): per paper its revision, pages,
page sizes, fonts not embedded and where it will start; and the first guess of the front
matter's length (the last build's)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from ...extensions import db
from ...models import Assignment, Booklet, Seminar, Submission
from ...settings import converted_folder
from ...storage import Storage, get_storage
from ..documents import notes
from ..documents.notes import Note
from ..papers import assignments_with_revisions
from ..submissions import converter_version
from .parts import plan_starts, size_name

log = logging.getLogger(__name__)

FRONT_PAGES_GUESS = 3  # cover, agenda, table of contents


@dataclass
class PreflightRow:
    assignment: Assignment
    revision: Submission | None
    pages: int = 0
    page_sizes: list[list[float]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    start_page: int | None = None
    stale: bool = False  # converted by an older converter: converted again at build time
    unembedded: list[str] = field(default_factory=list)  # fonts not embedded in its PDF

    @property
    def left_hand(self) -> bool:
        """Starts on an even page: a left-hand page when printed on both sides."""
        return bool(self.start_page) and self.start_page % 2 == 0

    @property
    def size_labels(self) -> list[str]:
        """Distinct page sizes, named (A4, Letter, landscape, rotated)."""
        labels: list[str] = []
        for width, height, *rest in self.page_sizes:
            rotation = int(rest[0]) if rest else 0
            label = _size_name(width, height)
            if rotation:
                label += f" ↻{rotation}°"
            if label not in labels:
                labels.append(label)
        return labels


def _size_name(width: float, height: float) -> str:
    return size_name(width, height)


def _unembedded_fonts(revision: Submission, storage: Storage) -> list[str]:
    """Fonts the revision's normalised PDF uses without embedding them."""
    if not revision.normalised_path or not storage.exists(revision.normalised_path):
        return []
    try:
        from .fonts import check_paper

        return check_paper(storage.path(revision.normalised_path)).unembedded
    except Exception:  # noqa: BLE001 - a paper the preflight cannot read shows no fonts
        log.warning("preflight could not read %s", revision.normalised_path)
        return []


def preflight(seminar: Seminar, storage: Storage | None = None) -> list[PreflightRow]:
    """Per paper: revision, pages, page sizes, fonts not embedded, where it starts (and so
    whether on a left-hand page), conversion notes."""
    rows: list[PreflightRow] = []
    storage = storage or get_storage()
    version = converter_version()
    for assignment in assignments_with_revisions(seminar):
        revision = assignment.current_submission
        row = PreflightRow(assignment=assignment, revision=revision)
        if revision is not None:
            row.pages = revision.normalised_pages or revision.pages or 0
            try:
                row.page_sizes = json.loads(revision.page_sizes or "[]")
            except ValueError:
                row.page_sizes = []
            row.notes = notes.read_stored(revision.conversion_notes)
            row.stale = not is_current(revision, version)
            row.unembedded = _unembedded_fonts(revision, storage)
        else:
            row.pages = 1  # the placeholder page of a draft
        rows.append(row)
    starts = plan_starts(front_pages_guess(seminar), [r.pages for r in rows])
    for row, start in zip(rows, starts, strict=True):
        row.start_page = start
    return rows


def front_pages_guess(seminar: Seminar) -> int:
    latest = db.session.scalar(
        select(Booklet).where(Booklet.seminar_id == seminar.id)
        .order_by(Booklet.built_at.desc(), Booklet.id.desc()).limit(1))
    if latest is not None:
        try:
            return int(latest.contents_data.get("front_pages", FRONT_PAGES_GUESS))
        except (TypeError, ValueError):
            pass
    return FRONT_PAGES_GUESS


def is_current(revision: Submission, version: str) -> bool:
    return bool(revision.normalised_path) and revision.normalised_path.startswith(
        converted_folder(version))
