"""The seminar's materials for the people on the list: the papers, the newest final
booklet, everything as one ZIP, and the session as a calendar file.

Who may have the files is decided by ``policy.can_get_materials``; this module only says what
the files are. Nothing here reads a whole file into memory: single files are sent by
``Storage.send``, and the ZIP is written once per version (its ETag) by a ``zipstream-ng``
stream that reads each file in chunks, into ``cache/archives/``, and sent from there.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import BinaryIO

from sqlalchemy import and_, func, select
from sqlalchemy.orm import contains_eager
from zipstream import ZIP_STORED, ZipStream

from .. import clock
from ..extensions import db
from ..models import Assignment, Booklet, Seminar, Submission
from ..settings import TIME_ZONE_NAME
from ..storage import CACHE_DIR, Storage
from .booklet import build as booklet_service
from .papers import EXTENSIONS, MIME_TYPES, assignments_with_revisions, get_assignment
from .programme import programme
from .seminars import find_seminar

log = logging.getLogger(__name__)

ZIP_NAME = "Tài liệu tọa đàm.zip"
ARCHIVE_DIR = f"{CACHE_DIR}/archives"
CALENDAR_NAME = "Tọa đàm.ics"


@dataclass
class PaperItem:
    """One line of the materials page."""

    assignment: Assignment
    revision: Submission | None
    presenter: str

    @property
    def pages(self) -> int | None:
        if self.revision is None:
            return None
        return self.revision.pages or self.revision.normalised_pages

    @property
    def has_pdf(self) -> bool:
        return self.revision is not None and pdf_source(self.revision) is not None


def papers(seminar: Seminar, *, loaded: bool = False) -> list[PaperItem]:
    """The seminar's papers in order, each with its current revision (or None).

    ``loaded``: the seminar came from ``find_seminar(with_revisions=True)``, so its
    assignments, units, revisions and uploaders are already there (no query again)."""
    assignments = list(seminar.assignments) if loaded else assignments_with_revisions(seminar)

    presenters = booklet_service.presenter_names(assignments)
    return [PaperItem(assignment=a, revision=a.current_submission, presenter=presenters[a.id])
            for a in assignments]


def page(allowed: bool) -> dict:
    """What the content of /materials shows: the seminar with its agenda and, for those
    ``allowed``, the papers and the booklet. Read afresh (nothing loaded earlier in the
    request, such as the person, is taken as it was), so that it is at least as new as the
    content version read before it."""
    db.session.expire_all()
    seminar = find_seminar(with_revisions=True)
    return dict(
        seminar=seminar,
        agenda_items=programme(seminar),
        booklet=published_booklet(seminar) if allowed else None,
        papers=papers(seminar, loaded=True) if allowed else [],
    )


def current_revision(seminar: Seminar, position: int) -> Submission | None:
    """The current file of paper ``position`` (None while it has not been submitted);
    NotFound when the seminar has no such paper."""
    row = db.session.execute(
        select(Assignment, Submission)
        .outerjoin(Submission, Submission.assignment_id == Assignment.id)
        .where(Assignment.seminar_id == seminar.id, Assignment.position == position)
        .order_by(Submission.number.desc()).limit(1)).first()
    if row is None:
        get_assignment(seminar, position)  # raises NotFound with its message
    return row[1] if row is not None else None


def current_revisions(seminar: Seminar) -> list[Submission]:
    """The current revision of every submitted paper, in the order of the agenda, each with its
    assignment: one query, whatever the number of papers and revisions."""
    newest = (select(Submission.assignment_id, func.max(Submission.number).label("number"))
              .join(Assignment, Assignment.id == Submission.assignment_id)
              .where(Assignment.seminar_id == seminar.id)
              .group_by(Submission.assignment_id).subquery())
    return list(db.session.scalars(
        select(Submission)
        .join(newest, and_(Submission.assignment_id == newest.c.assignment_id,
                           Submission.number == newest.c.number))
        .join(Submission.assignment)
        .options(contains_eager(Submission.assignment))
        .order_by(Assignment.position)))


def mimetype(revision: Submission) -> str:
    return MIME_TYPES[revision.file_type]


def download_name(revision: Submission) -> str:
    """The uploader's own (Vietnamese) file name, with the extension of the file's real type."""
    name = revision.original_filename or f"bai-{revision.assignment.position}"
    extension = EXTENSIONS[revision.file_type]
    if not name.lower().endswith(extension):
        name = f"{name}{extension}"
    return name


def pdf_source(revision: Submission) -> str | None:
    """The stored path of the paper as PDF: its normalised PDF, or the upload itself when it is
    a PDF that was not normalised."""
    if revision.normalised_path:
        return revision.normalised_path
    if revision.file_type == "pdf":
        return revision.stored_path
    return None


def pdf_name(revision: Submission) -> str:
    stem = str(PurePosixPath(download_name(revision)).with_suffix(""))
    return f"{stem}.pdf"


def published_booklet(seminar: Seminar) -> Booklet | None:
    """The newest final booklet (drafts are for the Office)."""

    return booklet_service.latest(seminar, final_only=True)


def booklet_name(seminar: Seminar, booklet: Booklet) -> str:

    return booklet_service.file_name(seminar, booklet)


# -- everything as one ZIP ----------------------------------------------------------------


@dataclass
class ZipPlan:
    """What goes into the ZIP, decided before a byte is sent."""

    entries: list[tuple[str, str]]  # (stored relative path, name in the archive)
    etag: str
    last_modified: datetime | None

    @property
    def empty(self) -> bool:
        return not self.entries


def zip_plan(seminar: Seminar, storage: Storage, include_booklet: bool = True) -> ZipPlan:
    """The current file of every paper, numbered by position ("02 - Tham luận ….docx"), and
    (``include_booklet``) the newest final booklet. Files missing from the folder are left out
    (and logged)."""
    entries: list[tuple[str, str]] = []
    digest = hashlib.sha256()
    instants: list[datetime] = []
    for revision in current_revisions(seminar):
        position = revision.assignment.position
        if not storage.exists(revision.stored_path):
            log.error("paper %d: stored file %s is missing", position, revision.stored_path)
            continue
        name = f"{position:02d} - {download_name(revision)}"
        entries.append((revision.stored_path, name))
        digest.update(f"{name}\0{revision.sha256}\n".encode())
        instants.append(revision.uploaded_at)
    booklet = published_booklet(seminar) if include_booklet else None
    if booklet is not None:
        if storage.exists(booklet.stored_path):
            name = booklet_name(seminar, booklet)
            entries.append((booklet.stored_path, name))
            digest.update(f"{name}\0{booklet.sha256}\n".encode())
            instants.append(booklet.built_at)
        else:
            log.error("booklet %d: stored file %s is missing", booklet.id, booklet.stored_path)
    return ZipPlan(entries=entries, etag=digest.hexdigest()[:40],
                   last_modified=max(instants) if instants else None)


def zip_archive(plan: ZipPlan, storage: Storage) -> BinaryIO:
    """The ZIP of ``plan``, open for reading: made once per ETag under ``cache/archives/`` (the
    archive of an older ETag is removed then), so that every later download is sent from the
    file by the server instead of being generated again, byte by byte, in Python. Raises
    ``StorageError`` when it cannot be written (``zip_stream`` still can)."""

    stream = zip_stream(plan, storage)

    def make(out: BinaryIO) -> None:
        for chunk in stream:
            out.write(chunk)

    # Writing it may take a while: the request's read transaction ends first (on SQLite, an
    # open one would hold back the other writers' checkpoints and the mail thread).
    db.session.commit()
    return storage.derived(f"{ARCHIVE_DIR}/{plan.etag}.zip", make, only_one=True,
                           size=len(stream))


def zip_stream(plan: ZipPlan, storage: Storage) -> ZipStream:
    """A stream of the ZIP: stored, not compressed (PDF and DOCX are compressed already), so its
    length is known before it is generated. File names are UTF-8 (the archive flags them)."""
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    for relative, name in plan.entries:
        stream.add_path(str(storage.path(relative)), name, recurse=False)
    return stream


# -- the session as a calendar file (RFC 5545) -------------------------------------------

VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TIME_ZONE_NAME}",
    f"X-LIC-LOCATION:{TIME_ZONE_NAME}",
    "BEGIN:STANDARD",
    "DTSTART:19750613T000000",
    "TZOFFSETFROM:+0700",
    "TZOFFSETTO:+0700",
    "TZNAME:+07",
    "END:STANDARD",
    "END:VTIMEZONE",
)


def ics_escape(text: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, line breaks as \\n."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def ics_fold(line: str, limit: int = 75) -> str:
    """Fold a content line into pieces of at most 75 octets (never inside a UTF-8 character);
    every continuation starts with one space."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    room = limit
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > room:
            pieces.append("".join(current))
            current, size, room = [], 0, limit - 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _local_stamp(instant: datetime) -> str:
    return clock.local(instant).strftime("%Y%m%dT%H%M%S")


def _utc_stamp(instant: datetime) -> str:
    return clock.as_utc(instant).strftime("%Y%m%dT%H%M%SZ")


def calendar(seminar: Seminar, url: str, host: str = "localhost") -> str:
    """The session as one VEVENT in Vietnam time (TZID=Asia/Ho_Chi_Minh, with its VTIMEZONE),
    CRLF line ends, long lines folded."""
    agenda = "\n".join(
        f"{a.position}. {a.kind.label_vi} – {a.unit.name}: {a.title}"
        for a in seminar.assignments
    )
    description = f"{seminar.organiser}\n\n{agenda}\n\n{url}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//So Khoa hoc va Cong nghe tinh Quang Ngai//Seminar portal//VI",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *VTIMEZONE,
        "BEGIN:VEVENT",
        f"UID:{ics_escape(seminar.plan_key)}@{host}",
        f"DTSTAMP:{_utc_stamp(seminar.created_at)}",
        f"DTSTART;TZID={TIME_ZONE_NAME}:{_local_stamp(seminar.session_start)}",
        f"DTEND;TZID={TIME_ZONE_NAME}:{_local_stamp(seminar.session_end)}",
        f"SUMMARY;LANGUAGE=vi:{ics_escape(seminar.title)}",
        f"LOCATION;LANGUAGE=vi:{ics_escape(seminar.venue)}",
        f"DESCRIPTION;LANGUAGE=vi:{ics_escape(description)}",
        f"URL:{url}",
        "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(ics_fold(line) + "\r\n" for line in lines)

