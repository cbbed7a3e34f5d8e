from flask import Blueprint

from ..policy import is_office, require

bp = Blueprint("office", __name__)
require(bp, is_office)


@bp.after_request
def _never_cached(response):
    """Office-only pages, pictures and files: never kept by a shared cache or on disk."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


from . import views  # noqa: E402,F401

# isort: split
from . import attendees  # noqa: E402,F401  (the attendee list)

# isort: split
from . import mail_views  # noqa: E402,F401  (the mail log)

# isort: split
from . import chasing  # noqa: E402,F401  (reminders, the papers ZIP, resending mail)

# isort: split
from . import people  # noqa: E402,F401  (accounts)

# isort: split
from . import checkin  # noqa: E402,F401  (check-in at the door, attendance exports)

# isort: split
from . import minutes  # noqa: E402,F401  (the minutes, drafted)

# isort: split
from . import booklet  # noqa: E402,F401  (the booklet: builds, progress, editions, previews)
