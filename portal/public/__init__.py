"""The public pages: the blueprint (``blueprint.py``) and the modules that add its routes."""

# isort: off
from . import views  # noqa: F401
# isort: on
from .blueprint import bp

__all__ = ["bp"]
