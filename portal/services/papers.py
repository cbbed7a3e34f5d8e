"""The seminar's papers as the pages and commands list them: finding a paper, its status,
the accepted file types, and the listing behind ``flask submissions list``.

Uploads and revisions live in ``submissions``; deadline extensions in ``deadline_extensions``.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import Assignment, Seminar, Submission
from .errors import NotFound

MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "odt": "application/vnd.oasis.opendocument.text",
}
EXTENSIONS = {"pdf": ".pdf", "docx": ".docx", "doc": ".doc", "odt": ".odt"}

STATUS_MISSING = "missing"
STATUS_SUBMITTED = "submitted"
STATUS_LATE = "late"
STATUS_RECEIVED = "received"

STATUS_LABELS = {
    STATUS_MISSING: _l("not submitted"),
    STATUS_SUBMITTED: _l("submitted"),
    STATUS_LATE: _l("submitted late"),
    STATUS_RECEIVED: _l("received"),
}


def get_assignment(seminar: Seminar, position: int, *,
                   with_revisions: bool = False) -> Assignment:
    """Paper ``position`` of ``seminar``; ``with_revisions``: its revisions and their
    uploaders loaded with it (two more queries, whatever the number of revisions)."""
    query = select(Assignment).where(Assignment.seminar_id == seminar.id,
                                     Assignment.position == position)
    if with_revisions:
        query = query.options(
            selectinload(Assignment.submissions).selectinload(Submission.uploader))
    assignment = db.session.scalar(query)
    if assignment is None:
        raise NotFound(_l("There is no paper number %(n)s."), n=position)
    return assignment


def assignments_with_revisions(seminar: Seminar) -> list[Assignment]:
    """The seminar's assignments in order, with units and revisions loaded in two queries."""
    return list(
        db.session.scalars(
            select(Assignment)
            .where(Assignment.seminar_id == seminar.id)
            .options(
                selectinload(Assignment.unit),
                selectinload(Assignment.submissions).selectinload(Submission.uploader),
            )
            .order_by(Assignment.position)
        )
    )


def status_of(assignment: Assignment) -> str:
    current = assignment.current_submission
    if current is None:
        return STATUS_MISSING
    if current.received_at is not None:
        return STATUS_RECEIVED
    if current.late:
        return STATUS_LATE
    return STATUS_SUBMITTED


def listing(seminar: Seminar) -> list[dict]:
    """``flask submissions list --json``."""
    rows = []
    for assignment in assignments_with_revisions(seminar):
        rows.append({
            "position": assignment.position,
            "unit": assignment.unit.name,
            "title": assignment.title,
            "status": status_of(assignment),
            "deadline": clock.isoformat_local(assignment.effective_deadline),
            "revisions": [
                {
                    "number": s.number,
                    "filename": s.original_filename,
                    "size": s.size,
                    "sha256": s.sha256,
                    "type": s.file_type,
                    "pages": s.pages,
                    "uploaded_at": clock.isoformat_local(s.uploaded_at),
                    "uploaded_by": s.uploader.email if s.uploader else None,
                    "late": s.late,
                    "received": s.received_at is not None,
                }
                for s in assignment.submissions
            ],
        })
    return rows
