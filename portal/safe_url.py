"""Redirect targets that never leave the site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, otherwise None.

    Refused: absolute URLs, scheme-relative ``//host`` (also with backslashes, which browsers
    read as slashes), anything with a scheme or a network location, control characters.
    """
    if not target or not isinstance(target, str):
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    candidate = target.replace("\\", "/")
    if not candidate.startswith("/") or candidate.startswith("//"):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    return target
