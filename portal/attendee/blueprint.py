"""The attendee blueprint and the access rule every one of its routes is under; the route
modules register on it."""

from flask import Blueprint

from ..policy import require

bp = Blueprint("attendee", __name__)
require(bp)
