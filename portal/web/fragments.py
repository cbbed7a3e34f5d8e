"""Page parts rendered once per process and reused while what they show is unchanged.

A part is cached under its template, the language and a digest of everything it shows (the
caller's ``version``, e.g. ``database.rows_digest`` of its rows): a change to any of those rows
is a new digest, so a stale part is never shown. Only parts that are the same for everyone
with the same inputs belong here (never a CSRF token, a flash message or a user's own data
unless it is part of the version).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import render_template
from flask_babel import get_locale
from markupsafe import Markup

LIMIT = 64  # parts kept per process: a few versions × two languages × a few variants

_parts: OrderedDict[tuple, Markup] = OrderedDict()
_lock = threading.Lock()


def render_part(template: str, version: tuple, **context) -> Markup:
    """``render_template(template, **context)``, reused while ``version`` is the same."""
    key = (template, str(get_locale()), version)
    with _lock:
        part = _parts.get(key)
        if part is not None:
            _parts.move_to_end(key)
            return part
    part = Markup(render_template(template, **context))
    with _lock:
        _parts[key] = part
        while len(_parts) > LIMIT:
            _parts.popitem(last=False)
    return part
