"""The office blueprint and the access rule every one of its routes is under; the route
modules register on it."""

from flask import Blueprint

from ..policy import is_office, require

bp = Blueprint("office", __name__)
require(bp, is_office)


@bp.after_request
def _never_cached(response):
    """Office-only pages, pictures and files: never kept by a shared cache or on disk."""
    response.headers["Cache-Control"] = "private, no-store"
    return response
