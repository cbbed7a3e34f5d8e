"""The printable sign-in sheet ("DANH SÁCH ĐẠI BIỂU THAM DỰ"): the confirmed attendees in an
A4 table made with WeasyPrint, set in the bundled Liberation Serif.

WeasyPrint gets a fetcher that serves the four bundled font files and nothing else: no
network, no other local file, not even ``data:`` URLs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import render_template

from ..models import Seminar
from . import attendance

FONT_DIR = Path(__file__).resolve().parents[1] / "static" / "fonts" / "liberation"
FONT_FILES = {
    "regular": FONT_DIR / "LiberationSerif-Regular.ttf",
    "bold": FONT_DIR / "LiberationSerif-Bold.ttf",
    "italic": FONT_DIR / "LiberationSerif-Italic.ttf",
    "bold_italic": FONT_DIR / "LiberationSerif-BoldItalic.ttf",
}


def font_urls() -> dict[str, str]:
    return {style: path.resolve().as_uri() for style, path in FONT_FILES.items()}


def make_url_fetcher():
    """A WeasyPrint URL fetcher that serves only the bundled font files."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = {path.resolve() for path in FONT_FILES.values()}

    class FontsOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
                path = Path(url2pathname(parts.path)).resolve()
                if path in allowed:
                    return URLFetcherResponse(path.as_uri(), body=path.read_bytes(),
                                              headers={"Content-Type": "font/ttf"})
            raise ValueError(f"refused to fetch {url[:80]!r}")

    return FontsOnlyFetcher(timeout=1, allowed_protocols=("file",), allow_redirects=False)


def render_html(seminar: Seminar, with_times: bool = False) -> str:
    """``with_times``: after the door, pre-filled with each person's check-in time."""
    people = attendance.entries(seminar)
    people = [row for row in people if row["status"] == attendance.CONFIRMED.value]
    arrived = sum(1 for row in people if row.get("checked_in_at"))
    return render_template("pdf/signin_sheet.html", seminar=seminar, people=people,
                           fonts=font_urls(), with_times=with_times, arrived=arrived)


def render_pdf(seminar: Seminar, with_times: bool = False) -> bytes:
    from weasyprint import HTML

    document = HTML(string=render_html(seminar, with_times), url_fetcher=make_url_fetcher())
    return document.write_pdf()
