"""The database side of a backup: a consistent snapshot of SQLite (the online backup API) or
PostgreSQL (``pg_dump`` in an exported snapshot), its description for the manifest, and putting
a snapshot back."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from ..integrity import referenced_files
from .archive import DB_MEMBERS, BackupError


@dataclass
class Snapshot:
    kind: str
    path: Path
    revision: str | None
    tables: dict[str, int]
    referenced: dict[str, str | None]  # stored path -> the sha256 its row records


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


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed. Install the PostgreSQL client tools of the server's "
            f"version (Debian: apt-get install postgresql-client), then try again.")
    return path


def tool_major(path: str) -> int | None:
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
    major = tool_major(path)
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


def snapshot_sqlite(engine: Engine, target: Path) -> Snapshot:
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


def snapshot_postgresql(engine: Engine, target: Path) -> Snapshot:
    pg_dump = tool("pg_dump")
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


def restore_sqlite(engine: Engine, dump: Path) -> None:
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


def restore_postgresql(engine: Engine, dump: Path) -> None:
    pg_restore = tool("pg_restore")
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


def drop_tables_not_in(engine: Engine, keep: set[str]) -> list[str]:
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


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%'")).scalars().all()
        else:
            names = conn.execute(text("SELECT tablename FROM pg_tables "
                                      "WHERE schemaname = current_schema()")).scalars().all()
        return {name: int(conn.execute(text(f"SELECT count(*) FROM {_quote(name)}"))
                          .scalar_one()) for name in sorted(names)}


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite database file, or None (PostgreSQL, or in memory)."""
    if engine.dialect.name != "sqlite":
        return None
    try:
        return sqlite_path(engine)
    except BackupError:  # in memory
        return None


def migration_heads(directory: Path) -> set[str]:
    try:
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(directory))
        return set(ScriptDirectory.from_config(config).get_heads())
    except Exception:  # noqa: BLE001 - only a hint
        return set()
