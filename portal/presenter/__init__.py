from flask import Blueprint

from ..access import require

bp = Blueprint("presenter", __name__)
require(bp)  # any logged-in member; each paper's page checks its unit

from . import views  # noqa: E402,F401
