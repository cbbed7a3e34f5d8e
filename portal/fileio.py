"""Writing a file so that a reader never sees half of it: a temporary name beside the target
(same file system), then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def temporary_path(final: Path) -> Path:
    """A new, empty file beside ``final`` (same file system, so a rename is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(handle)
    return Path(name)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: a reader sees the old
    file or the whole new one, never a part."""
    tmp = temporary_path(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
