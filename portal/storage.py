"""The one object that owns the upload folder.

Files arrive through ``receive()`` into a temporary file inside the folder (same file system,
so putting them in place is atomic), hashed while they stream, never held whole in memory. They
are put in place with ``place()`` (fsync, a hard link that fails if the name is taken, fsync of
the folder), at a relative path the caller builds from ids — never from a client's file name.
``place()`` never replaces a file: when the name is taken it raises ``AlreadyExists`` and
leaves both files as they were. Every path is resolved with ``safe_join`` and must stay inside
the folder.

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

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from flask import current_app, request, send_file
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join
from werkzeug.wsgi import wrap_file

from .settings import sha256_file

log = logging.getLogger(__name__)

CHUNK = 256 * 1024
TMP_DIR = ".tmp"
CACHE_DIR = "cache"  # derived files (previews, archives): rebuilt from the stored ones
LEFTOVER_AGE = 3600  # seconds: no upload or build keeps a temporary file this long
# A note in the process's .tmp/<pid>/ naming a file placed and not yet committed: when the
# process dies before its commit, the next start removes that file unless a row uses it.
PENDING_PREFIX = "placed-"


class StorageError(Exception):
    """The folder could not be written (full, read-only, missing)."""


class AlreadyExists(StorageError):
    """``place()`` found the name taken: nothing was written, the file there is untouched."""

    def __init__(self, relative: str):
        super().__init__(f"{relative} exists already")
        self.relative = relative


# A hard link fails with these where the file system has none (FAT, some network mounts).
_NO_HARD_LINKS = {errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


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
        if os.path.isdir(tmp):  # one stat, where a mkdir that finds it raises and is caught
            return tmp
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
        with _removed_on_failure(path), os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(max_bytes)
                digest.update(chunk)
                out.write(chunk)
            # No fsync: a temporary file needs none; place() syncs it once, before it takes
            # its name, and the folder after.
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
        """Move a temporary file to ``relative`` atomically; never replaces a file.

        The name is taken by ``os.link(temp, target)``, which the kernel refuses when the name
        exists (one check-and-create step, so two processes placing the same name at the same
        moment cannot both win, and neither touches the other's file); the temporary name is
        then removed. A name already taken raises ``AlreadyExists`` (nothing written, the
        file there untouched); any other failure raises ``StorageError`` and leaves nothing at
        ``relative``. Once this returns, the file is in place for good (a failure to remove the
        temporary name is only logged: the caller discards its temporary file anyway).
        """
        target = self.path(relative)
        pending = self._pending_note(relative)
        try:
            pending.write_text(relative, encoding="utf-8")  # before the name is taken
            if not os.path.isdir(target.parent):
                target.parent.mkdir(parents=True, exist_ok=True)
            with open(temp, "rb+") as handle:
                os.fsync(handle.fileno())
            try:
                os.link(temp, target)
            except FileExistsError:
                pending.unlink(missing_ok=True)
                raise AlreadyExists(relative) from None
            except OSError as error:
                if error.errno not in _NO_HARD_LINKS:
                    raise
                self._place_without_link(temp, target, relative)
            else:
                try:
                    os.unlink(temp)
                except OSError as error:
                    log.warning("could not remove the temporary file %s: %s", temp, error)
        except StorageError:
            pending.unlink(missing_ok=True)
            raise
        except OSError as error:
            pending.unlink(missing_ok=True)
            raise StorageError(str(error)) from error
        fsync_dir(target.parent)
        return target

    def _pending_note(self, relative: str) -> Path:
        digest = hashlib.sha1(relative.encode("utf-8")).hexdigest()[:24]  # noqa: S324 - a name
        return self._tmp_dir() / f"{PENDING_PREFIX}{digest}"

    def settle(self, *relatives: str) -> None:
        """The files ``relatives`` placed by this process are committed (or removed again):
        forget their pending notes. Never fails."""
        for relative in relatives:
            try:
                self._pending_note(relative).unlink(missing_ok=True)
            except (OSError, StorageError):
                log.warning("could not remove the pending note of %s", relative)

    def pending_in(self, entry: TempEntry) -> set[str]:
        """The files a process placed without settling them, from its pending notes."""
        found = set()
        for name in entry.files:
            if Path(name).name.startswith(PENDING_PREFIX):
                try:
                    found.add(self.path(name).read_text(encoding="utf-8").strip())
                except (OSError, ValueError, NotFound):
                    continue
        return {relative for relative in found if relative and not relative.startswith(".")}

    @staticmethod
    def _place_without_link(temp: Path, target: Path, relative: str) -> None:
        """``place()`` where the file system has no hard links: the name is claimed with an
        empty placeholder created by ``O_CREAT | O_EXCL`` (atomic: exactly one process gets
        it), and the temporary file is renamed over the placeholder, which is ours alone.
        Readers see no file, the empty placeholder for a moment, or the whole file — never a
        part of it. Should the rename fail, the placeholder is removed again."""
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise AlreadyExists(relative) from None
        os.close(fd)
        try:
            os.rename(temp, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise

    def delete(self, relative: str) -> None:
        try:
            self.path(relative).unlink()
        except FileNotFoundError:
            pass

    # -- derived files -----------------------------------------------------------------
    def derived(self, relative: str, make: Callable[[BinaryIO], None],
                only_one: bool = False, size: int | None = None) -> BinaryIO:
        """The derived file ``relative`` (under ``cache/``), open for reading; ``make`` writes
        it when it is not there yet.

        It is written to a temporary file, opened, then renamed into place: a reader never sees
        a partial file, two processes making it at once both finish (the last rename wins, with
        the same bytes), and the handle returned stays valid whatever happens to the name
        afterwards. With ``only_one``, making it removes the other files of its folder (older
        versions nobody asks for any more; a download still reading one keeps its handle).
        ``size``, when known, is checked: a file of another size (cut short by a crash) is made
        again. Raises ``StorageError`` when it cannot be written (the folder is full, say).
        """
        if not relative.startswith(f"{CACHE_DIR}/"):
            raise ValueError(f"not a derived file: {relative!r}")
        target = self.path(relative)
        try:
            handle = open(target, "rb")
        except FileNotFoundError:
            pass
        except OSError as error:
            raise StorageError(str(error)) from error
        else:
            if size is None or os.fstat(handle.fileno()).st_size == size:
                return handle
            handle.close()
            log.warning("derived file %s has the wrong size: made again", relative)
        try:  # the folder first: when it cannot be made, nothing is written for nothing
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(str(error)) from error
        temp = self.new_temp_path(suffix=".derived")
        with _removed_on_failure(temp):
            with open(temp, "wb") as out:
                make(out)
            handle = open(temp, "rb")
            try:
                os.replace(temp, target)
            except BaseException:
                handle.close()
                raise
        if only_one:
            try:
                for sibling in target.parent.iterdir():
                    if sibling != target and sibling.is_file():
                        sibling.unlink(missing_ok=True)
            except OSError as error:  # an old version left behind costs only disk space
                log.warning("could not remove older files next to %s: %s", relative, error)
        return handle

    # -- reading -----------------------------------------------------------------------
    def open(self, relative: str) -> BinaryIO:
        return open(self.path(relative), "rb")

    def sha256(self, relative: str) -> str:
        return sha256_file(self.path(relative))[0]

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

    def sweep_leftovers(self, referenced: Callable[[set[str]], set[str]] | None = None) -> int:
        """Remove what killed processes left in ``.tmp/``; never fails. Returns how many.

        A process killed between placing a file and committing its row left a pending note:
        the file goes too unless ``referenced(paths)`` (the paths some row uses) says it is
        used. Without ``referenced``, or when it fails, such a folder is kept for later."""
        removed = 0
        for entry in self.temp_entries():
            if entry.leftover:
                pending = self.pending_in(entry)
                if pending:
                    try:
                        if referenced is None:
                            continue
                        used = referenced(pending)
                    except Exception:  # noqa: BLE001 - judged at the next start or by --fix
                        log.warning("kept %s: could not tell whether rows use %s",
                                    entry.relative, sorted(pending), exc_info=True)
                        continue
                    for relative in sorted(pending - used):
                        log.warning("removed %s: placed by process %s, which died before "
                                    "its row was committed", relative, entry.owner)
                        with contextlib.suppress(OSError, ValueError):
                            self.delete(relative)
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
        """A response that streams the file, with ETag, Last-Modified and Range support.

        A file missing from the folder (a row points at it, the file is gone) is logged and
        answered with 404, never a 500: the user gets the "page not found" page.
        """
        try:
            response = send_file(
                self.path(relative),
                mimetype=mimetype,
                conditional=True,
                etag=True,
                max_age=0,
            )
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            log.error("stored file %s is missing from the upload folder (run flask storage "
                      "check)", relative)
            raise NotFound() from None
        return _for_download(response, download_name, inline)

    def send_open(self, handle: BinaryIO, download_name: str, mimetype: str, *, etag: str,
                  last_modified: datetime | None = None):
        """A response that sends an open file (a ``derived()`` one), with the caller's ETag
        (the same bytes for the same ETag), Last-Modified and Range support. The server sends
        it from the file (``sendfile`` under gunicorn), not through Python."""
        size = os.fstat(handle.fileno()).st_size
        response = current_app.response_class(wrap_file(request.environ, handle),
                                              mimetype=mimetype, direct_passthrough=True)
        response.content_length = size
        response.set_etag(etag)
        if last_modified is not None:
            response.last_modified = last_modified
        _for_download(response, download_name)
        return response.make_conditional(request, accept_ranges=True, complete_length=size)


def _for_download(response, download_name: str, inline: bool = False):
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


@contextlib.contextmanager
def _removed_on_failure(path: Path) -> Iterator[None]:
    """Remove ``path`` when the block fails (nothing partial is left); an ``OSError`` becomes
    a ``StorageError``."""
    try:
        yield
    except OSError as error:
        path.unlink(missing_ok=True)
        raise StorageError(str(error)) from error
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def fsync_dir(folder: Path) -> None:
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
