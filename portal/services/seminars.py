"""The seminar: loading the plan, moving its timeline, its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock, plan
from ..extensions import db
from ..models import (
    Assignment,
    Registration,
    RegistrationStatus,
    Seminar,
    Submission,
    Unit,
    User,
)
from . import audit, programme
from .errors import InvalidInput, NotFound


def current_seminar() -> Seminar:
    """The seminar the portal runs (the one loaded from the plan)."""
    seminar = db.session.scalar(select(Seminar).order_by(Seminar.id).limit(1))
    if seminar is None:
        raise NotFound(_l("No seminar has been loaded yet. Run: flask seminar load-plan"))
    return seminar


def find_seminar(*, with_revisions: bool = False) -> Seminar | None:
    """The seminar with its assignments and their units loaded (pages show them together);
    ``with_revisions``: each assignment's revisions and their uploaders too.

    Three queries at most whatever the number of papers, revisions and people: the seminar,
    the assignments joined with their units, the revisions joined with their uploaders (the
    collections are filled in directly, cheaper than chained selectin loaders)."""
    seminar = db.session.scalar(select(Seminar).order_by(Seminar.id).limit(1))
    if seminar is None:
        return None
    assignments = list(db.session.scalars(
        select(Assignment).where(Assignment.seminar_id == seminar.id)
        .options(joinedload(Assignment.unit)).order_by(Assignment.position)))
    set_committed_value(seminar, "assignments", assignments)
    if with_revisions:
        revisions: dict[int, list[Submission]] = {a.id: [] for a in assignments}
        for submission in db.session.scalars(
                select(Submission).join(Assignment)
                .where(Assignment.seminar_id == seminar.id)
                .options(joinedload(Submission.uploader))
                .order_by(Submission.assignment_id, Submission.number)):
            revisions[submission.assignment_id].append(submission)
        for assignment in assignments:
            set_committed_value(assignment, "submissions", revisions[assignment.id])
    return seminar


def unit_papers(user: User) -> tuple[Seminar | None, list[Assignment]]:
    """The seminar and the papers ``user``'s unit owns in it, in programme order, with their
    revisions ("My papers"); no papers for someone without a unit."""
    seminar = find_seminar()
    if seminar is None or user.unit_id is None:
        return seminar, []
    return seminar, list(db.session.scalars(
        select(Assignment)
        .where(Assignment.seminar_id == seminar.id, Assignment.unit_id == user.unit_id)
        .options(selectinload(Assignment.submissions))
        .order_by(Assignment.position)))


@dataclass
class LoadResult:
    seminar: Seminar
    created: list[str] = field(default_factory=list)
    demo_accounts: list[tuple[str, str, str]] = field(default_factory=list)  # email, password, role


def load_plan(demo: bool = False) -> LoadResult:
    """Create the seminar of the plan with its units and assignments. Idempotent.

    Existing rows are left exactly as they are (the Office may have edited them); only what is
    missing is created. With ``demo``, the timeline is moved to start from today and demo
    accounts are created (or, when they exist, listed again).
    """
    data = plan.SEMINAR
    result_created: list[str] = []

    units: dict[str, Unit] = {}
    for code, name in plan.UNITS:
        unit = db.session.scalar(select(Unit).where(Unit.name == name))
        if unit is None:
            unit = Unit(name=name, code=code)
            db.session.add(unit)
            result_created.append(f"unit {name}")
        units[name] = unit

    seminar = db.session.scalar(select(Seminar).where(Seminar.plan_key == plan.PLAN_KEY))
    if seminar is None:
        seminar = Seminar(
            plan_key=plan.PLAN_KEY,
            title=data["title"],
            organiser=data["organiser"],
            purpose=data["purpose"],
            content=data["content"],
            attendance=data["attendance"],
            venue=data["venue"],
            capacity=data["capacity"],
            timezone=clock.SEMINAR_TZ.key,
            deadline=_local(*data["deadline_local"]),
            session_start=_local(*data["session_start_local"]),
            session_end=_local(*data["session_end_local"]),
            registration_open=True,
        )
        db.session.add(seminar)
        result_created.append("seminar")
    db.session.flush()

    existing = {a.position for a in seminar.assignments}
    for item in plan.ASSIGNMENTS:
        if item["position"] in existing:
            continue
        db.session.add(
            Assignment(
                seminar=seminar,
                position=item["position"],
                kind=item["kind"],
                unit=units[item["unit"]],
                title=item["title"],
                note=item["note"],
            )
        )
        result_created.append(f"assignment {item['position']}")
    db.session.flush()

    result = LoadResult(seminar=seminar, created=result_created)
    if demo:
        _move_timeline_for_demo(seminar)
        result.demo_accounts = _demo_accounts(seminar, units)
    if result_created:
        audit.record("seminar.load_plan", target=plan.PLAN_KEY, created=result_created, demo=demo)
    db.session.commit()
    return result


def _local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=clock.SEMINAR_TZ).astimezone(
        UTC
    )


def _move_timeline_for_demo(seminar: Seminar) -> None:
    """Deadline a week from today (at midnight, Vietnam time), the session two days after."""
    today = clock.local(clock.now()).date()
    deadline_day = today + timedelta(days=8)  # "before" day 8 = through day 7
    seminar.deadline = clock.local_midnight(deadline_day.year, deadline_day.month, deadline_day.day)
    session_day = deadline_day + timedelta(days=2)
    start = datetime(session_day.year, session_day.month, session_day.day, 8, 0,
                     tzinfo=clock.SEMINAR_TZ)
    seminar.session_start = start
    seminar.session_end = start + timedelta(hours=3, minutes=30)
    for assignment in seminar.assignments:
        assignment.deadline_extension = None


def _demo_accounts(seminar: Seminar, units: dict[str, Unit]) -> list[tuple[str, str, str]]:
    by_code = {u.code: u for u in units.values()}
    rows: list[tuple[str, str, str]] = []

    def ensure(local_part: str, name: str, position: str, unit: Unit | None, office: bool,
               role: str) -> User:
        email = f"{local_part}@{plan.DEMO_DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, full_name=name, position=position, unit=unit,
                        is_office=office, active=True)
            user.set_password(plan.DEMO_PASSWORD)
            db.session.add(user)
        rows.append((email, plan.DEMO_PASSWORD, role))
        return user

    code, name, position = plan.DEMO_OFFICE
    office = ensure(code, name, position, by_code[code], True, "Office / Văn phòng Sở")
    people = [office]
    for code, (name, position) in plan.DEMO_PRESENTERS.items():
        people.append(ensure(code, name, position, by_code[code], False,
                             f"presenter / {by_code[code].name}"))
    for local_part, name, position in plan.DEMO_ATTENDEES:
        people.append(ensure(local_part, name, position, None, False, "attendee / Lãnh đạo Sở"))
    db.session.flush()

    # The Office and the leaders are on the attendee list from the start.
    for user in [office] + people[-len(plan.DEMO_ATTENDEES):]:
        if user.registration_for(seminar) is None:
            now = clock.now()
            db.session.add(Registration(seminar=seminar, user=user,
                                        status=RegistrationStatus.CONFIRMED,
                                        registered_at=now, queued_at=now, confirmed_at=now))
    return rows


def demo_accounts_in_use() -> list[tuple[str, str, str]]:
    """The demo accounts that still have the demo password (for ``make run``'s banner)."""
    rows = []
    users = db.session.scalars(
        select(User).where(User.email.like(f"%@{plan.DEMO_DOMAIN}")).order_by(User.id)
    )
    for user in users:
        if not user.check_password(plan.DEMO_PASSWORD):
            continue
        if user.is_office:
            role = "Office / Văn phòng Sở"
        elif user.unit is not None:
            role = f"presenter / {user.unit.name}"
        else:
            role = "attendee / Lãnh đạo Sở"
        rows.append((user.email, plan.DEMO_PASSWORD, role))
    return rows


def set_deadline(seminar: Seminar, text: str, actor: User | None = None,
                 confirmed: bool = True) -> datetime:
    """Move the seminar's deadline. With ``confirmed=False`` a deadline after the session's
    start raises NeedsConfirmation and nothing is saved (the web form asks again)."""
    try:
        instant = clock.parse_local(text)
    except ValueError:
        raise InvalidInput(
            _l("“%(value)s” is not a date and time. Write it as DD/MM/YYYY HH:MM, for example "
               "15/05/2021 00:00 (Vietnam time)."),
            field="deadline", value=text,
        ) from None
    except Exception:
        raise InvalidInput(_l("“%(value)s” is not a real date."), field="deadline",
                           value=text) from None
    old = seminar.deadline
    seminar.deadline = instant
    programme.confirm_or_rollback(programme.seminar_deadline_warnings(seminar), confirmed)
    audit.record("seminar.set_deadline", actor, target=str(seminar.id),
                 old=clock.isoformat_local(old), new=clock.isoformat_local(instant))
    db.session.commit()
    return instant


def summary(seminar: Seminar) -> dict:
    """The seminar as plain data (``flask seminar show --json``)."""
    return {
        "title": seminar.title,
        "organiser": seminar.organiser,
        "purpose": seminar.purpose,
        "content": seminar.content,
        "venue": seminar.venue,
        "deadline": clock.isoformat_local(seminar.deadline),
        "capacity": seminar.capacity,
        "session_start": clock.isoformat_local(seminar.session_start),
        "session_end": clock.isoformat_local(seminar.session_end),
        "timezone": seminar.timezone,
        "registration_open": seminar.registration_open,
        "assignments": [
            {
                "position": a.position,
                "kind": a.kind.value,
                "unit": a.unit.name,
                "title": a.title,
                "note": a.note,
                "deadline": clock.isoformat_local(a.effective_deadline),
            }
            for a in seminar.assignments
        ],
    }


def set_session(seminar: Seminar, start_text: str, end_text: str, venue: str,
                actor: User | None = None, confirmed: bool = True) -> None:
    """Move the session. With ``confirmed=False``, a deadline or extension after the new start,
    or a programme longer than the new session, raises NeedsConfirmation (nothing saved)."""
    instants = []
    for text, name in ((start_text, "start"), (end_text, "end")):
        try:
            instants.append(clock.parse_local(text))
        except ValueError:
            raise InvalidInput(
                _l("Write the session's times as DD/MM/YYYY HH:MM (Vietnam time)."),
                field=name,
            ) from None
    start, end = instants
    if end <= start:
        raise InvalidInput(_l("The session must end after it starts."), field="end")
    venue = (venue or "").strip()
    if not venue:
        raise InvalidInput(_l("The venue is required."), field="venue")
    seminar.session_start, seminar.session_end, seminar.venue = start, end, venue[:300]
    programme.confirm_or_rollback(
        programme.deadline_warnings(seminar) + programme.overrun_warnings(seminar), confirmed)
    audit.record("seminar.set_session", actor, target=str(seminar.id),
                 start=clock.isoformat_local(start), end=clock.isoformat_local(end), venue=venue)
    db.session.commit()
