"""The seminar's content version: a new random token, in ``seminar.content_version``, whenever
a flush writes a row that the attendee pages show (the seminar, its papers and units, the
revisions, the booklets, the people whose names appear).

It is written in the same transaction as the change, so it commits or rolls back with it, in
every process (pages, commands, the booklet build). A token is never reused, so the same token
means the same content: ``/materials`` renders its content once per token and language
(``web/fragments.py``) and only asks the database for the seminar row to know it is current.
"""

from __future__ import annotations

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from .models import Assignment, Booklet, Seminar, Submission, Unit, User, new_token

SHOWN = (Seminar, Assignment, Unit, Submission, Booklet, User)


def _changes_what_pages_show(session: Session) -> bool:
    if any(isinstance(row, SHOWN) for row in session.new):
        return True
    if any(isinstance(row, SHOWN) for row in session.deleted):
        return True
    return any(isinstance(row, SHOWN) and session.is_modified(row, include_collections=False)
               for row in session.dirty)


@event.listens_for(Session, "after_flush")
def _new_version(session: Session, _flush_context) -> None:
    # after_flush still sees what the flush wrote (new, dirty, deleted) and runs inside its
    # transaction; a Core statement on the connection does not flush again.
    if _changes_what_pages_show(session):
        session.connection().execute(update(Seminar.__table__)
                                     .values(content_version=new_token()))
