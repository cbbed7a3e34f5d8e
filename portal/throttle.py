"""Limits on every form that checks a credential (login, password change, reset, forgot).

Wrong attempts are counted per (account, address) pair and per address, never per account
alone: a stranger hammering the Office's account slows down only their own address, and the
right password from another address still works.

The counts live where every worker process sees them: the database (table
``rate_limit_counter``) by default, or Redis/memcached when ``RATELIMIT_STORAGE_URI`` names one.
``memory://`` (the old default) also means the database, since it would count per worker.

Usage on a view (the decorator counts a POST whose response is not a redirect as a failure)::

    @throttle.credential_form("login", account=lambda: request.form.get("email"))
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Response, current_app, make_response, render_template, request
from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from . import clock
from .extensions import db
from .models import RateLimitCounter

Checks = list[tuple[RateLimitItem, tuple[str, ...]]]

log = logging.getLogger(__name__)

# Wrong attempts from one address at one account, and from one address at any account
# (the defaults; RATELIMIT_PER_ACCOUNT_ADDRESS and RATELIMIT_PER_ADDRESS change them).
PER_ACCOUNT_AND_ADDRESS = "5 per minute; 20 per hour"
PER_ADDRESS = "20 per minute; 200 per hour"


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
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
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


def _throttle() -> Throttle:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    throttle = app.extensions.get("throttle")
    if throttle is None:
        uri = (app.config.get("RATELIMIT_STORAGE_URI") or "memory://").strip()
        if uri.startswith("memory://"):
            storage: Storage = DatabaseStorage(db.engine)
            now: Callable[[], float] = DatabaseStorage._now
        else:
            storage = storage_from_string(uri)
            now = time.time
        throttle = Throttle(FixedWindowRateLimiter(storage), storage, now)
        app.extensions["throttle"] = throttle
    return throttle


def client_address() -> str:
    return request.remote_addr or "unknown"


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


def _checks(scope: str, account: str | None, per_account: str | None = None) -> Checks:
    address = client_address()
    config = current_app.config
    per_address = config.get("RATELIMIT_PER_ADDRESS") or PER_ADDRESS
    per_pair = per_account or config.get("RATELIMIT_PER_ACCOUNT_ADDRESS") \
        or PER_ACCOUNT_AND_ADDRESS
    checks = [(item, ("credential-address", address)) for item in parse_many(per_address)]
    if account:
        checks += [(item, (f"{scope}-account", _digest(account), address))
                   for item in parse_many(per_pair)]
    return checks


def too_many_attempts(retry_after: int) -> Response:
    response = make_response(render_template("errors/429.html", code=429), 429)
    response.headers["Retry-After"] = str(max(1, retry_after))
    return response


def _is_failure(response: Response) -> bool:
    return response.status_code not in (301, 302, 303)


def credential_form(scope: str, account: Callable[[], str | None],
                    failed: Callable[[Response], bool] = _is_failure,
                    per_account: str | None = None):
    """Limit a view whose POST checks a credential.

    ``scope`` names the form ("login", "password", "reset"…); ``account`` returns who the
    attempt is about (the email typed, the logged-in user's id; None: the address limit only);
    ``failed(response)`` says whether the attempt counts (default: anything but a redirect);
    ``per_account``: a stricter limit per (account, address) than the login's.
    A POST over a limit is answered 429 with ``Retry-After`` before the view runs.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if request.method != "POST" or not current_app.config.get("RATELIMIT_ENABLED", True):
                return view(*args, **kwargs)
            throttle = _throttle()
            checks = _checks(scope, account(), per_account)
            wait = throttle.attempt(checks)
            if wait:
                log.warning("too many %s attempts from %s", scope, client_address())
                return too_many_attempts(wait)
            response = make_response(view(*args, **kwargs))
            if not failed(response):
                throttle.refund(checks)
            return response

        return wrapper

    return decorate
