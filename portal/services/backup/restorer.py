"""``restore``: bring an installation back from an archive, checked before anything changes
and again after; a refused restore leaves the installation as it was found."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ...settings import sha256_file
from ...storage import TMP_DIR, Storage, StorageError, fsync_dir
from .archive import DERIVED, FILES_PREFIX, BackupError, read_archive
from .database import (
    database_kind,
    drop_tables_not_in,
    restore_postgresql,
    restore_sqlite,
    sqlite_file,
    table_counts,
)


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    files: int
    bytes: int
    tables: dict[str, int]
    left_in_place: list[str] = field(default_factory=list)


def installation_in_use(storage: Storage, engine: Engine) -> list[str]:
    """Why this installation is not fresh (empty list: it is)."""
    reasons = []
    database_file = sqlite_file(engine)
    fresh_file = database_file is not None and not database_file.exists()
    for table, what in (("seminar", "seminar(s)"), ("user_account", "account(s)")):
        if fresh_file:
            break  # no database file yet: fresh (and connecting would create one)
        try:
            with engine.connect() as conn:
                count = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        except DBAPIError:
            count = 0  # no such table yet: a fresh database
        if count:
            reasons.append(f"the database holds {count} {what}")
    files = [name for name in storage.iter_files()
             if not name.startswith((f"{TMP_DIR}/", *DERIVED))]
    if files:
        reasons.append(f"the upload folder {storage.root} holds {len(files)} file(s)")
    return reasons


def restore(archive: Path | str, storage: Storage, engine: Engine, force: bool = False,
            before_database: Callable[[], None] | None = None,
            say: Callable[[str], None] | None = None) -> RestoreResult:
    """Bring the installation back from ``archive``. ``before_database`` is called before the
    database is replaced (the caller closes its sessions there)."""
    say = say or (lambda message: None)
    archive = Path(archive)
    kind = database_kind(engine)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist.")
    reasons = installation_in_use(storage, engine)
    if reasons and not force:
        raise BackupError(
            "this installation is in use (" + "; ".join(reasons) + "). A backup is restored "
            "into a fresh installation: an empty database (after `flask db upgrade` at most) "
            "and an empty upload folder. To replace this installation with the backup, run "
            "the command again with --force.")
    found = _as_found(storage, engine)
    database_replaced = False
    try:
        staging = storage.new_temp_dir("restore-")
    except StorageError as error:
        found.put_back()
        raise BackupError(f"the upload folder is not writable: {error}") from None
    try:
        say(f"Checking {archive} …")
        manifest = read_archive(archive, staging)
        if manifest["database"]["kind"] != kind:
            raise BackupError(
                f"this backup holds a {manifest['database']['kind']} database and the portal "
                f"is configured for {kind}; restore it into the same kind of database "
                f"(set DATABASE_URL).")
        say(f"Archive verified: {len(manifest['files'])} file(s) and the database, every "
            f"sha256 as in the manifest.")

        if before_database is not None:
            before_database()
        engine.dispose()
        dump = staging / manifest["database"]["member"]
        database_replaced = True
        if kind == "sqlite":
            restore_sqlite(engine, dump)  # the whole file: tables it lacks are gone too
        else:
            restore_postgresql(engine, dump)
            dropped = drop_tables_not_in(engine, set(manifest["database"].get("tables", {})))
            if dropped:
                say(f"Dropped tables the backup does not have: {', '.join(dropped)}.")
        engine.dispose()
        say("Database restored.")

        left_in_place = []
        total = 0
        for item in manifest["files"]:
            source = staging / (FILES_PREFIX + item["path"])
            target = storage.path(item["path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_file() and sha256_file(target)[0] == item["sha256"]:
                source.unlink()
            else:
                os.replace(source, target)
                fsync_dir(target.parent)
            total += item["size"]
        known = {item["path"] for item in manifest["files"]}
        left_in_place = sorted(
            name for name in storage.iter_files()
            if name not in known and not name.startswith((f"{TMP_DIR}/", *DERIVED)))

        # Verify again: every file, and the rows of every table.
        for item in manifest["files"]:
            if sha256_file(storage.path(item["path"]))[0] != item["sha256"]:
                raise BackupError(f"after the restore, {item['path']} differs from the "
                                  f"manifest; check the disk and restore again.")
        tables = table_counts(engine)
        for name, count in manifest["database"].get("tables", {}).items():
            if tables.get(name) != count:
                raise BackupError(f"after the restore, table {name} has {tables.get(name)} "
                                  f"rows; the backup had {count}.")
        return RestoreResult(manifest=manifest, files=len(manifest["files"]), bytes=total,
                             tables=tables, left_in_place=left_in_place)
    except OSError as error:
        raise BackupError(f"the restore failed: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not database_replaced:
            engine.dispose()
            found.put_back()  # refused: the installation is left exactly as it was found
        else:
            found.remove_new_folders()


@dataclass
class _Found:
    """What a restore found before it began, to leave a refused restore no trace: the SQLite
    file (absent in a fresh installation: connecting would create it) and the temporary
    folders it makes in the upload folder."""

    database: Path | None
    database_existed: bool
    folders: list[tuple[Path, bool]]

    def remove_new_folders(self) -> None:
        for folder, existed in self.folders:  # the innermost first
            if not existed:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only when empty

    def put_back(self) -> None:
        self.remove_new_folders()
        if self.database is not None and not self.database_existed:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    Path(f"{self.database}{suffix}").unlink()


def _as_found(storage: Storage, engine: Engine) -> _Found:
    database = sqlite_file(engine)
    tmp = storage.root / TMP_DIR
    folders = [(tmp / str(os.getpid()), (tmp / str(os.getpid())).exists()), (tmp, tmp.exists())]
    return _Found(database, database is not None and database.exists(), folders)
