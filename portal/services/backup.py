"""Backups: one archive holds a consistent snapshot of the database and every stored file.

``flask backup create --out FILE.tar.gz`` writes a gzip'd tar:

    manifest.json                 always the first member (format, version, created at,
                                  database kind, alembic revision, rows per table, and every
                                  file with its size and sha256)
    database/portal.sqlite3       SQLite: a copy made with the online backup API
    database/portal.pgdump        PostgreSQL: ``pg_dump --format=custom``
    files/<path>                  the stored files (papers/, converted/, booklets/)

Consistency: the database is snapshotted first, and the files taken are exactly those its
rows reference (revisions, their converted PDFs, booklets). Files never change once placed,
so every referenced file is the one the snapshot knows. A file no row of the snapshot
references (an upload that arrived after the snapshot, or a stray that ``flask storage check``
reports) is not taken: restored, it would be a file without a row. It is listed under
"skipped" in the manifest. Temporary files (``.tmp/``) and derived files (``cache/``) are never
taken. On PostgreSQL the file list is read in the same exported snapshot that ``pg_dump`` uses
(``--snapshot``), so the two agree exactly.

The archive is written under a temporary name beside FILE and renamed into place when
complete: there is never a partial archive at FILE.

``flask backup restore FILE`` refuses an installation in use (a seminar or accounts in the
database, or files in the upload folder) unless ``--force``; reads the whole archive into a
staging folder and checks every sha256 against the manifest before it changes anything;
then restores the database (SQLite: the backup API into the configured file; PostgreSQL:
``pg_restore --clean --if-exists``), moves the files into place, and checks again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import posixpath
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from .. import clock
from ..settings import sha256_file
from ..storage import CHUNK, TMP_DIR, Storage, StorageError, _fsync_dir
from .integrity import referenced_files

FORMAT = "seminar-portal-backup"
VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBERS = {"sqlite": "database/portal.sqlite3", "postgresql": "database/portal.pgdump"}
FILES_PREFIX = "files/"
DERIVED = ("cache/",)
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why and what to do."""


@dataclass
class Snapshot:
    kind: str
    path: Path
    revision: str | None
    tables: dict[str, int]
    referenced: dict[str, str | None]  # stored path -> the sha256 its row records


@dataclass
class CreateResult:
    path: Path
    manifest: dict[str, Any]
    size: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    files: int
    bytes: int
    tables: dict[str, int]
    left_in_place: list[str] = field(default_factory=list)


# -- helpers ---------------------------------------------------------------------------------

def database_kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in DB_MEMBERS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}.")
    return name


def sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        raise BackupError("the database is in memory; there is nothing to back up.")
    return Path(database).resolve()


def libpq_target(engine: Engine) -> tuple[str, dict[str, str]]:
    """The URL for pg_dump/pg_restore/psql ("+psycopg" removed, no password in it: the
    password goes in PGPASSWORD, so it never shows in the process list) and the environment."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql")._replace(password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools of the server's "
            f"version (Debian: apt-get install postgresql-client), then try again.")
    return path


def _tool_major(path: str) -> int | None:
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True,
                                timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for word in output.split():
        head = word.split(".")[0]
        if head.isdigit():
            return int(head)
    return None


def _check_tool_version(path: str, server_version_num: int) -> None:
    server_major = server_version_num // 10000
    major = _tool_major(path)
    if major is not None and major < server_major:
        raise BackupError(
            f"{Path(path).name} is version {major} but the server is PostgreSQL "
            f"{server_major}: install postgresql-client-{server_major} and try again.")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _describe(tables: list[str], conn: Connection) -> tuple[
        str | None, dict[str, int], dict[str, str | None]]:
    """The alembic revision, rows per table, and the files the rows reference."""
    counts = {name: int(conn.execute(text(f"SELECT count(*) FROM {_quote(name)}")).scalar_one())
              for name in sorted(tables)}
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    referenced: dict[str, str | None] = {}
    if "submission" in tables and "booklet" in tables:
        referenced = referenced_files(conn)
    return revision, counts, referenced


# -- create ----------------------------------------------------------------------------------

def _snapshot_sqlite(engine: Engine, target: Path) -> Snapshot:
    source_path = sqlite_path(engine)
    if not source_path.exists():
        raise BackupError(f"the database file {source_path} does not exist.")
    source = sqlite3.connect(f"file:{source_path}?mode=rw", uri=True, timeout=60)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # one step: a consistent copy, even while the portal writes
            copy.execute("PRAGMA journal_mode=DELETE")  # a self-contained file
        finally:
            copy.close()
    except sqlite3.Error as error:
        raise BackupError(f"could not copy the SQLite database: {error}") from error
    finally:
        source.close()
    snapshot_engine = create_engine(f"sqlite:///{target}", poolclass=NullPool)
    try:
        with snapshot_engine.connect() as conn:
            tables = list(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'")).scalars())
            revision, counts, referenced = _describe(tables, conn)
    except DBAPIError as error:
        raise BackupError(f"could not read the copy of the SQLite database: {error}") from error
    finally:
        snapshot_engine.dispose()
    return Snapshot("sqlite", target, revision, counts, referenced)


def _snapshot_postgresql(engine: Engine, target: Path) -> Snapshot:
    pg_dump = _tool("pg_dump")
    url, env = libpq_target(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        with conn.begin():
            _check_tool_version(pg_dump, int(conn.execute(
                text("SHOW server_version_num")).scalar_one()))
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()

            tables = list(conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
            revision, counts, referenced = _describe(tables, conn)
            # pg_dump reads the same snapshot while this transaction stays open.
            result = subprocess.run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot_id}", f"--file={target}",
                 f"--dbname={url}"],
                env=env, capture_output=True, text=True, timeout=3600)
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()[-2000:]}")
    return Snapshot("postgresql", target, revision, counts, referenced)


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
        snapshot = (_snapshot_sqlite if kind == "sqlite" else _snapshot_postgresql)(engine, dump)

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
            _fsync_dir(out.parent)
        except OSError as error:
            temp.unlink(missing_ok=True)
            raise BackupError(f"could not write {out}: {error}") from error
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    return CreateResult(path=out, manifest=manifest, size=out.stat().st_size,
                        warnings=warnings)


# -- restore ---------------------------------------------------------------------------------

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


def installation_in_use(storage: Storage, engine: Engine) -> list[str]:
    """Why this installation is not fresh (empty list: it is)."""
    reasons = []
    database_file = _sqlite_file(engine)
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


def _restore_sqlite(engine: Engine, dump: Path) -> None:
    target = sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    try:
        destination = sqlite3.connect(target, timeout=60)
        try:
            source.backup(destination)
        finally:
            destination.close()
    except sqlite3.Error as error:
        raise BackupError(f"could not restore the SQLite database into {target}: {error} "
                          f"(is the portal still running? stop it first)") from error
    finally:
        source.close()


def _restore_postgresql(engine: Engine, dump: Path) -> None:
    pg_restore = _tool("pg_restore")
    with engine.connect() as conn:
        _check_tool_version(pg_restore, int(conn.execute(
            text("SHOW server_version_num")).scalar_one()))
    url, env = libpq_target(engine)
    result = subprocess.run(
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--exit-on-error", f"--dbname={url}", str(dump)],
        env=env, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was changed in the database): "
                          f"{result.stderr.strip()[-2000:]}")


def _drop_tables_not_in(engine: Engine, keep: set[str]) -> list[str]:
    """Drop the tables the backup does not have (``pg_restore --clean`` only replaces those it
    has): a database migrated by newer code would otherwise keep tables its restored alembic
    revision does not know, and ``flask db upgrade`` would fail on them."""
    with engine.begin() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables "
                                  "WHERE schemaname = current_schema()")).scalars().all()
        extra = sorted(set(names) - keep)
        for name in extra:
            conn.execute(text(f"DROP TABLE IF EXISTS {_quote(name)} CASCADE"))
    return extra


def _tables(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%'")).scalars().all()
        else:
            names = conn.execute(text("SELECT tablename FROM pg_tables "
                                      "WHERE schemaname = current_schema()")).scalars().all()
        return {name: int(conn.execute(text(f"SELECT count(*) FROM {_quote(name)}"))
                          .scalar_one()) for name in sorted(names)}


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
            _restore_sqlite(engine, dump)  # the whole file: tables it lacks are gone too
        else:
            _restore_postgresql(engine, dump)
            dropped = _drop_tables_not_in(engine, set(manifest["database"].get("tables", {})))
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
                _fsync_dir(target.parent)
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
        tables = _tables(engine)
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


def _sqlite_file(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    try:
        return sqlite_path(engine)
    except BackupError:  # in memory
        return None


def _as_found(storage: Storage, engine: Engine) -> _Found:
    database = _sqlite_file(engine)
    tmp = storage.root / TMP_DIR
    folders = [(tmp / str(os.getpid()), (tmp / str(os.getpid())).exists()), (tmp, tmp.exists())]
    return _Found(database, database is not None and database.exists(), folders)




def migration_heads(directory: Path) -> set[str]:
    try:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(directory))
        return set(ScriptDirectory.from_config(config).get_heads())
    except Exception:  # noqa: BLE001 - only a hint
        return set()


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
