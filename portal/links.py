"""Absolute links to the portal for places without a request: mail, calendar files.

Built from the setting ``PORTAL_BASE_URL`` (default ``http://127.0.0.1:5000``), which may carry a
path prefix when the portal is served under one (``https://example.gov.vn/toadam``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def base_url() -> str:
    return str(current_app.config.get("PORTAL_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")


def host() -> str:
    return urlsplit(base_url()).hostname or "localhost"


def absolute_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values, _external=True)`` against ``PORTAL_BASE_URL``."""
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        parts.netloc or "127.0.0.1:5000",
        script_name=parts.path or "/",
        url_scheme=parts.scheme or "http",
    )
    return adapter.build(endpoint, values, force_external=True)
