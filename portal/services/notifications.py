"""What the portal mails, to whom and when. How it is sent: ``services.mail``.

- ``upload_receipt``: after every accepted upload, to the uploader (and, when the Office
  uploaded on a unit's behalf, to the unit's members): paper, file name, size, pages, sha256,
  the time in Vietnam time.
- ``remind``: ``flask remind`` — to every active member of each unit whose paper is still
  missing while its deadline is ahead; never twice for the same assignment, deadline and
  Vietnam calendar day.
- ``promoted``: to a person confirmed from the waiting list.
- ``booklet_published``: to every confirmed attendee when a final booklet is built.

Every mail is in the recipient's language (Vietnamese, or English for ``locale == "en"``):
two template variants, ``templates/mail/vi/`` and ``templates/mail/en/``. These functions are
called after the triggering transaction committed, and never raise for a mail problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import LazyString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import clock, links
from ..extensions import db
from ..models import Assignment, Booklet, Registration, ReminderSent, Seminar, Submission, User
from ..timefmt import remaining_text
from . import audit
from .mail import SENT, compose, send_all
from .submissions import assignments_with_revisions


def _kind_vi(assignment: Assignment) -> str:
    return assignment.kind.label_vi


def _active_members(unit_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.unit_id == unit_id, User.active.is_(True)).order_by(User.id)))


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


def upload_receipt(submission: Submission) -> list:
    assignment = submission.assignment
    recipients = [submission.uploader]
    if submission.on_behalf:
        recipients += _active_members(assignment.unit_id)
    context = {
        "submission": submission,
        "assignment": assignment,
        "kind_vi": _kind_vi(assignment),
        "when": clock.format_datetime(submission.uploaded_at, seconds=True),
        "deadline": assignment.effective_deadline,
        "url": links.absolute_url("presenter.paper", position=assignment.position),
        "uploader": submission.uploader,
    }
    mails = [compose(user, "receipt", **context) for user in _unique(recipients)]
    return send_all(mails)


# -- promotion from the waiting list -------------------------------------------------------


def promoted(registration: Registration) -> list:
    user = registration.user
    seminar = registration.seminar
    mail = compose(user, "promoted", seminar=seminar, registration=registration,
                   materials_url=links.absolute_url("attendee.materials"),
                   register_url=links.absolute_url("attendee.register"))
    _attach_checkin_code(mail, registration)
    return send_all([mail])


def _attach_checkin_code(mail, registration: Registration) -> None:
    """The person's check-in QR code as a PNG attachment (confirmed people only)."""
    from . import checkin

    token = checkin.token_for(registration)
    if token:
        mail.attachments.append(("ma-diem-danh.png", "image/png", checkin.qr_png(token)))


# -- a final booklet is out ----------------------------------------------------------------


def booklet_published(booklet: Booklet) -> list:
    if booklet.is_draft:
        return []
    seminar = db.session.get(Seminar, booklet.seminar_id)
    from .attendance import confirmed

    people = _unique([registration.user for registration in confirmed(seminar)])
    context = {
        "seminar": seminar,
        "booklet": booklet,
        "when": clock.format_datetime(booklet.built_at),
        "booklet_url": links.absolute_url("attendee.materials_booklet"),
        "materials_url": links.absolute_url("attendee.materials"),
    }
    return send_all([compose(user, "booklet", **context) for user in people])


# -- reminders for missing papers ----------------------------------------------------------

SKIP_SUBMITTED = "submitted"
SKIP_DEADLINE_PASSED = "deadline passed"
SKIP_TOO_EARLY = "deadline further away"
SKIP_ALREADY = "reminded already today"
SKIP_NO_MEMBERS = "no active member"


@dataclass
class ReminderOutcome:
    position: int
    unit: str
    deadline: datetime
    status: str  # "sent", "failed" or "skipped"
    reason: str = ""
    recipients: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def remind(seminar: Seminar, days: int | None = None) -> list[ReminderOutcome]:
    """Remind every unit whose paper is missing while its deadline is ahead (with ``days``:
    only when the deadline is at most that many days away). A reminder is recorded per
    (assignment, deadline, Vietnam calendar day) before it is sent; when no mail of it could be
    sent, the record is removed again so that a later run tries again."""
    now = clock.now()
    today = clock.local(now).date()
    outcomes: list[ReminderOutcome] = []
    for assignment in assignments_with_revisions(seminar):
        deadline = assignment.effective_deadline
        outcome = ReminderOutcome(position=assignment.position, unit=assignment.unit.name,
                                  deadline=deadline, status="skipped")
        outcomes.append(outcome)
        reason, members = _decide(assignment, now, today, days)
        if reason:
            outcome.reason = reason
            continue
        claim = ReminderSent(assignment_id=assignment.id, deadline=deadline, day=today,
                             sent_at=now, recipients=0)
        db.session.add(claim)
        try:
            db.session.commit()
        except IntegrityError:  # another run claimed it a moment ago
            db.session.rollback()
            outcome.reason = SKIP_ALREADY
            continue
        rows = send_all([compose(user, "reminder", **_reminder_context(assignment, deadline,
                                                                       now))
                         for user in members])
        outcome.recipients = [row.recipient for row in rows if row.status == SENT]
        outcome.failed = [row.recipient for row in rows if row.status != SENT]
        claim = db.session.get(ReminderSent, claim.id)
        if not outcome.recipients:
            outcome.status = "failed"
            if claim is not None:
                db.session.delete(claim)
        else:
            outcome.status = "sent"
            if claim is not None:
                claim.recipients = len(outcome.recipients)
            audit.record("mail.remind", None, target=f"paper {assignment.position}",
                         deadline=clock.isoformat_local(deadline), to=outcome.recipients)
        db.session.commit()
    return outcomes


def _decide(assignment: Assignment, now: datetime, today, days: int | None
            ) -> tuple[str, list[User]]:
    """The one rule of reminders: ("", members to mail) or (the reason to skip, [])."""
    deadline = assignment.effective_deadline
    if assignment.current_submission is not None:
        return SKIP_SUBMITTED, []
    if now >= deadline:
        return SKIP_DEADLINE_PASSED, []
    if days is not None and deadline - now > timedelta(days=days):
        return SKIP_TOO_EARLY, []
    if _reminded(assignment, deadline, today):
        return SKIP_ALREADY, []
    members = _active_members(assignment.unit_id)
    if not members:
        return SKIP_NO_MEMBERS, []
    return "", members


@dataclass
class PlannedReminder:
    """What ``remind`` would do for one paper, for the Office to read before sending."""

    position: int
    unit: str
    title: str
    deadline: datetime
    reason: str  # "" when a reminder would go out
    recipients: list[User] = field(default_factory=list)
    subject: str = ""

    @property
    def will_send(self) -> bool:
        return not self.reason


def remind_plan(seminar: Seminar, days: int | None = None) -> list[PlannedReminder]:
    """Who ``remind`` would mail now, and why the others are skipped; sends nothing."""
    from .mail import render

    now = clock.now()
    today = clock.local(now).date()
    plan: list[PlannedReminder] = []
    for assignment in assignments_with_revisions(seminar):
        deadline = assignment.effective_deadline
        reason, members = _decide(assignment, now, today, days)
        item = PlannedReminder(position=assignment.position, unit=assignment.unit.name,
                               title=assignment.title, deadline=deadline, reason=reason,
                               recipients=members)
        if members:
            item.subject, _text, _html = render(
                "reminder", "vi", user=members[0],
                **_reminder_context(assignment, deadline, now))
        plan.append(item)
    return plan


def _reminded(assignment: Assignment, deadline: datetime, day) -> bool:
    return db.session.scalar(
        select(ReminderSent.id).where(ReminderSent.assignment_id == assignment.id,
                                      ReminderSent.deadline == deadline,
                                      ReminderSent.day == day).limit(1)) is not None


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
