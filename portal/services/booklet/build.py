"""The proceedings booklet, as a service: preflight, build, the final rule, the newest booklet.

The papers were converted to normalised PDFs when they were uploaded (``convert.normalise``
inside the checked child process); a build only merges them behind the front matter, stamps
page numbers and writes bookmarks (``merge.build_booklet``). A paper whose normalised PDF
was made by an older converter is converted again first, so an edit to the stylesheet never
serves a stale PDF. One build runs at a time across processes (``progress.claim``).

The PDF modules (pikepdf, WeasyPrint) are imported when a build runs, not with this one: the
web pages that only read booklets never load them.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ... import clock
from ...database import lock_row
from ...extensions import db
from ...models import Assignment, Booklet, Seminar, Submission, User
from ...settings import converted_path
from ...storage import Storage, StorageError, get_storage
from .. import attendance, audit, notifications, programme
from ..documents.checker import run_checked
from ..documents.results import DocumentRefused, is_no_space
from ..errors import BookletNotReady, NotFound, PortalError, StorageFailed
from ..papers import assignments_with_revisions
from ..submissions import converter_version
from . import progress as build_progress
from .parts import (
    AgendaItem,
    BookletError,
    FontsNotEmbedded,
    FrontMatter,
    Part,
    Progress,
)
from .preflight import front_pages_guess, is_current

log = logging.getLogger(__name__)

def missing_papers(seminar: Seminar) -> list[Assignment]:
    return [a for a in assignments_with_revisions(seminar) if a.current_submission is None]


def require_all_papers(seminar: Seminar) -> None:
    """A final booklet needs all the papers: ``BookletNotReady`` naming the missing ones."""
    _require_all(assignments_with_revisions(seminar))


def _require_all(assignments: list[Assignment]) -> None:
    missing = [a for a in assignments if a.current_submission is None]
    if missing:
        raise BookletNotReady(
            _l("The final booklet needs all papers. Missing: %(list)s. Build a draft, or wait "
               "for these papers."),
            list="; ".join(f"{a.position}. {a.unit.name}" for a in missing),
        )


def presenter_names(assignments: list[Assignment]) -> dict[int, str]:
    """Who presents each paper: the uploader of its current revision when they belong to the
    unit, else the unit's first member (the Office's member first for its own paper).
    One query for all units."""
    unit_ids = {a.unit_id for a in assignments}
    first_member: dict[int, str] = {}
    if unit_ids:
        members = db.session.scalars(
            select(User).where(User.unit_id.in_(unit_ids), User.active.is_(True))
            .order_by(User.is_office.desc(), User.id))
        for member in members:
            first_member.setdefault(member.unit_id, member.full_name)
    names = {}
    for assignment in assignments:
        current = assignment.current_submission
        if current is not None and current.uploader is not None \
                and current.uploader.unit_id == assignment.unit_id:
            names[assignment.id] = current.uploader.full_name
        else:
            names[assignment.id] = first_member.get(assignment.unit_id, "")
    return names


def agenda(seminar: Seminar, presenters: dict[int, str] | None = None
           ) -> tuple[AgendaItem, ...]:
    """The programme as the booklet's agenda prints it: opening, papers, closing, each with
    its time range in Vietnam time ("08:15 – 08:40")."""
    items = []
    for item in programme.programme(seminar):
        start, end = clock.local(item.starts_at), clock.local(item.ends_at)
        when = f"{start:%H:%M} – {end:%H:%M}"
        if item.kind == "paper" and item.assignment is not None:
            who = item.presenter or (presenters or {}).get(item.assignment.id, "")
            items.append(AgendaItem(when, item.title, item.assignment.kind.label_vi,
                                    item.unit, who))
        else:
            items.append(AgendaItem(when, item.title))
    return tuple(items)


def front_matter(seminar: Seminar, presenters: dict[int, str] | None = None
                 ) -> FrontMatter:
    start, end = clock.local(seminar.session_start), clock.local(seminar.session_end)
    return FrontMatter(
        title=seminar.title,
        organiser=seminar.organiser,
        venue=seminar.venue,
        session=f"{start:%H:%M}–{end:%H:%M}, ngày {start:%d/%m/%Y}",
        place_date=f"Quảng Ngãi, tháng {start.month} năm {start.year}",
        agenda=agenda(seminar, presenters),
    )


def _ensure_converted(revision: Submission, storage: Storage, version: str,
                      updates: dict) -> Path:
    """The normalised PDF of ``revision`` for the current converter, made now if needed;
    what the revision's row should then say goes into ``updates`` (saved by the caller)."""
    if is_current(revision, version) and storage.exists(revision.normalised_path):
        return storage.path(revision.normalised_path)
    relative = converted_path(version, revision.sha256)
    if not storage.exists(relative):
        temp = storage.new_temp_path(".pdf")
        try:
            info = run_checked(storage.path(revision.stored_path), convert_to=temp)
            if info.converted is None:
                raise BookletNotReady(_l("Paper %(n)d could not be converted to PDF."),
                                      n=revision.assignment.position)
            storage.place(temp, relative)
            storage.settle(relative)  # a derived file, made again whenever it is needed
        except DocumentRefused as refused:
            if refused.code == "storage_full":
                raise StorageError(refused.detail) from None
            raise BookletNotReady(_l("Paper %(n)d could not be converted to PDF: %(reason)s"),
                                  n=revision.assignment.position, reason=str(refused)) from None
        finally:
            temp.unlink(missing_ok=True)
        updates["normalised_pages"] = info.print_pages
        if info.converted.page_sizes:
            updates["page_sizes"] = json.dumps(info.converted.page_sizes)
    updates["normalised_path"] = relative
    return storage.path(relative)


def build(seminar: Seminar, actor: User | None, draft: bool,
          progress: Progress | None = None, storage: Storage | None = None,
          claim: build_progress.Claim | None = None) -> Booklet:
    """Build the booklet and record it. A final build needs all seven papers.

    One build runs at a time across processes: ``claim`` is the one the caller took (the
    web page takes it before starting the build's thread), else it is taken here
    (``BuildRunning`` when another build holds it). How the build ends is written to the
    claim, a failure with its reason. The previous booklets stay as they are whatever
    happens here.
    """
    assignments = assignments_with_revisions(seminar)
    if claim is None:
        if not draft:
            _require_all(assignments)
        claim = build_progress.claim(draft)
    try:
        if not draft:
            _require_all(assignments)
        booklet, new = _build(seminar, assignments, actor, draft, storage or get_storage(),
                              claim, progress)
    except PortalError as error:
        claim.fail("refused", str(error))
        _record_failure(actor, draft, str(error))
        raise
    except BaseException as error:
        code = "storage_full" if is_no_space(error) else "crashed"
        claim.fail(code)
        _record_failure(actor, draft, str(build_progress.FAILURES[code]))
        raise
    claim.finish(booklet.id, booklet.pages)
    db.session.commit()  # what the session read before the claim's last write is not kept
    return booklet


def _build(seminar: Seminar, assignments: list[Assignment], actor: User | None, draft: bool,
           storage: Storage, claim: build_progress.Claim,
           progress: Progress | None) -> tuple[Booklet, bool]:
    """The booklet, and whether it is new (False: the published one has the same bytes)."""
    from . import merge

    def report(stage: str, fraction: float) -> None:
        claim.report(stage, fraction)
        if progress is not None:
            progress(stage, fraction)

    temp: Path | None = None
    placed: str | None = None
    try:
        report("converting", 0.02)
        version = converter_version()
        parts: list[Part] = []
        used: list[dict] = []
        presenters = presenter_names(assignments)
        converted: list[tuple[Submission, dict]] = []
        for assignment in assignments:
            revision = assignment.current_submission
            pdf = None
            if revision is not None:
                converted.append((revision, {}))
                pdf = _ensure_converted(revision, storage, version, converted[-1][1])
            parts.append(Part(
                position=assignment.position,
                kind=assignment.kind.label_vi,
                unit=assignment.unit.name,
                presenter=presenters[assignment.id],
                title=assignment.title,
                pdf=pdf,
            ))
            used.append({"position": assignment.position,
                         "submission_id": revision.id if revision else None,
                         "revision": revision.number if revision else None})
        temp = storage.new_temp_path(".pdf")
        revisions = [a.current_submission for a in assignments if a.current_submission]
        newest = max((r.uploaded_at for r in revisions if r.uploaded_at), default=None)
        front = front_matter(seminar, presenters)
        guess = front_pages_guess(seminar)
        _save_conversions(seminar, [(rev, values) for rev, values in converted if values])
        result = merge.build_booklet(
            front, parts, temp, draft, cache_dir=storage.path("cache/front"), progress=report,
            front_pages_guess=guess, created=newest)
        for item, start, part in zip(used, result.starts, parts, strict=True):
            item["start_page"] = start
            item["title"] = part.title
        # The write that records the build starts with the write lock: the heartbeat's own
        # writes never leave this transaction reading an older state (SQLite).
        lock_row(seminar)
        previous = latest(seminar, final_only=True) if not draft else None
        if previous is not None and previous.sha256 == result.sha256 \
                and storage.exists(previous.stored_path):
            # The same revisions give the same bytes: the published booklet stays, with its
            # print editions, and nobody is mailed twice about it. Nothing is written: the
            # write lock ends here, or the claim's own writes would wait for it (SQLite).
            db.session.commit()
            return previous, False
        stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
        kind = "draft" if draft else "final"
        placed = f"booklets/{stamp}-{kind}-{result.sha256[:16]}.pdf"
        storage.place(temp, placed)
        booklet = Booklet(
            seminar_id=seminar.id, built_by=actor, built_at=clock.now(), is_draft=draft,
            pages=result.pages, size=result.size, sha256=result.sha256, stored_path=placed,
        )
        booklet.set_contents({"front_pages": result.front_pages, "parts": used})
        db.session.add(booklet)
        audit.record("booklet.build", actor, target=placed, draft=draft, pages=result.pages,
                     sha256=result.sha256, seconds=result.seconds)
        notifications.booklet_published(booklet, attendance.confirmed(seminar))
        db.session.commit()
        storage.settle(placed)
    except FontsNotEmbedded as error:
        db.session.rollback()
        _discard(storage, placed)
        raise BookletNotReady(
            _l("The final booklet cannot contain fonts that are not embedded (a print shop "
               "refuses them). Ask for these papers again as PDF with embedded fonts, or as "
               "Word files: %(list)s."),
            list="; ".join(f"{position}. {', '.join(names)}"
                           for position, names in _fonts_by_paper(error.fonts)),
        ) from None
    except BookletError as error:
        db.session.rollback()
        _discard(storage, placed)
        log.error("booklet build failed: %s", error)
        raise BookletNotReady(_l("The booklet could not be built: %(reason)s"),
                              reason=str(error)) from None
    except StorageError as error:
        db.session.rollback()
        _discard(storage, placed)
        log.error("booklet could not be stored: %s", error)
        raise StorageFailed(_l("The booklet could not be saved (the storage is full or not "
                               "writable). The previous booklet is unchanged.")) from None
    except BaseException:
        db.session.rollback()
        _discard(storage, placed)
        raise
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    return booklet, True


def _save_conversions(seminar: Seminar, converted: list[tuple[Submission, dict]]) -> None:
    """Keep the conversions made for this build, whatever happens to it next; no write
    transaction stays open while the pages are merged."""
    if not converted:
        db.session.commit()
        return
    lock_row(seminar)
    for revision, values in converted:
        for name, value in values.items():
            setattr(revision, name, value)
    db.session.commit()


def _record_failure(actor: User | None, draft: bool, message: str) -> None:
    """The audit log keeps every failed build; never raises (the database may be what
    failed)."""
    try:
        db.session.rollback()
        audit.record("booklet.build_failed", actor, target="draft" if draft else "final",
                     message=message)
        db.session.commit()
    except Exception:  # noqa: BLE001
        db.session.rollback()
        log.exception("could not record the failed build")


def _discard(storage: Storage, placed: str | None) -> None:
    if placed:
        storage.delete(placed)
        storage.settle(placed)


def get(booklet_id: int) -> Booklet:
    """One booklet by its id (``NotFound`` if there is none)."""
    booklet = db.session.get(Booklet, booklet_id)
    if booklet is None:
        raise NotFound(_l("There is no such booklet."))
    return booklet


def latest(seminar: Seminar, final_only: bool = True) -> Booklet | None:
    query = select(Booklet).where(Booklet.seminar_id == seminar.id)
    if final_only:
        query = query.where(Booklet.is_draft.is_(False))
    return db.session.scalar(query.order_by(Booklet.built_at.desc(), Booklet.id.desc()).limit(1))


def history(seminar: Seminar, limit: int = 20) -> list[Booklet]:
    return list(db.session.scalars(
        select(Booklet).where(Booklet.seminar_id == seminar.id)
        .order_by(Booklet.built_at.desc(), Booklet.id.desc()).limit(limit)))


def contents_of(booklet: Booklet) -> list[dict]:
    parts = booklet.contents_data.get("parts")
    return list(parts) if isinstance(parts, list) else []


def front_pages_of(booklet: Booklet) -> int:
    """How many pages of front matter the build has (its last one is the table of contents)."""
    try:
        return int(booklet.contents_data.get("front_pages", 0))
    except (TypeError, ValueError):
        return 0


def file_name(seminar: Seminar, booklet: Booklet) -> str:
    day = clock.local(booklet.built_at).strftime("%Y%m%d-%H%M")
    kind = "ban-nhap" if booklet.is_draft else "chinh-thuc"
    return f"Tài liệu tọa đàm {day} {kind}.pdf".replace(" ", "_")


def _fonts_by_paper(fonts: list[tuple[int, str]]) -> list[tuple[int, list[str]]]:
    """(paper, font) pairs grouped per paper, in paper order: "5. Times-Roman, Helvetica"."""
    grouped: dict[int, list[str]] = {}
    for position, name in fonts:
        grouped.setdefault(position, []).append(name)
    return sorted(grouped.items())


def start_build(app, seminar_id: int, actor_id: int | None, draft: bool,
                claim: build_progress.Claim) -> threading.Thread:
    """Build in a background thread of this process, under ``claim`` (taken by the caller):
    its progress, and how it ended, are in the claim's row for every worker to read."""

    def run() -> None:
        with app.app_context():
            seminar = db.session.get(Seminar, seminar_id)
            actor = db.session.get(User, actor_id) if actor_id else None
            try:
                build(seminar, actor, draft, storage=app.extensions["storage"], claim=claim)
            except PortalError as error:
                log.warning("booklet build refused: %s", error)
            except Exception:  # noqa: BLE001 - recorded on the claim; the previous booklet stays
                log.exception("booklet build crashed")
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name="booklet-build", daemon=True)
    thread.start()
    return thread
