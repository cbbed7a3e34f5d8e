"""The presenter blueprint and the access rule every one of its routes is under; the route
modules register on it."""

from flask import Blueprint

from ..policy import may_use_papers, require

bp = Blueprint("presenter", __name__)
require(bp, may_use_papers)  # presenters and the Office; each paper's page checks its unit
