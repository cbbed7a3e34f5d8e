"""Paper submissions: upload, validation, revisions.

Finding and listing papers is in ``papers``; deadline extensions in ``deadline_extensions``;
the deadline and ownership decisions in ``policy``.

An upload is received into a temporary file (hashed while it streams), checked and converted
in a child process with a bounded time and memory (``documents.checker``), then moved into
place under a path built from ids, and only then recorded as a new revision row. Any failure
removes what this upload wrote; the previous revision is never touched.

The bytes decide what an upload does, judged while the paper's row is locked (uploads of one
paper take turns there; the slow check runs before, outside the lock):

* the same bytes as the current revision: nothing new is stored (a double click lands here);
* the same bytes as an earlier revision: a new revision (the next number, uploaded now, late
  as usual, the new file name) that points at the file and normalised PDF already stored —
  going back to an earlier file makes it current again without a second copy or a new check;
* anything else: a new revision with its own file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock, policy
from ..database import lock_name, lock_row
from ..extensions import db
from ..models import Assignment, Seminar, Submission, User
from ..settings import converted_path
from ..storage import AlreadyExists, Received, Storage, StorageError, TooLarge, get_storage
from . import audit, notifications
from .documents import checker, notes
from .documents.results import MESSAGES, CheckResult, DocumentRefused
from .documents.version import CONVERTER_VERSION
from .errors import (
    DeadlinePassed,
    DocumentTooLarge,
    InvalidDocument,
    InvalidInput,
    NotFound,
    NotYourAssignment,
    StorageFailed,
)
from .papers import EXTENSIONS, get_assignment

log = logging.getLogger(__name__)


def converter_version() -> str:
    return CONVERTER_VERSION


def check_owner(user: User, assignment: Assignment) -> None:
    if not policy.may_submit(user, assignment):
        raise NotYourAssignment(_l("This paper is assigned to another unit."))


@dataclass
class UploadResult:
    submission: Submission
    duplicate: bool = False  # the same bytes as the current revision: nothing new stored
    reused: int | None = None  # a new revision sharing this earlier revision's stored file
    # The revision's number and file name as they were committed: what the answer to the
    # upload says, without a transaction of its own to read them again after the commit
    # (where it would wait for the delivery of the receipt on SQLite).
    number: int = 0
    filename: str = ""


def upload(
    assignment: Assignment,
    user: User,
    stream: BinaryIO,
    filename: str,
    *,
    storage: Storage | None = None,
) -> UploadResult:
    """Store ``stream`` as a new revision of ``assignment``'s paper, uploaded by ``user``.

    Presenters may upload until the assignment's effective deadline; the Office may upload on a
    unit's behalf at any time (after the deadline the revision is marked late).
    """
    storage = storage or get_storage()
    filename = _admit(assignment, user, filename)
    received = _receive(stream, storage)
    # The deadline is checked when the bytes have arrived.
    arrived = clock.now()
    late = not assignment.is_open(arrived)
    placed: list[str] = []  # what this upload put in the folder: removed again on failure
    check = _Check(received, storage)
    try:
        if not policy.on_time(user, assignment, arrived):
            raise _deadline_passed(assignment)
        if received.size == 0:
            raise InvalidDocument(MESSAGES["empty"])
        submission, reused, duplicate = _decide(assignment, received, storage, check, placed)
        if duplicate:
            return UploadResult(submission=submission, duplicate=True, number=submission.number,
                                filename=submission.original_filename)
        _record(submission, assignment, user, filename, received, arrived, late, reused)
        number = submission.number
        db.session.commit()
        storage.settle(*placed)  # committed: nothing for a restart to clean up
    except IntegrityError:
        db.session.rollback()
        _remove(storage, placed)
        raise InvalidInput(_l("Another upload of this paper arrived at the same moment. "
                              "Please upload again.")) from None
    except StorageError as error:
        db.session.rollback()
        _remove(storage, placed)
        log.error("could not store an upload: %s", error)
        raise StorageFailed(_storage_message()) from None
    except BaseException:
        db.session.rollback()
        _remove(storage, placed)
        raise
    finally:
        received.discard()
        check.discard()
    return UploadResult(submission=submission, reused=reused, number=number, filename=filename)


def _admit(assignment: Assignment, user: User, filename: str) -> str:
    """Before any byte is read: the uploader's right, a file name, an open deadline."""
    check_owner(user, assignment)
    filename = clean_filename(filename)
    if not filename:
        raise InvalidInput(_l("Choose a file to upload."))
    if not policy.on_time(user, assignment):
        raise _deadline_passed(assignment)
    return filename


def _receive(stream: BinaryIO, storage: Storage) -> Received:
    """The upload in a temporary file, hashed while it streams, within the size limit."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    try:
        return storage.receive(stream, max_bytes=limit_mb * 1024 * 1024)
    except TooLarge:
        raise DocumentTooLarge(
            _l("The file is larger than the limit of %(mb)d MB. Reduce its size (for example, "
               "compress the pictures, or save it as PDF) and upload it again."),
            mb=limit_mb,
        ) from None
    except StorageError as error:
        log.error("upload folder not writable: %s", error)
        raise StorageFailed(_storage_message()) from None


class _Check:
    """The slow check (and conversion) of the received bytes, done at most once, outside the
    paper's lock; its normalised PDF waits in a temporary file until it is placed."""

    def __init__(self, received: Received, storage: Storage) -> None:
        self.received = received
        self.storage = storage
        self.result: CheckResult | None = None
        self.converted_tmp: Path | None = None

    def run(self) -> CheckResult:
        if self.result is None:
            self.converted_tmp = self.storage.new_temp_path(".pdf")
            self.result = _check(self.received, self.converted_tmp)
        return self.result

    def discard(self) -> None:
        if self.converted_tmp is not None:
            self.converted_tmp.unlink(missing_ok=True)


def _decide(assignment: Assignment, received: Received, storage: Storage, check: _Check,
            placed: list[str]) -> tuple[Submission, int | None, bool]:
    """The new revision for these bytes and the earlier revision it shares a file with; or the
    current revision and True when it has these bytes already (nothing is written then).
    A new revision leaves the paper's row locked until the commit."""
    for attempt in range(2):
        # Bytes this paper never had are checked and converted first, outside the lock (an
        # earlier revision's bytes were checked and converted when they first came).
        if attempt > 0 or not _on_disk(_with_bytes(assignment, received.sha256),
                                       received.sha256, storage):
            check.run()

        # One upload of this paper at a time from here to the commit (or the rollback).
        lock_row(assignment)
        current = _current(assignment)
        if current is not None and current.sha256 == received.sha256:
            db.session.rollback()  # the lock goes; nothing was written
            return current, None, True
        number = (current.number if current is not None else 0) + 1
        earlier = _on_disk(_with_bytes(assignment, received.sha256), received.sha256, storage)
        if earlier is not None:
            return _reuse(earlier, number), earlier.number, False
        if check.result is not None:
            return _store(storage, assignment, received, number, check.result,
                          check.converted_tmp, placed), None, False
        # The earlier revision the first look found has lost its file since: check and
        # store these bytes as a new file after all.
        db.session.rollback()
    raise StorageError("no decision after two attempts")  # pragma: no cover


def _on_disk(revisions: Iterable[Submission], sha256: str,
             storage: Storage) -> Submission | None:
    """The first of ``revisions`` with these bytes whose file is still stored."""
    return next((s for s in revisions if s.sha256 == sha256 and storage.exists(s.stored_path)),
                None)


def _record(submission: Submission, assignment: Assignment, user: User, filename: str,
            received: Received, arrived: datetime, late: bool, reused: int | None) -> None:
    """Fill in who sent the revision and when, and write it to the audit log."""
    on_behalf = bool(user.is_office) and user.unit_id != assignment.unit_id
    submission.original_filename = filename
    submission.uploaded_at = arrived
    submission.late = late
    submission.on_behalf = on_behalf
    submission.uploader = user
    submission.assignment = assignment
    db.session.add(submission)
    details = {"same_as": reused} if reused is not None else {}
    audit.record(
        "submission.upload", user, target=f"paper {assignment.position}",
        number=submission.number, filename=filename, size=received.size,
        sha256=received.sha256, late=late, on_behalf=on_behalf, **details,
    )
    notifications.upload_receipt(submission)


def _current(assignment: Assignment) -> Submission | None:
    """The paper's current revision as the database has it now (read under the lock)."""
    return db.session.scalar(
        select(Submission).where(Submission.assignment_id == assignment.id)
        .order_by(Submission.number.desc()).limit(1))


def _with_bytes(assignment: Assignment, sha256: str) -> list[Submission]:
    """The paper's revisions with these bytes, latest first, as the database has them now
    (one query, whatever the number of revisions)."""
    return list(db.session.scalars(
        select(Submission).where(Submission.assignment_id == assignment.id,
                                 Submission.sha256 == sha256)
        .order_by(Submission.number.desc())))


def _check(received: Received, converted_tmp: Path) -> CheckResult:
    """Check the file and convert it to a PDF at ``converted_tmp``, in the bounded child."""
    try:
        return checker.run_checked(received.path, convert_to=converted_tmp)
    except DocumentRefused as refused:
        if refused.code == "storage_full":  # the disk, not the file: 503, "storage full"
            log.error("upload could not be checked, the storage is full: %s", refused.detail)
            raise StorageFailed(_storage_message()) from None
        log.info("upload refused (%s): %s", refused.code, refused.detail)
        raise InvalidDocument(MESSAGES.get(refused.code, MESSAGES["damaged"])) from None


def _reuse(earlier: Submission, number: int) -> Submission:
    """A new revision of an earlier revision's bytes: its stored file and normalised PDF."""
    return Submission(
        number=number,
        stored_path=earlier.stored_path,
        size=earlier.size,
        sha256=earlier.sha256,
        file_type=earlier.file_type,
        pages=earlier.pages,
        normalised_path=earlier.normalised_path,
        normalised_pages=earlier.normalised_pages,
        page_sizes=earlier.page_sizes,
        conversion_notes=earlier.conversion_notes,
    )


def _store(storage: Storage, assignment: Assignment, received: Received, number: int,
           result: CheckResult, converted_tmp: Path | None, placed: list[str]) -> Submission:
    """Put new bytes in place (under the paper's lock) and make their revision row."""
    relative = f"papers/{assignment.id}/{number:03d}-{received.sha256[:16]}" \
               f"{EXTENSIONS[result.file_type]}"
    try:
        storage.place(received.path, relative)
        placed.append(relative)
    except AlreadyExists:
        # Under the lock nobody else places this name: it is what a process killed between
        # placing and committing left. The same bytes can serve; other bytes are not touched.
        try:
            same = storage.sha256(relative) == received.sha256
        except OSError:
            same = False
        if not same:
            raise
        log.warning("%s was left by an interrupted upload of the same bytes; it is used",
                    relative)

    normalised: str | None = None
    if converted_tmp is not None and result.converted is not None:
        # The normalised PDF is named by the bytes it comes from: another paper may have the
        # same one. The name's lock orders this with the clean-up of a failed upload (which
        # removes the file only when no row uses it), so a file used here is never removed.
        normalised = converted_path(converter_version(), received.sha256)
        lock_name(normalised)
        try:
            storage.place(converted_tmp, normalised)
            placed.append(normalised)
        except AlreadyExists:
            pass  # the same source bytes, the same converter: the file there will do

    pages = result.pages or (result.converted.pages if result.converted else None)
    return Submission(
        number=number,
        stored_path=relative,
        size=received.size,
        sha256=received.sha256,
        file_type=result.file_type,
        pages=pages,
        normalised_path=normalised,
        normalised_pages=result.print_pages if normalised else None,
        page_sizes=json.dumps(result.print_page_sizes),
        conversion_notes=notes.stored(result.all_notes),
    )


def _remove(storage: Storage, placed: list[str]) -> None:
    """Remove what a failed upload placed (its transaction already rolled back).

    Its paper file was placed under the paper's lock at a name no committed row uses. A
    normalised PDF is shared by name: it goes only when no row uses it, judged under the
    name's lock (so an upload that found it there and is committing is waited for); when that
    cannot be judged (the database has gone), it stays — ``flask storage check`` reports it.
    """
    for relative in placed:
        if not relative.startswith("converted/"):
            storage.delete(relative)
            storage.settle(relative)
            continue
        try:
            lock_name(relative)
            if not _referenced(relative):
                storage.delete(relative)
            storage.settle(relative)
        except Exception:  # noqa: BLE001 - the upload's own error is the one to report
            log.exception("kept %s: could not tell whether a revision uses it", relative)
        finally:
            db.session.rollback()


def _referenced(relative: str) -> bool:
    return bool(db.session.scalar(
        select(func.count(Submission.id)).where(Submission.normalised_path == relative)))


def _deadline_passed(assignment: Assignment) -> DeadlinePassed:
    return DeadlinePassed(
        _l("The deadline for this paper has passed (before %(when)s, Vietnam time). Uploads "
           "are closed; if you still need to send it, contact the Office (Văn phòng Sở)."),
        when=clock.format_datetime(assignment.effective_deadline),
    )


def _storage_message():
    return _l("The portal could not save your file right now (the storage is full or not "
              "writable). Nothing was stored. Please try again later and tell the Office.")


def clean_filename(name: str | None) -> str:
    """The client's file name, for display only: Unicode kept, paths and controls removed."""
    if not name:
        return ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    return name[:200]


def mark_received(submission: Submission, actor: User) -> None:
    if submission.received_at is None:
        submission.received_at = clock.now()
        submission.received_by = actor
        audit.record("submission.receive", actor,
                     target=f"paper {submission.assignment.position}", number=submission.number)
        db.session.commit()


def get_revision(assignment: Assignment, number: int) -> Submission:
    for submission in assignment.submissions:
        if submission.number == number:
            return submission
    raise NotFound(_l("There is no revision %(n)s of this paper."), n=number)


def add_from_file(seminar: Seminar, position: int, path: Path, actor: User | None) -> UploadResult:
    """The Office adds a file on a unit's behalf (the command line)."""
    assignment = get_assignment(seminar, position)
    if actor is None:
        actor = _office_actor()
    with open(path, "rb") as stream:
        return upload(assignment, actor, stream, path.name)


def _office_actor() -> User:
    user = db.session.scalar(select(User).where(User.is_office.is_(True), User.active.is_(True))
                             .order_by(User.id))
    if user is None:
        raise InvalidInput(_l("No Office account exists. Create one first: "
                              "flask users create --office …"))
    return user
