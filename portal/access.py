"""Who may see what: one guard per blueprint, installed with ``before_request``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort
from flask_login import current_user

from .extensions import login_manager
from .models import RegistrationStatus


def require(bp: Blueprint, predicate: Callable[[object], bool] | None = None) -> None:
    """Every route of ``bp`` needs a logged-in user (anonymous: to /login), and, when given,
    ``predicate(user)`` to be true (otherwise 403)."""

    @bp.before_request
    def _guard():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if predicate is not None and not predicate(current_user):
            abort(403)
        return None


def is_office(user) -> bool:
    return bool(getattr(user, "is_office", False))


def is_presenter(user) -> bool:
    """The one presenter rule: a member of a unit that owns a paper (``User.is_presenter``)."""
    return bool(getattr(user, "is_presenter", False))


def may_use_papers(user) -> bool:
    """"My papers" (the presenter pages): presenters, and the Office."""
    return is_office(user) or is_presenter(user)


_UNKNOWN = object()


def can_get_materials(user, seminar, registration=_UNKNOWN) -> bool:
    """The one rule for the seminar's files (papers, booklet, ZIP, calendar).

    Yes for the Office, for presenters (a member of a unit that owns one of the seminar's
    papers) and for confirmed attendees. No for everyone else: people on the waiting list and
    other members see the agenda on /materials but no file; anonymous visitors log in first.
    ``registration``: the user's registration for ``seminar`` (or None) when the caller has
    already loaded it, so that it is not asked for twice.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if not getattr(user, "is_active", False):
        return False
    if is_office(user):
        return True
    unit = getattr(user, "unit", None)
    if unit is not None and any(a.seminar_id == seminar.id for a in unit.assignments):
        return True
    if registration is _UNKNOWN:
        return bool(user.is_attendee_of(seminar))
    return registration is not None and registration.status == RegistrationStatus.CONFIRMED
