"""The auth pages: the blueprint (``blueprint.py``) and the modules that add its routes."""

# isort: off
from . import views  # noqa: F401
from . import recovery  # noqa: F401  (forgotten passwords, forced change)
# isort: on
from .blueprint import bp

__all__ = ["bp"]
