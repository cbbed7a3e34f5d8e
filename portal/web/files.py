"""Sending generated files and page pictures, one way for every blueprint."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Response, send_file


def send_generated(data: bytes, mimetype: str, name: str, *, attachment: bool = True) -> Response:
    """A file built for this request (a CSV, a sign-in sheet, the minutes): never cached."""
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=attachment,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def send_page_picture(path: Path | str) -> Response:
    """A PNG preview of a page: revalidated on every view, never sniffed as something else."""
    response = send_file(path, mimetype="image/png", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
