from flask import Blueprint

from ..policy import require

bp = Blueprint("attendee", __name__)
require(bp)

from . import views  # noqa: E402,F401

# isort: split
from . import materials  # noqa: E402,F401  (papers, booklet, ZIP, calendar)
