"""One WeasyPrint setup for every PDF the portal writes itself (the booklet's front matter and
placeholder pages, the sign-in sheet).

WeasyPrint only honours ``@font-face`` rules when the stylesheet and the render share one
``FontConfiguration``; without it the bundled Liberation Serif is silently replaced by
whatever serif the machine has. Here one configuration per process is given to ``CSS()``
and to ``render()``, and the URL fetcher serves the bundled fonts and the PDF templates and
nothing else (no network, no other local file, no ``data:`` URL).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ..settings import FONT_DIR, PDF_TEMPLATE_DIR

FONT_FAMILY = "Liberation Serif"
FONT_FILES = {
    (400, "normal"): "LiberationSerif-Regular.ttf",
    (700, "normal"): "LiberationSerif-Bold.ttf",
    (400, "italic"): "LiberationSerif-Italic.ttf",
    (700, "italic"): "LiberationSerif-BoldItalic.ttf",
}


def font_face_css() -> str:
    """``@font-face`` rules for the four bundled Liberation Serif faces."""
    rules = []
    for (weight, style), name in FONT_FILES.items():
        rules.append(
            f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; '
            f'font-style: {style}; src: url("{(FONT_DIR / name).resolve().as_uri()}"); }}'
        )
    return "\n".join(rules)


@functools.lru_cache(maxsize=1)
def font_config() -> Any:
    """The process's one FontConfiguration (the bundled faces are registered into it)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def url_fetcher() -> Any:
    """A fetcher that serves only the four bundled faces and the stylesheets in
    templates/pdf."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = {(FONT_DIR / name).resolve() for name in FONT_FILES.values()}
    templates = PDF_TEMPLATE_DIR.resolve()

    class BundledOnlyFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parts = urlsplit(url)
            if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
                path = Path(url2pathname(parts.path)).resolve()
                served = path in allowed or (
                    path.suffix == ".css" and path.is_relative_to(templates))
                if served and path.is_file():
                    kind = "font/ttf" if path.suffix == ".ttf" else "text/css"
                    return URLFetcherResponse(path.as_uri(), body=path.read_bytes(),
                                              headers={"Content-Type": kind})
            raise ValueError(f"refused to fetch {url[:80]!r}")

    return BundledOnlyFetcher(timeout=1, allowed_protocols=("file",), allow_redirects=False)


@functools.lru_cache(maxsize=8)
def _stylesheet(path: str, mtime_ns: int) -> Any:
    from weasyprint import CSS

    text = font_face_css() + "\n" + Path(path).read_text(encoding="utf-8")
    return CSS(string=text, base_url=Path(path).parent.as_uri() + "/",
               url_fetcher=url_fetcher(), font_config=font_config())


def stylesheet(path: Path) -> Any:
    """The stylesheet at ``path`` (with the bundled faces prepended), parsed once."""
    return _stylesheet(str(path), path.stat().st_mtime_ns)


def render(html: str, stylesheets: list[Path]) -> Any:
    """Lay out ``html`` with ``stylesheets``; returns WeasyPrint's Document."""
    from weasyprint import HTML

    sheets = [stylesheet(path) for path in stylesheets]
    document = HTML(string=html, base_url=PDF_TEMPLATE_DIR.as_uri() + "/",
                    url_fetcher=url_fetcher())
    return document.render(stylesheets=sheets, font_config=font_config())


def write_pdf(document: Any) -> bytes:
    """The PDF bytes of a rendered document, with no creation time inside."""
    document.metadata.created = None
    document.metadata.modified = None
    return document.write_pdf(uncompressed_pdf=False)
