"""The office pages: the blueprint (``blueprint.py``) and the modules that add its routes."""

# isort: off
from . import views  # noqa: F401
from . import attendees  # noqa: F401  (the attendee list)
from . import mail_views  # noqa: F401  (the mail log)
from . import chasing  # noqa: F401  (reminders, the papers ZIP, resending mail)
from . import people  # noqa: F401  (accounts)
from . import checkin  # noqa: F401  (check-in at the door, attendance exports)
from . import minutes  # noqa: F401  (the minutes, drafted)
from . import booklet  # noqa: F401  (the booklet: builds, progress, editions, previews)
# isort: on
from .blueprint import bp

__all__ = ["bp"]
