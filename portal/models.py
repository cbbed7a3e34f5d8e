"""The portal's data, as typed SQLAlchemy 2.0 models.

Instants are stored as naive UTC in the database and come back as aware UTC datetimes
(``UTCDateTime``), so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

import enum
import json
import secrets
from datetime import date, datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock
from .extensions import db
from .settings import DEFAULT_LANGUAGE, TIME_ZONE_NAME


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as naive UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return clock.as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return clock.as_utc(value)


class AssignmentKind(enum.Enum):
    INTRODUCTORY_REPORT = "introductory_report"
    CONTRIBUTED_PAPER = "contributed_paper"

    @property
    def label(self):
        """The kind's name in the reader's language (pages, mail)."""
        return _KIND_LABELS[self]

    @property
    def label_vi(self) -> str:
        """The kind's name in Vietnamese, whatever the reader's language (the booklet is printed in
        Vietnamese): the same catalogue entry as ``label``."""
        with force_locale(DEFAULT_LANGUAGE):
            return str(_KIND_LABELS[self])


_KIND_LABELS = {
    AssignmentKind.INTRODUCTORY_REPORT: _l("Introductory report"),
    AssignmentKind.CONTRIBUTED_PAPER: _l("Contributed paper"),
}


class RegistrationStatus(enum.Enum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


# The capacity's lower bound: a database fact (the check constraint below); the capacity rule
# itself (changing it, the waiting list it moves) lives in services/attendance.py.
MIN_CAPACITY = 1


class Seminar(db.Model):
    __tablename__ = "seminar"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    organiser: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    attendance: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    session_start: Mapped[datetime] = mapped_column(UTCDateTime())
    session_end: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer, default=20)
    timezone: Mapped[str] = mapped_column(String(64), default=TIME_ZONE_NAME)
    registration_open: Mapped[bool] = mapped_column(Boolean, default=True)
    # The programme: an opening item, the papers in order (each with its own minutes), a
    # closing item; times follow from session_start (see services/programme.py).
    opening_title: Mapped[str] = mapped_column(String(300), default="Khai mạc tọa đàm")
    opening_minutes: Mapped[int] = mapped_column(Integer, default=15)
    closing_title: Mapped[str] = mapped_column(
        String(300), default="Thảo luận, kết luận và bế mạc tọa đàm"
    )
    closing_minutes: Mapped[int] = mapped_column(Integer, default=20)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now())

    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="seminar", order_by="Assignment.position"
    )

    __table_args__ = (CheckConstraint(f"capacity >= {MIN_CAPACITY}", name="capacity_at_least_one"),)

    def confirmed_count(self) -> int:
        return db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.seminar_id == self.id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        ) or 0

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.confirmed_count(), 0)


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)

    members: Mapped[list[User]] = relationship(back_populates="unit")
    assignments: Mapped[list[Assignment]] = relationship(back_populates="unit")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    # Raised by logout, a password change or reset and deactivation: every session and
    # remember cookie carrying an older value stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # A generated password must be replaced at the first login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Someone the Office added at the door: no password, never logs in.
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now())

    unit: Mapped[Unit | None] = relationship(back_populates="members")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: kept in the session and the remember cookie
        return f"{self.id}:{self.session_version or 1}"

    def revoke_sessions(self) -> None:
        """End every session and remember cookie of this account (the caller commits)."""
        self.session_version = (self.session_version or 1) + 1

    def registration_for(self, seminar: Seminar) -> Registration | None:
        return db.session.scalar(
            select(Registration).where(
                Registration.seminar_id == seminar.id, Registration.user_id == self.id
            )
        )

    def is_attendee_of(self, seminar: Seminar) -> bool:
        registration = self.registration_for(seminar)
        return registration is not None and registration.status == RegistrationStatus.CONFIRMED


class Assignment(db.Model):
    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminar.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[AssignmentKind] = mapped_column(_enum(AssignmentKind, "assignment_kind"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    deadline_extension: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    # The name printed in the agenda ("" = the unit's presenter account, if any).
    presenter_name: Mapped[str] = mapped_column(String(200), default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=25)

    seminar: Mapped[Seminar] = relationship(back_populates="assignments")
    unit: Mapped[Unit] = relationship(back_populates="assignments")
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="assignment", order_by="Submission.number"
    )

    __table_args__ = (
        UniqueConstraint("seminar_id", "position", name="uq_assignment_seminar_position"),
        CheckConstraint("position BETWEEN 1 AND 99", name="position_range"),
    )

    @property
    def effective_deadline(self) -> datetime:
        """The extension the Office granted, otherwise the seminar's deadline (an extension
        never shortens: if the seminar's deadline later moves past it, that one applies)."""
        if self.deadline_extension is None:
            return self.seminar.deadline
        return max(self.deadline_extension, self.seminar.deadline)

    def is_open(self, at: datetime | None = None) -> bool:
        """True while an upload arriving at ``at`` (default: now) is on time."""
        return (at or clock.now()) < self.effective_deadline

    @property
    def current_submission(self) -> Submission | None:
        return self.submissions[-1] if self.submissions else None


class Submission(db.Model):
    """One uploaded revision of an assignment's paper. Never overwritten."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    original_filename: Mapped[str] = mapped_column(String(500))
    # Shared by the revisions of the same bytes: uploading an earlier revision's file again
    # makes a new revision that points at the file already stored (and its normalised PDF).
    stored_path: Mapped[str] = mapped_column(String(500), index=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_type: Mapped[str] = mapped_column(String(16))  # "pdf" or "docx"
    pages: Mapped[int | None] = mapped_column(Integer)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now())
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The normalised PDF made at upload: its stored path, pages, page sizes and notes.
    normalised_path: Mapped[str | None] = mapped_column(String(500))
    normalised_pages: Mapped[int | None] = mapped_column(Integer)
    page_sizes: Mapped[str] = mapped_column(Text, default="")
    conversion_notes: Mapped[str] = mapped_column(Text, default="")

    assignment: Mapped[Assignment] = relationship(back_populates="submissions")
    uploader: Mapped[User | None] = relationship(foreign_keys=[uploader_id])
    received_by: Mapped[User | None] = relationship(foreign_keys=[received_by_id])

    __table_args__ = (
        UniqueConstraint("assignment_id", "number", name="uq_submission_assignment_number"),
    )


class Registration(db.Model):
    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminar.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(
        _enum(RegistrationStatus, "registration_status")
    )
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now())
    # Orders the waiting list: the moment the person joined it (first come, first served).
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promoted_notice_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Check-in at the door (services/checkin.py): the nonce is signed into the person's QR
    # code; a new registration (after a cancellation) gets a new one, so an old code stops
    # working. checked_in_at is set once (the earliest check wins).
    checkin_nonce: Mapped[str] = mapped_column(
        String(32), default=lambda: secrets.token_hex(8))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    seminar: Mapped[Seminar] = relationship()
    checked_in_by: Mapped[User | None] = relationship(foreign_keys=[checked_in_by_id])

    __table_args__ = (
        UniqueConstraint("seminar_id", "user_id", name="uq_registration_seminar_user"),
    )


class Booklet(db.Model):
    """One build of the proceedings booklet."""

    __tablename__ = "booklet"

    id: Mapped[int] = mapped_column(primary_key=True)
    seminar_id: Mapped[int] = mapped_column(ForeignKey("seminar.id"), index=True)
    built_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now())
    is_draft: Mapped[bool] = mapped_column(Boolean, default=True)
    pages: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(500), unique=True)
    # JSON list of {"position", "submission_id", "start_page", "pages"}
    contents: Mapped[str] = mapped_column(Text, default="[]")

    @property
    def contents_data(self) -> dict:
        """``contents`` parsed, in this one place: {"front_pages", "parts", "editions"}. An older
        row's bare list of parts reads as {"parts": [...]}; anything unreadable as {}."""
        try:
            data = json.loads(self.contents or "{}")
        except ValueError:
            return {}
        if isinstance(data, list):
            return {"parts": data}
        return data if isinstance(data, dict) else {}

    def set_contents(self, data: dict) -> None:
        self.contents = json.dumps(data, ensure_ascii=False)

    built_by: Mapped[User | None] = relationship()


class BookletBuild(db.Model):
    """The booklet build running now, or the last one: a single row (id 1) that a process
    claims before it builds, so that one build runs at a time across every worker. The
    builder beats ``heartbeat_at`` every second; a claim whose heartbeat stopped, or whose
    process is gone, may be taken over."""

    __tablename__ = "booklet_build"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(32))  # a token per claim
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    draft: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    fraction: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running failed finished
    error_code: Mapped[str] = mapped_column(String(32), default="")  # storage_full, crashed …
    error: Mapped[str] = mapped_column(Text, default="")  # the refusal's text, when refused
    booklet_id: Mapped[int | None] = mapped_column(Integer)  # the booklet a finished build made
    pages: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now(), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()


class MailLog(db.Model):
    """One mail the portal sent or tried to send: the Office sees them at /office/mail."""

    __tablename__ = "mail_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now(), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # receipt, reminder, promoted, booklet
    recipient: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    subject: Mapped[str] = mapped_column(String(500))
    # "waiting" (in the outbox), "sending" (claimed by one sender), "sent" or "failed"
    status: Mapped[str] = mapped_column(String(16), index=True)
    transport: Mapped[str] = mapped_column(String(8), default="smtp")  # "smtp" or "log"
    error: Mapped[str] = mapped_column(Text, default="")
    # The mail as it was sent (or tried): read at /office/mail, sent again unchanged.
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(8), default="vi")
    # JSON list of {"filename", "mimetype", "data" (base64)}: e.g. the check-in QR code
    attachments: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()


class ReminderSent(db.Model):
    """A reminder for a missing paper went out: never twice for the same assignment, deadline
    and Vietnam calendar day."""

    __tablename__ = "reminder_sent"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date] = mapped_column(Date)  # the calendar day in Vietnam time
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=lambda: clock.now())
    recipients: Mapped[int] = mapped_column(Integer, default=0)

    assignment: Mapped[Assignment] = relationship()

    __table_args__ = (
        UniqueConstraint("assignment_id", "deadline", "day",
                         name="uq_reminder_sent_assignment_deadline_day"),
    )


class RateLimitCounter(db.Model):
    """One fixed window of a rate limit (wrong passwords per account and address, per
    address): kept in the database so that every worker process counts the same attempts."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # Unix time, seconds


def new_token() -> str:
    return secrets.token_hex(16)


class ContentVersion(db.Model):
    """One row: a new random token whenever what the attendee pages show changes
    (content_version.py). The same token means the same content, so a page part rendered for
    it can be reused. A table of its own, written only as a transaction commits, so that no
    one holds its lock while waiting for another."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), default=lambda: new_token())
