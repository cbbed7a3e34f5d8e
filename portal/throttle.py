"""Limits on every form that checks a credential (login, password change, reset, forgot).

Wrong attempts are counted per (account, address) pair and per address, never per account
alone: a stranger hammering the Office's account slows down only their own address, and the
right password from another address still works.

The counts live where every worker process sees them: the database (table
``rate_limit_counter``) by default, or Redis/memcached when ``RATELIMIT_STORAGE_URI`` names one.
``memory://`` (the old default) also means the database, since it would count per worker.

Usage on a view (the decorator counts a POST whose response is not a redirect as a failure)::

    @throttle.credential_form("login", account=lambda: request.form.get("email"))

The counters themselves (``throttle_storage``, on the ``limits`` library) are imported on the
first counted attempt, not when the portal starts.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Response, current_app, make_response, render_template, request

if TYPE_CHECKING:
    from limits import RateLimitItem

    from .throttle_storage import Throttle

Checks = list[tuple["RateLimitItem", tuple[str, ...]]]

log = logging.getLogger(__name__)

# Wrong attempts from one address at one account, and from one address at any account
# (the defaults; RATELIMIT_PER_ACCOUNT_ADDRESS and RATELIMIT_PER_ADDRESS change them).
PER_ACCOUNT_AND_ADDRESS = "5 per minute; 20 per hour"
PER_ADDRESS = "20 per minute; 200 per hour"


def _throttle() -> Throttle:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    throttle = app.extensions.get("throttle")
    if throttle is None:
        from .throttle_storage import build

        throttle = build(app.config.get("RATELIMIT_STORAGE_URI"))
        app.extensions["throttle"] = throttle
    return throttle


def client_address() -> str:
    return request.remote_addr or "unknown"


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


def _checks(scope: str, account: str | None, per_account: str | None = None) -> Checks:
    from limits import parse_many

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
