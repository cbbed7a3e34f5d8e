"""The one object that owns the upload folder.

Files arrive through ``receive()`` into a temporary file inside the folder (same file system,
so the final rename is atomic), hashed while they stream, never held whole in memory. They are
put in place with ``place()`` (flush, fsync, rename, fsync of the folder), at a relative path
the caller builds from ids — never from a client's file name. Every path is resolved with
``safe_join`` and must stay inside the folder.

Temporary files live in ``.tmp/<pid>/``, one folder per process (the document checker writes
its own temporary files next to its output, so into the same folder). A process killed in the
middle of an upload (SIGKILL, out of memory) leaves its folder behind; a folder whose process
no longer runs on this machine, or whose files nothing has touched for ``LEFTOVER_AGE`` seconds
(as for any other file in ``.tmp/``), is a leftover: ``sweep_leftovers()`` (run when the portal
starts) and ``flask storage check --fix`` remove it. (The process check assumes the portal's
processes run on this machine; with the upload folder shared between machines, only the age
would be a safe rule.)
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from flask import current_app, send_file
from werkzeug.security import safe_join

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
TMP_DIR = ".tmp"
LEFTOVER_AGE = 3600  # seconds: no upload or build keeps a temporary file this long


class StorageError(Exception):
    """The folder could not be written (full, read-only, missing)."""


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


@dataclass
class Received:
    path: Path  # the temporary file
    size: int
    sha256: str

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


class Storage:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).resolve()

    # -- paths -------------------------------------------------------------------------
    def path(self, relative: str) -> Path:
        joined = safe_join(str(self.root), relative)
        if joined is None:
            raise ValueError(f"unsafe storage path: {relative!r}")
        return Path(joined)

    def exists(self, relative: str) -> bool:
        return self.path(relative).is_file()

    # -- writing -----------------------------------------------------------------------
    def _tmp_dir(self) -> Path:
        tmp = self.root / TMP_DIR / str(os.getpid())
        try:
            tmp.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(str(error)) from error
        return tmp

    def receive(self, stream: BinaryIO, max_bytes: int | None = None) -> Received:
        """Copy ``stream`` into a temporary file, hashing it. Nothing is left behind on error."""
        try:
            fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self._tmp_dir())
        except OSError as error:
            raise StorageError(str(error)) from error
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except TooLarge:
            path.unlink(missing_ok=True)
            raise
        except OSError as error:
            path.unlink(missing_ok=True)
            raise StorageError(str(error)) from error
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Received(path=path, size=size, sha256=digest.hexdigest())

    def receive_file(self, source: str | os.PathLike, max_bytes: int | None = None) -> Received:
        with open(source, "rb") as stream:
            return self.receive(stream, max_bytes)

    def new_temp_path(self, suffix: str = ".part") -> Path:
        """A fresh temporary path inside the folder, for files made by the portal itself."""
        try:
            fd, name = tempfile.mkstemp(prefix="work-", suffix=suffix, dir=self._tmp_dir())
        except OSError as error:
            raise StorageError(str(error)) from error
        os.close(fd)
        return Path(name)

    def new_temp_dir(self, prefix: str = "work-") -> Path:
        """A fresh temporary folder inside the upload folder (a restore stages files there)."""
        try:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=self._tmp_dir()))
        except OSError as error:
            raise StorageError(str(error)) from error

    def place(self, temp: Path, relative: str) -> Path:
        """Move a temporary file to ``relative`` atomically. Refuses to overwrite."""
        target = self.path(relative)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                raise StorageError(f"{relative} exists already")
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(temp, target)
            _fsync_dir(target.parent)
        except OSError as error:
            raise StorageError(str(error)) from error
        return target

    def delete(self, relative: str) -> None:
        try:
            self.path(relative).unlink()
        except FileNotFoundError:
            pass

    # -- reading -----------------------------------------------------------------------
    def open(self, relative: str) -> BinaryIO:
        return open(self.path(relative), "rb")

    def sha256(self, relative: str) -> str:
        digest = hashlib.sha256()
        with self.open(relative) as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def temp_entries(self) -> list[TempEntry]:
        """What ``.tmp/`` holds: one entry per process folder (or stray file directly in it)."""
        tmp = self.root / TMP_DIR
        try:
            names = sorted(os.listdir(tmp))
        except OSError:
            return []
        now = time.time()
        entries = []
        for name in names:
            path = tmp / name
            files = [path] if not path.is_dir() else \
                [Path(d) / f for d, _, fs in os.walk(path) for f in fs]
            newest = 0.0
            for item in [path, *files]:
                try:
                    newest = max(newest, item.stat().st_mtime)
                except OSError:
                    pass
            owner = int(name) if name.isdigit() and path.is_dir() else None
            old = bool(files) and now - newest > LEFTOVER_AGE
            entries.append(TempEntry(
                relative=f"{TMP_DIR}/{name}",
                files=sorted(f.relative_to(self.root).as_posix() for f in files),
                owner=owner,
                # A running process's folder goes only when its files are very old (an
                # empty one stays: the process may be about to write into it). Anything else
                # in .tmp/ (not made by this version) goes by its age alone.
                leftover=old if owner is None else (old or not _running(owner)),
            ))
        return entries

    def remove_temp(self, entry: TempEntry) -> None:
        path = self.path(entry.relative)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def sweep_leftovers(self) -> int:
        """Remove what killed processes left in ``.tmp/``; never fails. Returns how many."""
        removed = 0
        for entry in self.temp_entries():
            if entry.leftover:
                try:
                    self.remove_temp(entry)
                except OSError:
                    continue
                removed += 1
                if entry.files:
                    log.warning("removed %d temporary file(s) left in %s by process %s, which "
                                "has gone", len(entry.files), entry.relative, entry.owner)
        return removed

    def iter_files(self) -> Iterator[str]:
        """Every stored file (relative, with forward slashes), temporary files included."""
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for filename in filenames:
                if filename == ".gitkeep":
                    continue
                full = Path(dirpath) / filename
                yield full.relative_to(self.root).as_posix()

    def send(self, relative: str, download_name: str, mimetype: str, inline: bool = False):
        """A response that streams the file, with ETag, Last-Modified and Range support."""
        response = send_file(
            self.path(relative),
            mimetype=mimetype,
            conditional=True,
            etag=True,
            max_age=0,
        )
        response.headers["Content-Disposition"] = content_disposition(download_name, inline)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "private, no-cache"
        return response


@dataclass
class TempEntry:
    relative: str         # ".tmp/<pid>" or a file directly in ".tmp/"
    files: list[str]      # the files it holds, relative to the upload folder
    owner: int | None     # the process that made it
    leftover: bool        # its process has gone, or its files are older than LEFTOVER_AGE


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return False
    return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_ASCII_PUNCTUATION = str.maketrans({
    "đ": "d", "Đ": "D", "–": "-", "—": "-", "‘": "'", "’": "'", "“": "_", "”": "_", "…": "...",
})


def ascii_fallback(name: str) -> str:
    """An ASCII version of a Vietnamese file name: đ becomes d, accents drop."""
    name = name.translate(_ASCII_PUNCTUATION)
    decomposed = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = text.encode("ascii", "ignore").decode("ascii")
    text = "".join(c if c.isprintable() and c not in '<>:"/\\|?*;' else "_" for c in text)
    text = text.strip()
    return text or "file"


def content_disposition(name: str, inline: bool = False) -> str:
    kind = "inline" if inline else "attachment"
    name = name.replace("\r", " ").replace("\n", " ")
    fallback = ascii_fallback(name)
    if fallback == name:
        return f'{kind}; filename="{fallback}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def get_storage() -> Storage:
    return current_app.extensions["storage"]
