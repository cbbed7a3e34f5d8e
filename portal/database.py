"""Database behaviour shared by every engine: SQLite pragmas, write locks.

SQLite: WAL journal, foreign keys on, a generous busy timeout, and transactions begun by us
(pysqlite's own implicit BEGIN is turned off) so that ``lock_seminar`` can start one with
``BEGIN IMMEDIATE``: the write lock is taken before anything is read, which serialises
registrations across threads and worker processes.
PostgreSQL: ``SELECT … FOR UPDATE`` on the seminar row does the same.
"""

from __future__ import annotations

import contextvars
import hashlib
import sqlite3
from collections.abc import Callable

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine

from .extensions import db

# How long a statement waits for another connection's lock before "database is locked" (which
# the portal answers with a retry page). Tests shorten it.
SQLITE_BUSY_TIMEOUT_MS = 30000

_begin_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "begin_immediate", default=False
)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):  # pragma: no branch
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
    cursor.execute("PRAGMA journal_mode")
    mode = cursor.fetchone()
    if mode and mode[0] not in ("memory", "wal"):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


_before_begin: list[Callable[[Connection], None]] = []


def before_sqlite_begin(hook: Callable[[Connection], None]) -> None:
    """Call ``hook(connection)`` before each SQLite transaction emits its BEGIN (so before a
    ``BEGIN IMMEDIATE`` holds the write lock): the outbox counts open transactions there."""
    _before_begin.append(hook)


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    for hook in _before_begin:
        hook(conn)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _begin_sqlite_write() -> None:
    """SQLite: start a transaction that holds the database's write lock (``BEGIN
    IMMEDIATE``), committing whatever the session had open first.

    That commit only makes room for the BEGIN: what the session has loaded is kept, not
    expired, as on PostgreSQL (where the lock is taken inside the open transaction); the
    locked row itself is read again by ``lock_row``. Expiring everything made the action
    load again, one query at a time, every object it had already read (its user, the
    unit, the seminar…)."""
    session = db.session()
    if session.in_transaction():
        keep = session.expire_on_commit
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = keep
    token = _begin_immediate.set(True)
    try:
        db.session.connection()  # emits BEGIN IMMEDIATE, waiting for the lock
    finally:
        _begin_immediate.reset(token)


def lock_row(instance):
    """Start (or continue) a transaction that holds the write lock on ``instance``'s row.

    On SQLite, ``BEGIN IMMEDIATE`` (the database's one write lock; whatever the session had
    pending is committed first, since the lock can only be taken at the start of a
    transaction there); on PostgreSQL, ``SELECT … FOR UPDATE`` on the row. Returns the
    instance, refreshed.
    """
    if is_sqlite():
        _begin_sqlite_write()
        db.session.refresh(instance)
        return instance
    mapper = inspect(type(instance))
    key = mapper.primary_key_from_instance(instance)
    return db.session.get(type(instance), tuple(key), with_for_update=True,
                          populate_existing=True)


def lock_seminar(seminar):
    """The write lock on the seminar: what serialises registrations and capacity changes."""
    return lock_row(seminar)


def lock_name(name: str) -> None:
    """Hold a write lock on ``name`` (any text: a stored file's path) until the transaction
    ends, starting one if none is open.

    PostgreSQL: a transaction-level advisory lock on a 63-bit hash of the name. SQLite has one
    write lock for the whole database: with no transaction open, one is begun with
    ``BEGIN IMMEDIATE``; an open one must already hold it (begun by ``lock_row`` or
    ``lock_seminar``).
    """
    if is_sqlite():
        if not db.session().in_transaction():
            _begin_sqlite_write()
        return
    key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") >> 1
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def ping() -> None:
    """One round trip to the database (the health check): raises when it does not answer."""
    db.session.execute(text("SELECT 1"))


def missing_tables() -> list[str]:
    """The portal's tables the database lacks: all of them before ``flask db upgrade``."""
    present = set(inspect(db.engine).get_table_names())
    return sorted(set(db.metadata.tables) - present)
