"""The content version: one row (``content_version``) with a new random token whenever a
transaction that changes what the attendee pages show commits: the seminar, its papers and
units, the revisions, the booklets, and of a person only what pages show of them (name, unit,
whether active or the Office; not a login, a password or a language).

Changes are noted as they are flushed and the token is written as the transaction commits, in
the same transaction, so it commits or rolls back with them, in every process (pages,
commands, the booklet build). Written last, just before COMMIT, the row's lock is never held
while waiting for another: two writers take turns, they never deadlock. A token is never
reused, so the same token means the same content: ``/materials`` renders its content once per
token (``web/fragments.py``).
"""

from __future__ import annotations

from sqlalchemy import event, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .extensions import db
from .models import Assignment, Booklet, ContentVersion, Seminar, Submission, Unit, User, new_token

# What the pages show of each kind of row: every column (None), or only these.
SHOWN: dict[type, frozenset[str] | None] = {
    Seminar: None, Assignment: None, Unit: None, Submission: None, Booklet: None,
    User: frozenset({"full_name", "unit_id", "active", "is_office"}),
}
_CHANGED = "content_changed"


def current() -> str | None:
    """The token now; None when the row is missing (then nothing may be reused)."""
    return db.session.scalar(select(ContentVersion.token).where(ContentVersion.id == 1))


def _shows(row) -> frozenset[str] | None | bool:
    for kind, columns in SHOWN.items():
        if isinstance(row, kind):
            return columns
    return False


def _changes_what_pages_show(session: Session) -> bool:
    if any(_shows(row) is not False for row in (*session.new, *session.deleted)):
        return True
    for row in session.dirty:
        columns = _shows(row)
        if columns is None and session.is_modified(row, include_collections=False):
            return True
        if columns:
            attrs = inspect(row).attrs
            if any(attrs[name].history.has_changes() for name in columns):
                return True
    return False


@event.listens_for(Session, "after_flush")
def _note(session: Session, _flush_context) -> None:
    # after_flush still sees what the flush wrote (new, dirty, deleted, their history).
    if _changes_what_pages_show(session):
        session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _renew(session: Session) -> None:
    session.flush()  # what the commit would flush, noted before the token is written
    if session.info.pop(_CHANGED, False):
        _write(session.connection(), new_token())


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous_transaction) -> None:
    session.info.pop(_CHANGED, None)


def _write(connection: Connection, token: str) -> None:
    table = ContentVersion.__table__
    if connection.execute(update(table).where(table.c.id == 1)
                          .values(token=token)).rowcount:
        return
    # The row is missing (a database made without the migrations): made once, whoever is
    # first; the others' insert does nothing and their update writes their token.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    connection.execute(insert(table).values(id=1, token=token).on_conflict_do_nothing())
    connection.execute(update(table).where(table.c.id == 1).values(token=token))
