"""Accounts as the Office manages them on the web: list, edit, deactivate and reactivate,
reset a password (a generated one shown once, or a one-time link by mail), and each unit's
contacts. Creating and importing: ``accounts``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import links
from ..extensions import db
from ..models import Registration, RegistrationStatus, Unit, User
from . import accounts, audit, notifications
from .errors import InvalidInput, NotFound
from .vietnamese_order import sort_people

RESET_SALT = "portal.password-reset"
DEFAULT_RESET_HOURS = 24


def everyone() -> list[User]:
    """Every account, in Vietnamese name order."""
    return sort_people(db.session.scalars(select(User).options(selectinload(User.unit))))


def units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).order_by(Unit.id)))


def get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("There is no such account."))
    return user


def contacts_by_unit() -> dict[int, list[User]]:
    """The active accounts of every unit (names, positions, emails), for the overview."""
    result: dict[int, list[User]] = {}
    for user in db.session.scalars(select(User).where(User.active.is_(True),
                                                      User.unit_id.is_not(None))
                                   .order_by(User.id)):
        result.setdefault(user.unit_id, []).append(user)
    return result



def update(user: User, *, name: str, position: str, unit_id: int | None, office: bool,
           actor: User | None) -> User:
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_l("A name is required."))
    if len(name) > 200:
        raise InvalidInput(_l("The name is too long (at most 200 characters)."))
    unit = None
    if unit_id:
        unit = db.session.get(Unit, unit_id)
        if unit is None:
            raise InvalidInput(_l("There is no such unit."))
    if user.is_office and not office and accounts.active_offices_besides(user) == 0:
        raise InvalidInput(_l("%(name)s is the only active Office account; make someone else "
                              "Office first."), name=user.full_name)
    changes = {}
    for field, value in (("full_name", name), ("position", (position or "").strip()[:200]),
                         ("unit_id", unit.id if unit else None), ("is_office", bool(office))):
        if getattr(user, field) != value:
            changes[field] = value
            setattr(user, field, value)
    if changes:
        user.unit = unit
        audit.record("user.update", actor, target=user.email,
                     **{k: v for k, v in changes.items()})
        db.session.commit()
    return user


@dataclass
class DeactivationFacts:
    """What deactivating an account changes, said before it is done."""

    registration: str | None  # "confirmed", "waitlisted" or None
    last_of_unit: bool  # the only active account of a unit that owes a paper


def deactivation_facts(user: User) -> DeactivationFacts:
    registration = db.session.scalar(select(Registration).where(Registration.user_id == user.id))
    status = None
    if registration is not None:
        status = "confirmed" if registration.status == RegistrationStatus.CONFIRMED \
            else "waitlisted"
    last = False
    if user.unit is not None and user.unit.assignments:
        others = db.session.scalar(select(func.count(User.id)).where(
            User.unit_id == user.unit_id, User.active.is_(True), User.id != user.id)) or 0
        last = others == 0
    return DeactivationFacts(registration=status, last_of_unit=last)


def set_active(user: User, active: bool, actor: User | None) -> User:
    return accounts.set_active(user, active, actor)


def reset_with_generated(user: User, actor: User | None) -> str:
    """A new generated password, to be shown once; it must be changed at the next login."""
    password = accounts.generate_password()
    accounts.set_password(user, password, must_change=True)
    audit.record("user.reset_password", actor, target=user.email, how="generated")
    db.session.commit()
    return password


# -- one-time links ------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _fingerprint(user: User) -> str:
    """A part of the password hash: the token stops working once the password changes."""
    import hashlib

    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:24]


def reset_hours() -> int:
    return int(current_app.config.get("PASSWORD_RESET_HOURS") or DEFAULT_RESET_HOURS)


def reset_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user)})


class InvalidLink(InvalidInput):
    status = 400


def user_for_token(token: str) -> User:
    """The account a reset link belongs to, or InvalidLink (expired, used, forged)."""
    try:
        data = _serializer().loads(token, max_age=reset_hours() * 3600)
    except SignatureExpired:
        raise InvalidLink(_l("This link has expired. Ask for a new one.")) from None
    except BadSignature:
        raise InvalidLink(_l("This link is not valid. Ask for a new one.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("p") != _fingerprint(user):
        raise InvalidLink(_l("This link has been used already or is no longer valid. Ask for a "
                             "new one."))
    return user


def reset_with_token(token: str, password: str) -> User:
    user = user_for_token(token)
    if len(password or "") < accounts.MIN_PASSWORD:
        raise InvalidInput(_l("The password must have at least %(n)d characters."),
                           n=accounts.MIN_PASSWORD)
    accounts.set_password(user, password)
    audit.record("user.reset_password", user, target=user.email, how="link")
    db.session.commit()
    return user


def send_reset_link(user: User, actor: User | None = None) -> bool:
    """Mail ``user`` a one-time link to set a new password: True when the mail is in the
    outbox (it leaves after the commit; /office/mail shows whether it was delivered)."""
    if not user.active:
        return False
    url = links.absolute_url("auth.reset_password", token=reset_token(user))
    audit.record("user.reset_link", actor, target=user.email)
    rows = notifications.reset_link(user, url, reset_hours(),
                                    by_office=actor is not None and actor.id != user.id)
    db.session.commit()
    return bool(rows)
