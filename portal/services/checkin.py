"""Check-in at the door: checking people in, walk-ins.

- A scanned code (``services.checkin_code``) is read back here and refused with the reason:
  another seminar's, a cancelled registration's, or an old one after a new registration.
- A check-in is idempotent: the person is counted once, and the earliest check wins (a phone
  that was offline sends its checks later with the time they were made).
- A walk-in (someone without an account) is added by the Office as an account without a
  password, confirmed and checked in at once, only while a seat is free: the cap is counted
  under the seminar's lock, like every registration (``services.attendance``).
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from itsdangerous import BadData
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import Registration, RegistrationStatus, Seminar, Unit, User
from . import attendance, audit, checkin_code
from .errors import InvalidInput, PortalError

CONFIRMED = RegistrationStatus.CONFIRMED
# How far a check's own time (sent by a phone that was offline) may lie from the server's.
CLIENT_PAST = timedelta(hours=12)
CLIENT_FUTURE = timedelta(minutes=5)
WALK_IN_DOMAIN = "walk-in.invalid"


class CheckInRefused(PortalError):
    """The code or the person cannot be checked in; the message says why."""

    status = 422


@dataclass(frozen=True)
class CheckInResult:
    registration_id: int
    name: str
    unit: str
    checked_in_at: datetime
    already: bool  # True when the person had been checked in before this check


# -- reading a code ------------------------------------------------------------------------


def _registration_from_token(seminar: Seminar, token: str) -> Registration:
    try:
        seminar_id, registration_id, nonce = checkin_code.serializer().loads((token or "").strip())
        seminar_id, registration_id, nonce = int(seminar_id), int(registration_id), str(nonce)
    except (BadData, TypeError, ValueError):
        raise CheckInRefused(_l("This is not a check-in code of the portal.")) from None
    if seminar_id != seminar.id:
        raise CheckInRefused(_l("This code belongs to another seminar."))
    registration = db.session.get(Registration, registration_id, populate_existing=True)
    if registration is None or registration.seminar_id != seminar.id:
        raise CheckInRefused(
            _l("This registration was cancelled: the person is no longer on the list."))
    if not secrets.compare_digest(registration.checkin_nonce, nonce):
        raise CheckInRefused(
            _l("This code is no longer valid: %(name)s cancelled and registered again; ask "
               "for the new code."), name=registration.user.full_name)
    return registration


# -- checking in ---------------------------------------------------------------------------


def _when(client_at: datetime | None, now: datetime) -> datetime:
    """The time of the check: the phone's own time when it is plausible, otherwise now."""
    if client_at is None or client_at.tzinfo is None:
        return now
    client_at = clock.as_utc(client_at)
    if now - CLIENT_PAST <= client_at <= now + CLIENT_FUTURE:
        return min(client_at, now)
    return now


def _check_in(seminar: Seminar, registration_id: int, actor: User | None,
              client_at: datetime | None, how: str) -> CheckInResult:
    with attendance.locked(seminar):
        at = _when(client_at, clock.now())  # inside the lock: the first to get it is first
        registration = db.session.get(Registration, registration_id, populate_existing=True)
        if registration is None or registration.seminar_id != seminar.id:
            raise CheckInRefused(
                _l("This registration was cancelled: the person is no longer on the list."))
        user = registration.user
        if registration.status != CONFIRMED:
            raise CheckInRefused(
                _l("%(name)s is not confirmed (on the waiting list, place %(n)d)."),
                name=user.full_name, n=attendance.waitlist_position(registration) or 0)
        already = registration.checked_in_at is not None
        if not already or at < registration.checked_in_at:
            registration.checked_in_at = at
            registration.checked_in_by_id = actor.id if actor is not None else None
            audit.record("checkin.check_in", actor, target=user.email, how=how,
                         at=clock.isoformat_local(at), again=already)
        result = CheckInResult(registration.id, user.full_name,
                               user.unit.name if user.unit else user.position,
                               registration.checked_in_at, already)
        db.session.commit()
    return result


def check_in_token(seminar: Seminar, token: str, actor: User | None = None,
                   client_at: datetime | None = None) -> CheckInResult:
    """Check in the person whose code was scanned; refuses with the reason."""
    registration = _registration_from_token(seminar, token)
    if registration.status != CONFIRMED:
        raise CheckInRefused(
            _l("%(name)s is not confirmed (on the waiting list, place %(n)d)."),
            name=registration.user.full_name, n=attendance.waitlist_position(registration) or 0)
    return _check_in(seminar, registration.id, actor, client_at, "code")


def check_in_registration(seminar: Seminar, registration_id: int, actor: User | None = None,
                          client_at: datetime | None = None) -> CheckInResult:
    """Check in the person tapped in the list."""
    return _check_in(seminar, registration_id, actor, client_at, "list")


# -- walk-ins ------------------------------------------------------------------------------


def add_walk_in(seminar: Seminar, name: str, position: str, unit: str,
                actor: User | None = None) -> Registration:
    """Someone without an account at the door: an account without a password, confirmed and
    checked in at once, only while a seat is free (first the waiting list's claim)."""
    name, position, unit = (" ".join((v or "").split()) for v in (name, position, unit))
    if not name:
        raise InvalidInput(_l("Enter the person's full name."))
    if len(name) > 200 or len(position) > 200 or len(unit) > 300:
        raise InvalidInput(_l("A name, position or unit is too long."))
    now = clock.now()
    with attendance.locked(seminar):
        attendance.seat_walk_in(seminar, actor)
        known_unit = db.session.scalar(select(Unit).where(Unit.name == unit)) if unit else None
        details = position if known_unit is not None else ", ".join(
            part for part in (position, unit) if part)
        user = User(email=f"walk-in-{secrets.token_hex(6)}@{WALK_IN_DOMAIN}", full_name=name,
                    position=details, unit_id=known_unit.id if known_unit else None,
                    password_hash="!", active=True, walk_in=True)
        db.session.add(user)
        db.session.flush()
        registration = Registration(
            seminar_id=seminar.id, user_id=user.id, registered_at=now, queued_at=now,
            confirmed_at=now, status=CONFIRMED, added_by_id=actor.id if actor else None,
            checked_in_at=now, checked_in_by_id=actor.id if actor else None,
        )
        db.session.add(registration)
        db.session.flush()
        audit.record("checkin.walk_in", actor, target=name, position=position, unit=unit)
        db.session.commit()
    return registration


# -- reading -------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Without diacritics, lower case: "Ánh" sorts with "Anh", "Đ" with "D"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _name_key(name: str) -> tuple:
    """Vietnamese order: by the given name (the last word), then the full name."""
    words = name.split()
    return (_fold(words[-1]) if words else "", _fold(name), name)


def arrived_count(seminar: Seminar) -> int:
    return db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.seminar_id == seminar.id, Registration.status == CONFIRMED,
            Registration.checked_in_at.is_not(None))
    ) or 0


def state(seminar: Seminar) -> dict:
    """The door's view as plain data: the count and every confirmed person."""
    people = db.session.scalars(
        select(Registration)
        .where(Registration.seminar_id == seminar.id, Registration.status == CONFIRMED)
        .options(selectinload(Registration.user).selectinload(User.unit))
    )
    rows = []
    for registration in people:
        user = registration.user
        rows.append({
            "id": registration.id,
            "name": user.full_name,
            "detail": ", ".join(p for p in (user.position, user.unit.name if user.unit else "")
                                if p),
            "checked_in_at": clock.format_time(registration.checked_in_at)
            if registration.checked_in_at else None,
            "walk_in": user.walk_in,
        })
    rows.sort(key=lambda row: _name_key(row["name"]))
    arrived = sum(1 for row in rows if row["checked_in_at"])
    # "đã đến 17/20": who came, of the people confirmed (walk-ins included).
    return {"arrived": arrived, "expected": len(rows), "capacity": seminar.capacity,
            "people": rows}


def expected_count(seminar: Seminar) -> int:
    return seminar.confirmed_count()


def arrivals(seminar: Seminar) -> list[Registration]:
    """The confirmed people who came, in order of arrival."""
    return list(db.session.scalars(
        select(Registration)
        .where(Registration.seminar_id == seminar.id, Registration.status == CONFIRMED,
               Registration.checked_in_at.is_not(None))
        .options(selectinload(Registration.user).selectinload(User.unit))
        .order_by(Registration.checked_in_at, Registration.id)
    ))
