"""The attendee pages: the blueprint (``blueprint.py``) and the modules that add its routes."""

# isort: off
from . import views  # noqa: F401
from . import materials  # noqa: F401  (papers, booklet, ZIP, calendar)
# isort: on
from .blueprint import bp

__all__ = ["bp"]
