"""Deadline extensions: the Office lets one paper arrive after the seminar's deadline.

Whether an upload is on time is decided in ``policy``; this module only records or clears a
paper's own deadline and its reason.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from .. import clock
from ..extensions import db
from ..models import Assignment, User
from . import audit, programme
from .errors import InvalidInput


def grant_extension(assignment: Assignment, text: str, reason: str, actor: User,
                    confirmed: bool = True) -> datetime:
    """Let one paper arrive later. With ``confirmed=False`` an extension after the session's
    start raises NeedsConfirmation and nothing is saved."""
    try:
        instant = clock.parse_local(text)
    except ValueError:
        raise InvalidInput(_l("Write the new deadline as DD/MM/YYYY HH:MM (Vietnam time)."),
                           field="deadline") from None
    if instant <= assignment.seminar.deadline:
        raise InvalidInput(_l("An extension must be later than the seminar's deadline "
                              "(before %(when)s, Vietnam time)."), field="deadline",
                           when=clock.format_datetime(assignment.seminar.deadline))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_l("Give a reason for the extension; the presenter will see it."),
                           field="reason")
    assignment.deadline_extension = instant
    assignment.extension_reason = reason[:1000]
    programme.confirm_or_rollback(
        programme.extension_warnings(assignment.seminar, only=assignment), confirmed)
    audit.record("assignment.extend", actor, target=f"paper {assignment.position}",
                 deadline=clock.isoformat_local(instant), reason=reason)
    db.session.commit()
    return instant


def clear_extension(assignment: Assignment, actor: User) -> None:
    assignment.deadline_extension = None
    assignment.extension_reason = ""
    audit.record("assignment.clear_extension", actor, target=f"paper {assignment.position}")
    db.session.commit()
