"""Who may do what: the one home of the access rules.

Who is the Office, who is a presenter, who may submit a paper (ownership and deadline) and
who may get the seminar's files. The blueprints' guards (``require``), the templates (the
``policy`` Jinja global), the services and the command line all ask here; nothing else says
these rules again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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


def is_presenter(user, seminar=None) -> bool:
    """A member of a unit that owns a paper (of ``seminar``, when given)."""
    unit = getattr(user, "unit", None)
    if unit is None:
        return False
    if seminar is None:
        return bool(unit.assignments)
    return any(a.seminar_id == seminar.id for a in unit.assignments)


def role(user) -> str:
    """"office", "presenter" or "member": how the people list and the command line name a user."""
    if is_office(user):
        return "office"
    return "presenter" if is_presenter(user) else "member"


def shows_my_papers(user) -> bool:
    """The "My papers" link in the menu, and the start page after logging in: presenters (the
    Office reaches each paper from its own pages)."""
    return is_presenter(user)


def may_use_papers(user) -> bool:
    """The presenter pages: presenters, and the Office."""
    return is_office(user) or is_presenter(user)


def may_submit(user, assignment) -> bool:
    """Ownership: the Office, or a presenter of the unit that owns the paper."""
    return is_office(user) or (is_presenter(user) and user.unit_id == assignment.unit_id)


def on_time(user, assignment, at: datetime | None = None) -> bool:
    """The deadline: an upload arriving at ``at`` (default: now) is accepted from a presenter
    while the paper's effective deadline has not passed; the Office may upload at any time (a
    revision after the deadline is marked late)."""
    return is_office(user) or assignment.is_open(at)


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
    if is_office(user) or is_presenter(user, seminar):
        return True
    if registration is _UNKNOWN:
        return bool(user.is_attendee_of(seminar))
    return registration is not None and registration.status == RegistrationStatus.CONFIRMED
