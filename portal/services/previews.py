"""Small PNG pictures of PDF pages (the booklet's cover and contents, paper thumbnails).

Rendered once with poppler's ``pdftoppm`` and kept under ``cache/previews`` (derived files,
safe to delete). Without pdftoppm there is simply no picture.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path

from ..storage import Storage

log = logging.getLogger(__name__)


def available() -> bool:
    return shutil.which("pdftoppm") is not None


def page_png(storage: Storage, pdf_relative: str, page: int = 1, width: int = 320) -> Path | None:
    """The path of a PNG of ``page`` (1-based) of a stored PDF, ``width`` pixels wide."""
    if not available() or not storage.exists(pdf_relative):
        return None
    key = hashlib.sha256(f"{pdf_relative}|{page}|{width}".encode()).hexdigest()[:32]
    relative = f"cache/previews/{key}.png"
    target = storage.path(relative)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix = target.with_name(f".{key}.{os.getpid()}.{threading.get_ident()}")
    try:
        subprocess.run(
            ["pdftoppm", "-png", "-f", str(page), "-l", str(page), "-scale-to-x", str(width),
             "-scale-to-y", "-1", "-singlefile", str(storage.path(pdf_relative)), str(prefix)],
            check=True, capture_output=True, timeout=30,
        )
        Path(f"{prefix}.png").replace(target)
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("no preview of %s page %d: %s", pdf_relative, page, error)
        Path(f"{prefix}.png").unlink(missing_ok=True)
        return None
    return target
