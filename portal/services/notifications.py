"""What the portal mails, to whom. Each function composes the mails of one event and queues
them in the outbox (``services.outbox``) inside the caller's transaction, before its commit:
the action and its mail are written together, and the mail is delivered after the commit.

- ``upload_receipt``: with every accepted upload, to the uploader (and, when the Office
  uploaded on a unit's behalf, to the unit's members): paper, file name, size, pages, sha256,
  the time in Vietnam time.
- ``reminder``: ``services.reminders`` (``flask remind``) — to the members of a unit whose
  paper is still missing.
- ``promoted``: to a person confirmed from the waiting list, with their check-in code.
- ``booklet_published``: to every confirmed attendee when a final booklet is built.
- ``reset_link``: a one-time link to set a new password.

Every mail is in the recipient's language (Vietnamese, or English for ``locale == "en"``).
A mail that cannot be composed is logged and never fails the action.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask_babel import LazyString
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .. import clock, links
from ..extensions import db
from ..models import Assignment, Booklet, MailLog, Registration, Seminar, Submission, User
from ..timefmt import remaining_text
from . import checkin_code, outbox
from .mail import Mail, compose, render

log = logging.getLogger("portal.mail")


def _kind_vi(assignment: Assignment) -> str:
    return assignment.kind.label_vi


def active_members(unit_id: int) -> list[User]:
    """The unit's active accounts: who hears about its paper."""
    return list(db.session.scalars(
        select(User).where(User.unit_id == unit_id, User.active.is_(True)).order_by(User.id)))


def _queue(event: str, build: Callable[[], list[Mail]]) -> list[MailLog]:
    """Queue the mails ``build`` composes; a mail that cannot be composed is logged, never
    raised: the action goes on without it."""
    try:
        # Composing reads; it never writes the action's pending changes itself (the action's
        # commit does, and a failure there is the action's, raised to its caller).
        with db.session.no_autoflush:
            mails = build()
    except SQLAlchemyError:
        raise  # the database, not the mail: the action cannot go on either
    except Exception:  # noqa: BLE001 - a mail problem never fails the action
        log.exception("could not compose the %s mail", event)
        return []
    return outbox.queue(mails)


def _unique(users: list[User | None]) -> list[User]:
    seen: set[str] = set()
    result = []
    for user in users:
        if user is None or not user.active or not user.email:
            continue
        key = user.email.lower()
        if key not in seen:
            seen.add(key)
            result.append(user)
    return result


# -- the receipt of an upload --------------------------------------------------------------


def upload_receipt(submission: Submission) -> list[MailLog]:
    return _queue("receipt", lambda: _receipts(submission))


def _receipts(submission: Submission) -> list[Mail]:
    assignment = submission.assignment
    recipients = [submission.uploader]
    if submission.on_behalf:
        recipients += active_members(assignment.unit_id)
    context = {
        "submission": submission,
        "assignment": assignment,
        "kind_vi": _kind_vi(assignment),
        "when": clock.format_datetime(submission.uploaded_at, seconds=True),
        "deadline": assignment.effective_deadline,
        "url": links.absolute_url("presenter.paper", position=assignment.position),
        "uploader": submission.uploader,
    }
    return [compose(user, "receipt", **context) for user in _unique(recipients)]


# -- promotion from the waiting list -------------------------------------------------------


def promoted(registration: Registration) -> list[MailLog]:
    return _queue("promotion", lambda: [_promotion(registration)])


def _promotion(registration: Registration) -> Mail:
    mail = compose(registration.user, "promoted", seminar=registration.seminar,
                   registration=registration,
                   materials_url=links.absolute_url("attendee.materials"),
                   register_url=links.absolute_url("attendee.register"))
    _attach_checkin_code(mail, registration)
    return mail


def _attach_checkin_code(mail, registration: Registration) -> None:
    """The person's check-in QR code as a PNG attachment (confirmed people only)."""
    token = checkin_code.token_for(registration)
    if token:
        mail.attachments.append(("ma-diem-danh.png", "image/png", checkin_code.qr_png(token)))


# -- a final booklet is out ----------------------------------------------------------------


def booklet_published(booklet: Booklet, confirmed: list[Registration]) -> list[MailLog]:
    """To the ``confirmed`` attendees (``attendance.confirmed``) when ``booklet`` is final."""
    if booklet.is_draft:
        return []
    return _queue("booklet", lambda: _announcements(booklet, confirmed))


def _announcements(booklet: Booklet, confirmed: list[Registration]) -> list[Mail]:
    people = _unique([registration.user for registration in confirmed])
    context = {
        "seminar": db.session.get(Seminar, booklet.seminar_id),
        "booklet": booklet,
        "when": clock.format_datetime(booklet.built_at),
        "booklet_url": links.absolute_url("attendee.materials_booklet"),
        "materials_url": links.absolute_url("attendee.materials"),
    }
    return [compose(user, "booklet", **context) for user in people]


# -- a link to set a new password ----------------------------------------------------------


def reset_link(user: User, url: str, hours: int, by_office: bool) -> list[MailLog]:
    return _queue("password link", lambda: [compose(user, "reset", url=url, hours=hours,
                                                    by_office=by_office)])


# -- a reminder for a missing paper --------------------------------------------------------


def reminder(assignment: Assignment, deadline: datetime, now: datetime,
             members: list[User]) -> list[MailLog]:
    context = _reminder_context(assignment, deadline, now)
    return _queue("reminder", lambda: [compose(user, "reminder", **context)
                                       for user in members])


def reminder_subject(assignment: Assignment, deadline: datetime, now: datetime,
                     member: User) -> str:
    """The subject a reminder would have (in Vietnamese), for the Office to read first."""
    subject, _text, _html = render("reminder", "vi", user=member,
                                   **_reminder_context(assignment, deadline, now))
    return subject


def _reminder_context(assignment: Assignment, deadline: datetime, now: datetime) -> dict:
    left = clock.remaining(deadline, now)
    return {
        "assignment": assignment,
        "kind_vi": _kind_vi(assignment),
        "deadline": deadline,
        # Rendered inside the mail's language (force_locale), not the caller's.
        "remaining": LazyString(remaining_text, left),
        "days_left": left.days,
        "url": links.absolute_url("presenter.paper", position=assignment.position),
    }


