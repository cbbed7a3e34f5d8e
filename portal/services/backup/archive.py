"""The archive's format: its members, the manifest, and reading an archive back with every
member checked against the manifest."""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...storage import CHUNK, TMP_DIR

FORMAT = "seminar-portal-backup"
VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBERS = {"sqlite": "database/portal.sqlite3", "postgresql": "database/portal.pgdump"}
FILES_PREFIX = "files/"
DERIVED = ("cache/",)
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why and what to do."""


def _safe_relative(name: str) -> str:
    """A relative path inside the upload folder, or BackupError."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        raise BackupError(f"unsafe path in the archive: {name!r}; refused.")
    if name.startswith("/") or posixpath.normpath(name) != name or \
            any(part in ("", ".", "..") for part in name.split("/")):
        raise BackupError(f"unsafe path in the archive: {name!r}; refused.")
    if name.startswith((f"{TMP_DIR}/", *DERIVED)):
        raise BackupError(f"unexpected path in the archive: {name!r}")
    return name


def _read_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise BackupError(f"the manifest is damaged: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not a backup of the seminar portal (no manifest).")
    if manifest.get("version") != VERSION:
        raise BackupError(f"this backup has format version {manifest.get('version')!r}; this "
                          f"portal reads version {VERSION}.")
    database = manifest.get("database")
    if not isinstance(database, dict) or database.get("kind") not in DB_MEMBERS \
            or database.get("member") != DB_MEMBERS[database.get("kind")]:
        raise BackupError("the manifest does not describe the database.")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise BackupError("the manifest does not list the files.")
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("size"), int) \
                or not isinstance(item.get("sha256"), str):
            raise BackupError("the manifest's list of files is damaged.")
        _safe_relative(item.get("path"))
    return manifest


def _expected_members(manifest: dict[str, Any]) -> dict[str, tuple[int, str]]:
    database = manifest["database"]
    expected = {database["member"]: (int(database["size"]), str(database["sha256"]))}
    for item in manifest["files"]:
        name = FILES_PREFIX + item["path"]
        if name in expected:
            raise BackupError(f"the manifest lists {item['path']} twice.")
        expected[name] = (item["size"], item["sha256"])
    return expected


def read_archive(archive: Path, staging: Path) -> dict[str, Any]:
    """Extract ``archive`` into ``staging``, checking every member against the manifest.

    Returns the manifest. Raises BackupError on anything unexpected: a damaged archive, a
    link, a device, an absolute or ``..`` path, a member the manifest does not list, a size
    or sha256 that differs, a member missing.
    """
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = iter(tar)
            first = next(members, None)
            if first is None or first.name != MANIFEST or not first.isreg() \
                    or first.size > MAX_MANIFEST_BYTES:
                raise BackupError("this is not a backup of the seminar portal "
                                  "(manifest.json is not its first member).")
            manifest = _read_manifest(tar.extractfile(first).read())
            expected = _expected_members(manifest)
            seen: set[str] = set()
            for member in members:
                name = member.name
                if name.startswith("/") or ".." in name.split("/") or "\\" in name:
                    raise BackupError(f"unsafe path in the archive: {name!r}; refused.")
                if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
                    raise BackupError(f"the archive holds a link, folder or device "
                                      f"({name!r}); refused.")
                if name in seen or name not in expected:
                    raise BackupError(f"the archive holds a file the manifest does not list: "
                                      f"{name!r}")
                if name.startswith(FILES_PREFIX):
                    _safe_relative(name[len(FILES_PREFIX):])
                size, sha256 = expected[name]
                if member.size != size:
                    raise BackupError(f"{name}: {member.size} bytes, the manifest says {size}.")
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                source = tar.extractfile(member)
                with open(target, "wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != sha256:
                    raise BackupError(f"{name}: sha256 differs from the manifest (the archive "
                                      f"is damaged or was changed).")
                seen.add(name)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeError) as error:
        raise BackupError(f"the archive is damaged or is not a .tar.gz: {error}") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"missing from the archive: {', '.join(missing[:10])}"
                          f"{' …' if len(missing) > 10 else ''}")
    return manifest


def summarise(manifest: dict[str, Any]) -> Iterable[str]:
    database = manifest["database"]
    yield (f"database: {database['kind']}, alembic revision "
           f"{database.get('alembic_revision') or 'none'}, "
           + ", ".join(f"{name} {count}" for name, count in database.get("tables", {}).items()
                       if count))
    total = sum(item["size"] for item in manifest["files"])
    yield f"files: {len(manifest['files'])} ({total} bytes)"
    if manifest.get("skipped"):
        yield (f"not taken: {len(manifest['skipped'])} file(s) no row of the snapshot "
               f"references (see `flask storage check`)")
