"""The attendee list: the cap, the waiting list, promotion.

Every function that changes the list takes the seminar's write lock first (``lock_seminar``:
``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), counts inside that
transaction and commits once, so no number of simultaneous requests on any number of worker
processes confirms more people than the capacity. The unique constraint on
(seminar_id, user_id) keeps a person on the list once.

Rules:
- First come, first served. A new registration is confirmed while a seat is free, otherwise it
  joins the end of the waiting list. A free seat always goes to the first in line before a
  newcomer.
- When a confirmed person cancels or is removed, the first in line is confirmed in the same
  transaction, with a notice waiting for their next visit and a mail queued in that same
  transaction (``notifications.promoted``).
- While self-registration is closed only the Office adds people.
- The Office promotes by hand (when a seat is free) and moves people to the waiting list.
- The capacity is at least ``MIN_CAPACITY`` (the database's check constraint) and never below
  the number already confirmed; seats a higher capacity frees go to the first in line at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock, policy
from ..database import lock_seminar
from ..extensions import db
from ..models import MIN_CAPACITY, Registration, RegistrationStatus, Seminar, User
from . import audit, notifications
from .errors import (
    AlreadyRegistered,
    InvalidInput,
    NotFound,
    RegistrationClosed,
    SeminarFull,
)

log = logging.getLogger(__name__)

CONFIRMED = RegistrationStatus.CONFIRMED
WAITLISTED = RegistrationStatus.WAITLISTED

STATUS_LABELS = {
    CONFIRMED: _l("Confirmed"),
    WAITLISTED: _l("On the waiting list"),
}


class NotRegistered(NotFound):
    """The person is not on the list (nothing to cancel or remove)."""


@dataclass
class Withdrawal:
    """What a cancellation or a removal did."""

    email: str
    name: str
    was: RegistrationStatus
    promoted: list[Registration] = field(default_factory=list)


# -- reading -------------------------------------------------------------------------------


def _waiting_query(seminar: Seminar):
    return (
        select(Registration)
        .where(Registration.seminar_id == seminar.id, Registration.status == WAITLISTED)
        .order_by(Registration.queued_at, Registration.id)
    )


def _confirmed_query(seminar: Seminar):
    return (
        select(Registration)
        .where(Registration.seminar_id == seminar.id, Registration.status == CONFIRMED)
        .order_by(Registration.registered_at, Registration.id)
    )


def confirmed(seminar: Seminar) -> list[Registration]:
    """The confirmed people, in order of registration."""
    query = _confirmed_query(seminar).options(
        selectinload(Registration.user).selectinload(User.unit)
    )
    return list(db.session.scalars(query))


def waiting(seminar: Seminar) -> list[Registration]:
    """The waiting list, first in line first."""
    query = _waiting_query(seminar).options(
        selectinload(Registration.user).selectinload(User.unit)
    )
    return list(db.session.scalars(query))


def waitlist_position(registration: Registration | None) -> int | None:
    """1 for the first in line; None when not on the waiting list."""
    if registration is None or registration.status != WAITLISTED:
        return None
    ahead = db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.seminar_id == registration.seminar_id,
            Registration.status == WAITLISTED,
            (Registration.queued_at < registration.queued_at)
            | (
                (Registration.queued_at == registration.queued_at)
                & (Registration.id < registration.id)
            ),
        )
    )
    return (ahead or 0) + 1


def waiting_count(seminar: Seminar) -> int:
    return db.session.scalar(
        select(func.count(Registration.id)).where(
            Registration.seminar_id == seminar.id, Registration.status == WAITLISTED
        )
    ) or 0


def counts(seminar: Seminar) -> dict:
    confirmed_count = seminar.confirmed_count()
    return {
        "capacity": seminar.capacity,
        "confirmed": confirmed_count,
        "waitlisted": waiting_count(seminar),
        "seats_left": max(seminar.capacity - confirmed_count, 0),
    }


def get_registration(seminar: Seminar, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.seminar_id != seminar.id:
        raise NotRegistered(_l("This person is not on the attendee list (any more)."))
    return registration


def addable_users(seminar: Seminar) -> list[User]:
    """Active accounts not on the list, in Vietnamese name order: whom the Office may add."""
    from .vietnamese_order import sort_people

    on_list = select(Registration.user_id).where(Registration.seminar_id == seminar.id)
    return sort_people(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.id.not_in(on_list))
            .options(selectinload(User.unit))
        )
    )


def entries(seminar: Seminar) -> list[dict]:
    """Confirmed people first (in order of registration), then the waiting list in order;
    with the Registration and its User for pages and exports."""
    rows = []
    for registration in confirmed(seminar):
        rows.append(_entry(registration, None))
    for place, registration in enumerate(waiting(seminar), start=1):
        rows.append(_entry(registration, place))
    return rows


def _entry(registration: Registration, place: int | None) -> dict:
    user = registration.user
    return {
        "registration": registration,
        "user": user,
        "email": user.email,
        "name": user.full_name,
        "position": user.position or "",
        "unit": user.unit.name if user.unit else "",
        "status": registration.status.value,
        "waitlist_position": place,
        "registered_at": registration.registered_at,
        "checked_in_at": registration.checked_in_at,
    }


# -- changing ------------------------------------------------------------------------------


@contextlib.contextmanager
def locked(seminar: Seminar) -> Iterator[Seminar]:
    """Hold the seminar's write lock for the block; roll back when the block raises. Every
    change of the list (here and at the door, ``services.checkin``) happens inside it."""
    try:
        yield lock_seminar(seminar)
    except BaseException:
        db.session.rollback()
        raise


def _reload(registration: Registration) -> Registration:
    """The registration as it is now, inside the lock (it may have changed or gone)."""
    current = db.session.get(Registration, registration.id, populate_existing=True)
    if current is None:
        raise NotRegistered(_l("This person is not on the attendee list (any more)."))
    return current


def _confirm(registration: Registration, promoted: bool) -> None:
    registration.status = CONFIRMED
    registration.confirmed_at = clock.now()
    registration.promoted_notice_pending = promoted
    if promoted:
        notifications.promoted(registration)


def _fill_free_seats(seminar: Seminar, actor: User | None, reason: str) -> list[Registration]:
    """Give every free seat to the first in line. Call inside the lock; does not commit."""
    db.session.flush()
    free = seminar.capacity - seminar.confirmed_count()
    promoted: list[Registration] = []
    if free <= 0:
        return promoted
    for registration in db.session.scalars(_waiting_query(seminar).limit(free)):
        _confirm(registration, promoted=True)
        audit.record("attendance.promote", actor, target=registration.user.email,
                     reason=reason, automatic=True)
        promoted.append(registration)
    db.session.flush()
    return promoted


def seat_walk_in(seminar: Seminar, actor: User | None = None) -> None:
    """Inside ``locked(seminar)``, before someone is confirmed outside the queue (a walk-in at
    the door): the first in line take any free seat first; SeminarFull when no seat is left
    after that. Does not commit."""
    _fill_free_seats(seminar, actor, reason="seat free")
    if seminar.confirmed_count() >= seminar.capacity:
        raise SeminarFull(_l("All %(total)d seats are taken: nobody more can be added at "
                             "the door."), total=seminar.capacity)


def register(seminar: Seminar, user: User, actor: User | None = None, *,
             by_office: bool | None = None) -> Registration:
    """Put ``user`` on the list: confirmed while a seat is free, otherwise at the end of the
    waiting list. ``actor`` is who does it (default: the user); the Office (``actor`` with
    ``is_office``, or ``by_office=True`` for the command line) may add people while
    self-registration is closed."""
    if actor is None and not by_office:
        actor = user
    if by_office is None:
        by_office = policy.is_office(actor)
    if not user.active:
        raise InvalidInput(_l("The account %(email)s is deactivated."), email=user.email)
    with locked(seminar):
        if not seminar.registration_open and not by_office:
            raise RegistrationClosed(
                _l("Self-registration is closed. Ask the Office (Văn phòng Sở) to add you.")
            )
        if user.registration_for(seminar) is not None:
            raise _already(user, actor)
        # A seat freed earlier (a larger capacity, a move) goes to the first in line first.
        _fill_free_seats(seminar, actor, reason="seat free")
        now = clock.now()
        registration = Registration(
            seminar_id=seminar.id, user_id=user.id, registered_at=now, queued_at=now,
            added_by_id=actor.id if actor is not None and actor.id != user.id else None,
            status=WAITLISTED,
        )
        if seminar.confirmed_count() < seminar.capacity:
            _confirm(registration, promoted=False)
        db.session.add(registration)
        try:
            db.session.flush()
        except IntegrityError:
            raise _already(user, actor) from None
        audit.record("attendance.register", actor, target=user.email,
                     status=registration.status.value, by_office=by_office,
                     place=waitlist_position(registration))
        db.session.commit()
    return registration


def add_by_office(seminar: Seminar, user_id: int, actor: User | None = None) -> Registration:
    """The Office puts the account ``user_id`` on the list (see ``register``); NotRegistered
    when there is no such account."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotRegistered(_l("There is no such account."))
    return register(seminar, user, actor=actor, by_office=True)


def _already(user: User, actor: User | None) -> AlreadyRegistered:
    if actor is not None and actor.id == user.id:
        return AlreadyRegistered(_l("You are on the list already."))
    return AlreadyRegistered(_l("%(name)s is on the list already."), name=user.full_name)


def _withdraw(seminar: Seminar, registration: Registration, actor: User | None,
              action: str) -> Withdrawal:
    """Delete ``registration`` and give a freed seat to the first in line. Inside the lock."""
    result = Withdrawal(email=registration.user.email, name=registration.user.full_name,
                        was=registration.status)
    db.session.delete(registration)
    db.session.flush()
    audit.record(action, actor, target=result.email, was=result.was.value)
    if result.was == CONFIRMED:
        result.promoted = _fill_free_seats(seminar, actor, reason=action)
    return result


def cancel(seminar: Seminar, user: User, actor: User | None = None) -> Withdrawal:
    """The person takes themselves off the list (or the waiting list). When they held a
    seat, the first in line is confirmed in the same transaction."""
    with locked(seminar):
        registration = user.registration_for(seminar)
        if registration is None:
            raise NotRegistered(_l("You are not on the list."))
        # As it is now: the page may have loaded it before the lock, and someone else's
        # cancellation may have confirmed it since.
        registration = _reload(registration)
        result = _withdraw(seminar, registration, actor or user, "attendance.cancel")
        db.session.commit()
    return result


def remove(registration: Registration, actor: User | None = None) -> Withdrawal:
    """The Office takes someone off the list; a freed seat goes to the first in line."""
    seminar = registration.seminar
    with locked(seminar):
        registration = _reload(registration)
        result = _withdraw(seminar, registration, actor, "attendance.remove")
        db.session.commit()
    return result


def promote(registration: Registration, actor: User | None = None) -> Registration:
    """The Office confirms someone from the waiting list by hand (whatever their place),
    when a seat is free."""
    seminar = registration.seminar
    with locked(seminar):
        registration = _reload(registration)
        if registration.status == CONFIRMED:
            raise InvalidInput(_l("%(name)s is confirmed already."),
                               name=registration.user.full_name)
        if seminar.confirmed_count() >= seminar.capacity:
            raise SeminarFull(
                _l("All %(total)d seats are taken. Move someone to the waiting list, remove "
                   "someone or raise the capacity first."),
                total=seminar.capacity,
            )
        place = waitlist_position(registration)
        _confirm(registration, promoted=True)
        audit.record("attendance.promote", actor, target=registration.user.email,
                     place=place, automatic=False)
        db.session.commit()
    return registration


def move_to_waitlist(registration: Registration, actor: User | None = None) -> Registration:
    """The Office moves a confirmed person to the end of the waiting list. Their seat stays
    free for the Office to give by hand; otherwise the first in line gets it at the next
    change of the list."""
    seminar = registration.seminar
    with locked(seminar):
        registration = _reload(registration)
        if registration.status == WAITLISTED:
            raise InvalidInput(_l("%(name)s is on the waiting list already."),
                               name=registration.user.full_name)
        registration.status = WAITLISTED
        registration.queued_at = clock.now()
        registration.confirmed_at = None
        registration.promoted_notice_pending = False
        db.session.flush()
        audit.record("attendance.move_to_waitlist", actor, target=registration.user.email,
                     place=waitlist_position(registration))
        db.session.commit()
    return registration


def move(registration: Registration, status: RegistrationStatus | str,
         actor: User | None = None) -> Registration:
    """The Office moves someone: to the confirmed list (when a seat is free) or to the
    waiting list."""
    try:
        status = RegistrationStatus(status)
    except ValueError:
        raise InvalidInput(_l("Unknown status “%(value)s”."), value=str(status)) from None
    if status == CONFIRMED:
        return promote(registration, actor)
    return move_to_waitlist(registration, actor)


def set_capacity(seminar: Seminar, capacity: int, actor: User | None = None) -> int:
    """Change the cap: refused below ``MIN_CAPACITY`` or below the number already confirmed;
    the seats a higher cap frees go to the first in line in the same transaction. Commits."""
    if capacity < MIN_CAPACITY:
        raise InvalidInput(_l("The capacity must be a whole number of at least %(min)d."),
                           min=MIN_CAPACITY)
    # Under the seminar's lock no registration slips in between the count and the change.
    with locked(seminar):
        confirmed_now = seminar.confirmed_count()
        if capacity < confirmed_now:
            raise InvalidInput(
                _l("%(confirmed)d people are already confirmed; the capacity cannot be lower "
                   "than that. Remove people from the list first."),
                confirmed=confirmed_now,
            )
        old = seminar.capacity
        seminar.capacity = capacity
        audit.record("seminar.set_capacity", actor, target=str(seminar.id), old=old,
                     new=capacity)
        _fill_free_seats(seminar, actor, reason="capacity")
        db.session.commit()
    return capacity


def fill_free_seats(seminar: Seminar, actor: User | None = None) -> list[Registration]:
    """Give any free seats (after the capacity was raised) to the first in line; commits."""
    with locked(seminar):
        promoted = _fill_free_seats(seminar, actor, reason="capacity")
        db.session.commit()
    return promoted


def set_registration_open(seminar: Seminar, is_open: bool, actor: User | None = None) -> bool:
    """Open or close self-registration (the Office can always add people)."""
    with locked(seminar):
        old = seminar.registration_open
        seminar.registration_open = bool(is_open)
        if old != seminar.registration_open:
            audit.record("attendance.set_registration_open", actor, target=str(seminar.id),
                         old=old, new=seminar.registration_open)
        db.session.commit()
    return seminar.registration_open


def acknowledge_promotion(registration: Registration) -> bool:
    """The promoted person has seen the notice: clear it. Returns whether one was pending."""
    if not registration.promoted_notice_pending:
        return False
    with locked(registration.seminar):
        current = db.session.get(Registration, registration.id, populate_existing=True)
        if current is None or not current.promoted_notice_pending:
            db.session.rollback()
            return False
        current.promoted_notice_pending = False
        db.session.commit()
    return True


def pending_promotion_notice(user: User) -> Registration | None:
    """The user's registration whose promotion notice they have not seen, if any."""
    return db.session.scalar(
        select(Registration).where(
            Registration.user_id == user.id,
            Registration.promoted_notice_pending.is_(True),
            Registration.status == CONFIRMED,
        ).limit(1)
    )


def withdrawal_preview(registration: Registration) -> list[Registration]:
    """Who would be confirmed from the waiting list if ``registration`` left the list now
    (said before a cancellation or a removal is confirmed); changes nothing."""
    if registration.status != CONFIRMED:
        return []
    seminar = registration.seminar
    free = seminar.capacity - (seminar.confirmed_count() - 1)
    if free <= 0:
        return []
    return list(db.session.scalars(_waiting_query(seminar).limit(free)))
