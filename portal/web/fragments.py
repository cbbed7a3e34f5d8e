"""Page parts rendered once per process and reused while what they show is unchanged.

A part is kept under its template, the language and the caller's ``version``: a value that
changes whenever anything the part shows changes (the ``content_version`` token with the
person's access, for /materials). Only parts that are the same for everyone with the same
version belong here: never a form token, a flash message or a person's own data unless it is
part of the version. Each application keeps its own parts (``app.extensions``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import current_app, render_template
from flask_babel import get_locale
from markupsafe import Markup

LIMIT = 64  # parts kept per process: a few versions × two languages × a few kinds of access


class Parts:
    def __init__(self, limit: int = LIMIT):
        self.limit = limit
        self._kept: OrderedDict[tuple, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Markup | None:
        with self._lock:
            part = self._kept.get(key)
            if part is not None:
                self._kept.move_to_end(key)
            return part

    def keep(self, key: tuple, part: Markup) -> None:
        with self._lock:
            self._kept[key] = part
            while len(self._kept) > self.limit:
                self._kept.popitem(last=False)


def render_part(template: str, version: tuple, context: Callable[[], dict[str, Any]]) -> Markup:
    """``render_template(template, **context())``, reused while ``version`` (and the language)
    is the same; ``context`` is only called when the part has to be rendered."""
    parts = current_app.extensions.setdefault("fragments", Parts())
    key = (template, str(get_locale()), version)
    part = parts.get(key)
    if part is None:
        part = Markup(render_template(template, **context()))
        parts.keep(key, part)
    return part
