"""The auth blueprint and the access rule every one of its routes is under; the route
modules register on it."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
