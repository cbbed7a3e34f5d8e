from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401

# isort: split
from . import recovery  # noqa: E402,F401  (forgotten passwords, forced change)
