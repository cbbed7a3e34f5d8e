"""Human wording of durations, in the user's language."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _


def remaining_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return _("the deadline has passed")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d days %(h)d hours left", d=days, h=hours)
    if hours:
        return _("%(h)d hours %(m)d minutes left", h=hours, m=minutes)
    if minutes:
        return _("%(m)d minutes left", m=minutes)
    return _("less than a minute left")
