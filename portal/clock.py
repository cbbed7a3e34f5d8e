"""The one clock of the portal, and the seminar's time zone.

Everything stored is UTC. Everything shown is Vietnam time (Asia/Ho_Chi_Minh, UTC+7, no daylight
saving), whatever the server's own zone is. Tests move time with ``frozen()`` or ``set_now()``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from .settings import TIME_ZONE

SEMINAR_TZ = TIME_ZONE

_fixed: datetime | None = None


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    if _fixed is not None:
        return _fixed
    return datetime.now(UTC)


def set_now(instant: datetime | None) -> None:
    """Fix the clock at ``instant`` (aware), or release it with ``None``."""
    global _fixed
    if instant is not None and instant.tzinfo is None:
        raise ValueError("set_now needs an aware datetime")
    _fixed = instant.astimezone(UTC) if instant is not None else None


@contextlib.contextmanager
def frozen(instant: datetime) -> Iterator[None]:
    previous = _fixed
    set_now(instant)
    try:
        yield
    finally:
        set_now(previous)


def as_utc(instant: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already (as the database stores it)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def local(instant: datetime) -> datetime:
    """The same instant in Vietnam time."""
    return as_utc(instant).astimezone(SEMINAR_TZ)


def format_datetime(instant: datetime | None, seconds: bool = False) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time, 24-hour clock."""
    if instant is None:
        return ""
    return local(instant).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def format_date(instant: datetime | None) -> str:
    if instant is None:
        return ""
    return local(instant).strftime("%d/%m/%Y")


def format_time(instant: datetime | None) -> str:
    if instant is None:
        return ""
    return local(instant).strftime("%H:%M")


def isoformat_local(instant: datetime | None) -> str | None:
    """ISO 8601 with the +07:00 offset."""
    if instant is None:
        return None
    return local(instant).isoformat()


_VN_INPUT = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)


def parse_local(text: str) -> datetime:
    """Parse "DD/MM/YYYY HH:MM[:SS]" given in Vietnam time; return the UTC instant. A date
    alone ("20/12/2026") means its first instant, 00:00.

    Raises ValueError with a plain reason when the text is not such a date.
    """
    match = _VN_INPUT.match(text or "")
    if not match:
        raise ValueError("expected DD/MM/YYYY, DD/MM/YYYY HH:MM or DD/MM/YYYY HH:MM:SS")
    day, month, year, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    if not 2000 <= year <= 2100:
        raise ValueError("the year must lie between 2000 and 2100")
    try:
        value = datetime(year, month, day, hour, minute, second, tzinfo=SEMINAR_TZ)
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValueError(str(error)) from None


def local_midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=SEMINAR_TZ).astimezone(UTC)


def remaining(deadline: datetime, at: datetime | None = None) -> timedelta:
    return as_utc(deadline) - (at or now())


_ISO_INPUT = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?\s*$")


def normalise_input(text: str | None) -> str:
    """What a browser's date and time pickers send ("2026-12-20T08:00", "2026-12-20") as the
    portal's own "20/12/2026 08:00"; anything else is returned as it was typed."""
    match = _ISO_INPUT.match(text or "")
    if not match:
        return (text or "").strip()
    year, month, day, hour, minute, second = match.groups()
    value = f"{day}/{month}/{year} {hour or '00'}:{minute or '00'}"
    return value + (f":{second}" if second and second != "00" else "")


def input_value(instant: datetime | None) -> str:
    """The instant as a ``<input type=datetime-local>`` value, in Vietnam time."""
    if instant is None:
        return ""
    return local(instant).strftime("%Y-%m-%dT%H:%M")
