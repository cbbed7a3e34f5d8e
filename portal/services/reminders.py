"""Reminders for missing papers (``flask remind`` and the Office's "Gửi nhắc nhở"): to every
active member of each unit whose paper is still missing while its deadline is ahead; never
twice for the same assignment, deadline and Vietnam calendar day.

A reminder is recorded (``ReminderSent``) in the same transaction as its mails are queued in
the outbox, so the record and the mail stand or fall together; a mail that fails stays in the
outbox and is tried again by ``flask mail send`` (or "Gửi lại"), not by another reminder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import Assignment, MailLog, ReminderSent, Seminar, User
from . import audit, notifications
from .mail import FAILED
from .papers import assignments_with_revisions

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
    status: str  # "sent" (queued, and not failed), "failed" or "skipped"
    reason: str = ""
    recipients: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def remind(seminar: Seminar, days: int | None = None) -> list[ReminderOutcome]:
    """Remind every unit whose paper is missing while its deadline is ahead (with ``days``:
    only when the deadline is at most that many days away). Each reminder is claimed (one
    row per assignment, deadline and Vietnam day; a run that loses the race skips it) and its
    mails queued in one transaction. On the command line the mails are delivered right after
    each commit, so the outcome says what was sent and what failed; in a request they are on
    their way ("sent" counts them until the mail page says otherwise)."""
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
        db.session.add(ReminderSent(assignment_id=assignment.id, deadline=deadline, day=today,
                                    sent_at=now, recipients=len(members)))
        try:
            db.session.flush()
        except IntegrityError:  # another run claimed it a moment ago
            db.session.rollback()
            outcome.reason = SKIP_ALREADY
            continue
        rows = notifications.reminder(assignment, deadline, now, members)
        audit.record("mail.remind", None, target=f"paper {assignment.position}",
                     deadline=clock.isoformat_local(deadline),
                     to=[row.recipient for row in rows])
        db.session.commit()
        ids = [row.id for row in rows]
        statuses = dict(db.session.execute(
            select(MailLog.recipient, MailLog.status).where(MailLog.id.in_(ids))).all())
        outcome.recipients = [r for r, status in statuses.items() if status != FAILED]
        outcome.failed = [r for r, status in statuses.items() if status == FAILED]
        outcome.status = "sent" if outcome.recipients else "failed"
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
    members = notifications.active_members(assignment.unit_id)
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
            item.subject = notifications.reminder_subject(assignment, deadline, now,
                                                          members[0])
        plan.append(item)
    return plan


def _reminded(assignment: Assignment, deadline: datetime, day) -> bool:
    return db.session.scalar(
        select(ReminderSent.id).where(ReminderSent.assignment_id == assignment.id,
                                      ReminderSent.deadline == deadline,
                                      ReminderSent.day == day).limit(1)) is not None


def recent(limit: int = 50) -> list[ReminderSent]:
    """The reminders sent, newest first, each with its paper."""
    return list(db.session.scalars(
        select(ReminderSent).options(selectinload(ReminderSent.assignment))
        .order_by(ReminderSent.sent_at.desc(), ReminderSent.id.desc()).limit(limit)))
