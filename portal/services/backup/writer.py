"""``create``: write the archive, the database snapshot and exactly the files its rows
reference, under a temporary name renamed into place when complete."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine

from ... import clock
from ...settings import sha256_file
from ...storage import TMP_DIR, Storage, fsync_dir
from .archive import DB_MEMBERS, DERIVED, FILES_PREFIX, FORMAT, MANIFEST, VERSION, BackupError
from .database import database_kind, snapshot_postgresql, snapshot_sqlite


@dataclass
class CreateResult:
    path: Path
    manifest: dict[str, Any]
    size: int
    warnings: list[str] = field(default_factory=list)


class _HashingReader(io.RawIOBase):
    """Reads a file for the archive, hashing what it hands out."""

    def __init__(self, handle: BinaryIO):
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(mtime), 0o600
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path, sha256: str) -> None:
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o600
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    if reader.digest.hexdigest() != sha256:
        raise BackupError(f"{name} changed while it was being backed up; run the backup again.")


def create(out: Path | str, storage: Storage, engine: Engine) -> CreateResult:
    """Write the archive at ``out``. Never leaves a partial archive there."""
    out = Path(out).resolve()
    kind = database_kind(engine)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"cannot create the folder {out.parent}: {error}") from error
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="portal-backup-") as work:
        dump = Path(work) / Path(DB_MEMBERS[kind]).name
        snapshot = (snapshot_sqlite if kind == "sqlite" else snapshot_postgresql)(engine, dump)

        files: list[dict[str, Any]] = []
        missing: list[str] = []
        for relative, recorded in sorted(snapshot.referenced.items()):
            try:
                path = storage.path(relative)
            except ValueError:
                warnings.append(f"a row points outside the upload folder: {relative!r}")
                continue
            if not path.is_file():
                missing.append(relative)
                warnings.append(f"missing (a row points at it, the file is gone): {relative}")
                continue
            sha256, size = sha256_file(path)
            if recorded and sha256 != recorded:
                warnings.append(f"sha256 differs from its row (taken as it is): {relative}")
            files.append({"path": relative, "size": size, "sha256": sha256})
        skipped = sorted(
            relative for relative in storage.iter_files()
            if relative not in snapshot.referenced
            and not relative.startswith((f"{TMP_DIR}/", *DERIVED)))

        dump_sha256, dump_size = sha256_file(dump)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": clock.now().isoformat(),
            "database": {
                "kind": kind,
                "member": DB_MEMBERS[kind],
                "size": dump_size,
                "sha256": dump_sha256,
                "alembic_revision": snapshot.revision,
                "tables": snapshot.tables,
            },
            "files": files,
            "missing": missing,
            "skipped": skipped,
            "note": "files: exactly those the database snapshot references; skipped: files "
                    "no row of the snapshot references (not in this archive)",
        }

        fd, temp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6,
                                  format=tarfile.PAX_FORMAT) as tar:
                    now = clock.now().timestamp()
                    _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False,
                                                         indent=2).encode("utf-8"), now)
                    _add_file(tar, DB_MEMBERS[kind], dump, manifest["database"]["sha256"])
                    for item in files:
                        _add_file(tar, FILES_PREFIX + item["path"], storage.path(item["path"]),
                                  item["sha256"])
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(temp, out)
            fsync_dir(out.parent)
        except OSError as error:
            temp.unlink(missing_ok=True)
            raise BackupError(f"could not write {out}: {error}") from error
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    return CreateResult(path=out, manifest=manifest, size=out.stat().st_size,
                        warnings=warnings)
