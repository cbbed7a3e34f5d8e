"""The converter's version: part of every converted PDF's path, so that a change to the
conversion converts older papers again. Light on purpose (no PDF library): the web reads it
at start-up."""

from __future__ import annotations

import hashlib

from . import office

# Bump when the conversion code changes in a way that changes its output.
_CODE_VERSION = "3-libreoffice-prepress-fonts"


def _converter_version() -> str:
    digest = hashlib.sha256()
    digest.update(_CODE_VERSION.encode())
    digest.update(office.REGISTRY.encode())
    return digest.hexdigest()[:16]


CONVERTER_VERSION: str = _converter_version()
