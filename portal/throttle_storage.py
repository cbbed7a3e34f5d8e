"""The counters behind ``throttle``: a ``limits`` fixed-window limiter on the portal's own
database (table ``rate_limit_counter``), or on Redis/memcached when ``RATELIMIT_STORAGE_URI``
names one. Imported on the first counted attempt: the ``limits`` library is not needed to
start the portal."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, select
from sqlalchemy.engine import Engine

from . import clock
from .extensions import db
from .models import RateLimitCounter
from .throttle import Checks


class DatabaseStorage(Storage):
    """A ``limits`` storage on the portal's own database: one row per fixed window, counted
    with one atomic upsert (SQLite and PostgreSQL), on a connection of its own so that the
    request's transaction is never committed by a count."""

    STORAGE_SCHEME = None  # built directly with the engine, never from a URI

    def __init__(self, engine: Engine):
        super().__init__()
        self.engine = engine

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return Exception

    @staticmethod
    def _now() -> float:
        return clock.now().timestamp()

    @staticmethod
    def _key(key: str) -> str:
        return key if len(key) <= 200 else hashlib.sha256(key.encode()).hexdigest()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self._now()
        table = RateLimitCounter.__table__
        # The dialect's own insert (ON CONFLICT), imported for the database in use only.
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        fresh = max(amount, 0)  # a refund never makes a new window negative
        statement = insert(table).values(key=self._key(key), count=fresh,
                                         expires_at=now + expiry)
        expired = table.c.expires_at <= now
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((expired, fresh), else_=table.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with self.engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
            # Old windows go as new ones come: the table stays as small as the traffic.
            connection.execute(delete(table).where(table.c.expires_at < now - 3600))
        return int(count)

    def _row(self, key: str) -> tuple[int, float] | None:
        table = RateLimitCounter.__table__
        with self.engine.connect() as connection:
            row = connection.execute(
                select(table.c.count, table.c.expires_at).where(table.c.key == self._key(key))
            ).first()
        if row is None or row.expires_at <= self._now():
            return None
        return int(row.count), float(row.expires_at)

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else self._now()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except Exception:  # noqa: BLE001 - a health check answers, it does not raise
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter.__table__)).rowcount

    def clear(self, key: str) -> None:
        table = RateLimitCounter.__table__
        with self.engine.begin() as connection:
            connection.execute(delete(table).where(table.c.key == self._key(key)))


@dataclass
class Throttle:
    limiter: FixedWindowRateLimiter
    storage: Storage
    now: Callable[[], float]

    def attempt(self, checks: Checks) -> int:
        """Count one attempt against every limit at once (atomic per counter, so concurrent
        attempts in several workers cannot slip past); over any limit, take it back and
        return the seconds to wait, else 0."""
        blocked = [(item, ids) for item, ids in checks if not self.limiter.hit(item, *ids)]
        if not blocked:
            return 0
        self.refund(checks)
        wait = max(self.limiter.get_window_stats(item, *ids).reset_time - self.now()
                   for item, ids in blocked)
        return max(1, math.ceil(wait))

    def refund(self, checks: Checks) -> None:
        """Take an attempt back (it succeeded, or it was refused before being tried)."""
        for item, ids in checks:
            self.storage.incr(item.key_for(*ids), item.get_expiry(), amount=-1)


def build(uri: str | None) -> Throttle:
    """The limiter for ``RATELIMIT_STORAGE_URI`` (``memory://`` or none: the database, since
    memory would count per worker)."""
    uri = (uri or "memory://").strip()
    if uri.startswith("memory://"):
        storage: Storage = DatabaseStorage(db.engine)
        now: Callable[[], float] = DatabaseStorage._now
    else:
        storage = storage_from_string(uri)
        now = time.time
    return Throttle(FixedWindowRateLimiter(storage), storage, now)
