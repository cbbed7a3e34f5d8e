"""Who may see what: one guard per blueprint, installed with ``before_request``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort
from flask_login import current_user

from .extensions import login_manager


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
