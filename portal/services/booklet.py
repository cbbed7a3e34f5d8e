"""The proceedings booklet: preflight, build, the newest final one.

The papers were converted to normalised PDFs when they were uploaded (``documents.convert``
inside the checked child process); a build only merges them behind the front matter, stamps
page numbers and writes bookmarks (``assemble.build_booklet``). A paper whose normalised PDF
was made by an older converter is converted again first, so an edit to the stylesheet never
serves a stale PDF.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import (
    Assignment,
    AuditEvent,
    Booklet,
    Seminar,
    Submission,
    User,
)
from ..storage import Storage, StorageError, get_storage
from . import assemble, attendance, audit, notifications, programme
from .documents import notes
from .documents.checker import run_checked
from .documents.results import DocumentRefused, is_no_space
from .errors import BookletNotReady, PortalError, StorageFailed
from .submissions import assignments_with_revisions, converter_version

log = logging.getLogger(__name__)

FRONT_PAGES_GUESS = 3  # cover, agenda, table of contents
_build_lock = threading.Lock()

Progress = Callable[[str, float], None]


@dataclass
class PreflightRow:
    assignment: Assignment
    revision: Submission | None
    pages: int = 0
    page_sizes: list[list[float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    start_page: int | None = None
    stale: bool = False  # converted by an older converter: converted again at build time
    unembedded: list[str] = field(default_factory=list)  # fonts not embedded in its PDF

    @property
    def left_hand(self) -> bool:
        """Starts on an even page: a left-hand page when printed on both sides."""
        return bool(self.start_page) and self.start_page % 2 == 0

    @property
    def size_labels(self) -> list[str]:
        """Distinct page sizes, named (A4, Letter, landscape, rotated)."""
        labels: list[str] = []
        for width, height, *rest in self.page_sizes:
            rotation = int(rest[0]) if rest else 0
            label = _size_name(width, height)
            if rotation:
                label += f" ↻{rotation}°"
            if label not in labels:
                labels.append(label)
        return labels


def _size_name(width: float, height: float) -> str:
    return assemble.size_name(width, height)


def _unembedded_fonts(revision: Submission, storage: Storage) -> list[str]:
    """Fonts the revision's normalised PDF uses without embedding them."""
    if not revision.normalised_path or not storage.exists(revision.normalised_path):
        return []
    try:
        import pikepdf

        with pikepdf.open(storage.path(revision.normalised_path)) as pdf:
            return assemble.preflight_pdf(pdf).unembedded
    except Exception:  # noqa: BLE001 - a paper the preflight cannot read shows no fonts
        log.warning("preflight could not read %s", revision.normalised_path)
        return []


def preflight(seminar: Seminar, storage: Storage | None = None) -> list[PreflightRow]:
    """Per paper: revision, pages, page sizes, fonts not embedded, where it starts (and so
    whether on a left-hand page), conversion notes."""
    rows: list[PreflightRow] = []
    storage = storage or get_storage()
    version = converter_version()
    for assignment in assignments_with_revisions(seminar):
        revision = assignment.current_submission
        row = PreflightRow(assignment=assignment, revision=revision)
        if revision is not None:
            row.pages = revision.normalised_pages or revision.pages or 0
            try:
                row.page_sizes = json.loads(revision.page_sizes or "[]")
            except ValueError:
                row.page_sizes = []
            row.notes = notes.read_stored(revision.conversion_notes)
            row.stale = not _is_current(revision, version)
            row.unembedded = _unembedded_fonts(revision, storage)
        else:
            row.pages = 1  # the placeholder page of a draft
        rows.append(row)
    starts = assemble.plan_starts(_front_pages(seminar), [r.pages for r in rows])
    for row, start in zip(rows, starts, strict=True):
        row.start_page = start
    return rows


def _front_pages(seminar: Seminar) -> int:
    latest = db.session.scalar(
        select(Booklet).where(Booklet.seminar_id == seminar.id)
        .order_by(Booklet.built_at.desc(), Booklet.id.desc()).limit(1))
    if latest is not None:
        try:
            return int(json.loads(latest.contents).get("front_pages", FRONT_PAGES_GUESS))
        except (ValueError, AttributeError):
            pass
    return FRONT_PAGES_GUESS


def _is_current(revision: Submission, version: str) -> bool:
    return bool(revision.normalised_path) and revision.normalised_path.startswith(
        f"converted/{version}/")


def missing_papers(seminar: Seminar) -> list[Assignment]:
    return [a for a in assignments_with_revisions(seminar) if a.current_submission is None]


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
           ) -> tuple[assemble.AgendaItem, ...]:
    """The programme as the booklet's agenda prints it: opening, papers, closing, each with
    its time range in Vietnam time ("08:15 – 08:40")."""
    items = []
    for item in programme.programme(seminar):
        start, end = clock.local(item.starts_at), clock.local(item.ends_at)
        when = f"{start:%H:%M} – {end:%H:%M}"
        if item.kind == "paper" and item.assignment is not None:
            who = item.presenter or (presenters or {}).get(item.assignment.id, "")
            items.append(assemble.AgendaItem(when, item.title, item.assignment.kind.label_vi,
                                             item.unit, who))
        else:
            items.append(assemble.AgendaItem(when, item.title))
    return tuple(items)


def front_matter(seminar: Seminar, presenters: dict[int, str] | None = None
                 ) -> assemble.FrontMatter:
    start, end = clock.local(seminar.session_start), clock.local(seminar.session_end)
    return assemble.FrontMatter(
        title=seminar.title,
        organiser=seminar.organiser,
        venue=seminar.venue,
        session=f"{start:%H:%M}–{end:%H:%M}, ngày {start:%d/%m/%Y}",
        place_date=f"Quảng Ngãi, tháng {start.month} năm {start.year}",
        agenda=agenda(seminar, presenters),
    )


def _ensure_converted(revision: Submission, storage: Storage, version: str) -> Path:
    """The normalised PDF of ``revision`` for the current converter, made now if needed."""
    if _is_current(revision, version) and storage.exists(revision.normalised_path):
        return storage.path(revision.normalised_path)
    relative = f"converted/{version}/{revision.sha256}.pdf"
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
        revision.normalised_pages = info.print_pages
        if info.converted.page_sizes:
            revision.page_sizes = json.dumps(info.converted.page_sizes)
    revision.normalised_path = relative
    return storage.path(relative)


def build(seminar: Seminar, actor: User | None, draft: bool,
          progress: Progress | None = None, storage: Storage | None = None) -> Booklet:
    """Build the booklet and record it. A final build needs all seven papers.

    The previous booklets stay as they are whatever happens here.
    """
    storage = storage or get_storage()
    report = progress or (lambda stage, fraction: None)
    assignments = assignments_with_revisions(seminar)
    missing = [a for a in assignments if a.current_submission is None]
    if missing and not draft:
        raise BookletNotReady(
            _l("The final booklet needs all papers. Missing: %(list)s. Build a draft, or wait "
               "for these papers."),
            list="; ".join(f"{a.position}. {a.unit.name}" for a in missing),
        )
    if not _build_lock.acquire(timeout=120):
        raise BookletNotReady(_l("Another booklet is being built. Try again in a moment."))
    temp: Path | None = None
    placed: str | None = None
    try:
        report("converting", 0.02)
        version = converter_version()
        parts: list[assemble.Part] = []
        used: list[dict] = []
        presenters = presenter_names(assignments)
        for assignment in assignments:
            revision = assignment.current_submission
            pdf = _ensure_converted(revision, storage, version) if revision else None
            parts.append(assemble.Part(
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
        result = assemble.build_booklet(
            front_matter(seminar, presenters), parts, temp, draft,
            cache_dir=storage.path("cache/front"), progress=report,
            front_pages_guess=_front_pages(seminar), created=newest)
        for item, start, part in zip(used, result.starts, parts, strict=True):
            item["start_page"] = start
            item["title"] = part.title
        previous = latest(seminar, final_only=True) if not draft else None
        if previous is not None and previous.sha256 == result.sha256 \
                and storage.exists(previous.stored_path):
            # The same revisions give the same bytes: the published booklet stays, with its
            # print editions, and nobody is mailed twice about it.
            db.session.commit()  # conversions made on the way are kept
            return previous
        stamp = clock.now().strftime("%Y%m%dT%H%M%S%f")
        kind = "draft" if draft else "final"
        placed = f"booklets/{stamp}-{kind}-{result.sha256[:16]}.pdf"
        storage.place(temp, placed)
        booklet = Booklet(
            seminar_id=seminar.id, built_by=actor, built_at=clock.now(), is_draft=draft,
            pages=result.pages, size=result.size, sha256=result.sha256, stored_path=placed,
            contents=json.dumps({"front_pages": result.front_pages, "parts": used},
                                ensure_ascii=False),
        )
        db.session.add(booklet)
        audit.record("booklet.build", actor, target=placed, draft=draft, pages=result.pages,
                     sha256=result.sha256, seconds=result.seconds)
        notifications.booklet_published(booklet, attendance.confirmed(seminar))
        db.session.commit()
        storage.settle(placed)
    except assemble.FontsNotEmbedded as error:
        db.session.rollback()
        _discard(storage, placed)
        raise BookletNotReady(
            _l("The final booklet cannot contain fonts that are not embedded (a print shop "
               "refuses them). Ask for these papers again as PDF with embedded fonts, or as "
               "Word files: %(list)s."),
            list="; ".join(f"{position}. {', '.join(names)}"
                           for position, names in _fonts_by_paper(error.fonts)),
        ) from None
    except assemble.BookletError as error:
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
        _build_lock.release()
    return booklet


def _discard(storage: Storage, placed: str | None) -> None:
    if placed:
        storage.delete(placed)
        storage.settle(placed)


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
    try:
        return list(json.loads(booklet.contents).get("parts", []))
    except (ValueError, AttributeError):
        return []


def front_pages_of(booklet: Booklet) -> int:
    """How many pages of front matter the build has (its last one is the table of contents)."""
    try:
        return int(json.loads(booklet.contents).get("front_pages", 0))
    except (ValueError, AttributeError, TypeError):
        return 0


def file_name(seminar: Seminar, booklet: Booklet) -> str:
    day = clock.local(booklet.built_at).strftime("%Y%m%d-%H%M")
    kind = "ban-nhap" if booklet.is_draft else "chinh-thuc"
    return f"Tài liệu tọa đàm {day} {kind}.pdf".replace(" ", "_")


# -- print editions -------------------------------------------------------------------------

EDITIONS = assemble.EDITIONS
EDITION_LABELS = {"a4": _l("A4 print edition"), "a5-booklet": _l("A5 booklet for folding")}


def edition_path(booklet: Booklet, edition: str, storage: Storage | None = None) -> str | None:
    """The stored path of a print edition already made, remade if its file went missing
    (None when it was never made)."""
    made = editions_of(booklet).get(edition)
    if made is None:
        return None
    storage = storage or get_storage()
    if not storage.exists(made["path"]):
        made = build_edition(booklet, edition, storage=storage)
    return made["path"]


def editions_of(booklet: Booklet) -> dict[str, dict]:
    """The print editions made from ``booklet``: edition -> {path, sha256, pages, size}."""
    try:
        editions = json.loads(booklet.contents).get("editions", {})
    except (ValueError, AttributeError):
        return {}
    return {name: data for name, data in editions.items() if name in EDITIONS}


def build_edition(booklet: Booklet, edition: str, actor: User | None = None,
                  storage: Storage | None = None) -> dict:
    """Make (or reuse) a print edition of a final booklet; recorded in its contents."""
    storage = storage or get_storage()
    if edition not in EDITIONS:
        raise BookletNotReady(_l("Unknown print edition."))
    if booklet.is_draft:
        raise BookletNotReady(_l("Print editions are made from a final booklet. Build the "
                                 "final booklet first."))
    existing = editions_of(booklet).get(edition)
    if existing and storage.exists(existing["path"]):
        return existing
    starts = [int(part["start_page"]) for part in contents_of(booklet)
              if part.get("start_page")]
    # Derived from the final booklet, byte for byte the same when made again: kept with the
    # other derived files (the storage check and backups leave cache/ out), remade on demand.
    relative = f"cache/editions/{Path(booklet.stored_path).stem}-{edition}.pdf"
    temp = storage.new_temp_path(".pdf")
    try:
        result = assemble.build_edition(storage.path(booklet.stored_path), temp, edition,
                                        starts, cache_dir=storage.path("cache/front"))
        storage.place(temp, relative)
    except assemble.BookletError as error:
        log.error("print edition failed: %s", error)
        raise BookletNotReady(_l("The print edition could not be made: %(reason)s"),
                              reason=str(error)) from None
    except StorageError:
        raise StorageFailed(_l("The print edition could not be saved (the storage is full "
                               "or not writable).")) from None
    finally:
        temp.unlink(missing_ok=True)
    data = {"path": relative, "sha256": result.sha256, "pages": result.pages,
            "size": result.size, "blanks": result.blanks}
    try:
        contents = json.loads(booklet.contents or "{}")
    except ValueError:
        contents = {}
    if not isinstance(contents, dict):
        contents = {"parts": contents}
    contents.setdefault("editions", {})[edition] = data
    booklet.contents = json.dumps(contents, ensure_ascii=False)
    audit.record("booklet.edition", actor, target=relative, edition=edition,
                 pages=result.pages, sha256=result.sha256)
    db.session.commit()
    return data


def edition_file_name(seminar: Seminar, booklet: Booklet, edition: str) -> str:
    return file_name(seminar, booklet).removesuffix(".pdf") + f"_in-{edition}.pdf"


# -- background builds, with progress visible to every worker -----------------------------

PROGRESS_FILE = "cache/booklet-progress.json"


STAGE_LABELS = {
    "queued": _l("waiting to start"),
    "converting": _l("converting the papers"),
    "front matter": _l("cover, agenda and table of contents"),
    "merging": _l("putting the papers together"),
    "numbering": _l("numbering the pages"),
    "saving": _l("saving"),
    "done": _l("done"),
}
STALE_AFTER = timedelta(minutes=10)


def read_progress(storage: Storage | None = None) -> dict:
    """The state of the last build started from the web: idle, running, done or failed.

    A "running" state that has not moved for ``STALE_AFTER`` belonged to a worker that died:
    it is reported as failed, so the page stops waiting and a new build may start.
    """
    storage = storage or get_storage()
    try:
        with storage.open(PROGRESS_FILE) as handle:
            state = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError):
        state = {"state": "idle"}
    failure = _last_failure()
    if failure is not None:
        # A failure the progress file could not take (a full disk) is newer than what it says.
        try:
            written = clock.as_utc(datetime.fromisoformat(state.get("at", "")))
        except (TypeError, ValueError):
            written = None
        if state.get("state") == "idle" or written is None or written < failure[0]:
            state = {"state": "failed", "at": failure[0].isoformat(), "message": failure[1]
                     or str(_l("The booklet could not be built. The previous booklet is "
                               "unchanged."))}
    if state.get("state") == "running":
        try:
            at = datetime.fromisoformat(state.get("at", ""))
        except ValueError:
            at = None
        if at is None or clock.now() - at > STALE_AFTER:
            state = {"state": "failed", "message": str(_l(
                "The last build stopped without finishing (the server was restarted). The "
                "previous booklet is unchanged; build again."))}
    stage = state.get("stage")
    if stage in STAGE_LABELS:
        state["stage_label"] = str(STAGE_LABELS[stage])
    return state


def write_progress(storage: Storage, **state) -> None:
    state.setdefault("at", clock.now().isoformat())
    target = storage.path(PROGRESS_FILE)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        temp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        temp.replace(target)
    except OSError:
        log.warning("could not write the build progress")


def _build_failed(storage: Storage, actor: User | None, draft: bool, message: str) -> None:
    """Say a build failed, and why, where every worker sees it: the progress file and, since
    that file cannot be written on a full disk, the audit log in the database."""
    write_progress(storage, state="failed", message=message, draft=draft)
    try:
        db.session.rollback()
        audit.record("booklet.build_failed", actor, target="draft" if draft else "final",
                     message=message)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the database is what failed: nothing more to tell
        db.session.rollback()
        log.exception("could not record the failed build")


def _last_failure() -> tuple[datetime, str] | None:
    """The newest booklet.build or booklet.build_failed event, when it is a failure."""
    try:
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action.in_(("booklet.build",
                                                             "booklet.build_failed")))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))
    except Exception:  # noqa: BLE001 - the page still shows what the file says
        db.session.rollback()
        return None
    if event is None or event.action != "booklet.build_failed":
        return None
    try:
        message = json.loads(event.detail or "{}").get("message") or ""
    except ValueError:
        message = ""
    return clock.as_utc(event.at), message


def start_build(app, seminar_id: int, actor_id: int | None, draft: bool) -> threading.Thread:
    """Build in a background thread of this process; progress goes to ``PROGRESS_FILE``."""
    storage = app.extensions["storage"]
    write_progress(storage, state="running", stage="queued", fraction=0.0, draft=draft)

    def run() -> None:
        with app.app_context():
            seminar = db.session.get(Seminar, seminar_id)
            actor = db.session.get(User, actor_id) if actor_id else None

            def report(stage: str, fraction: float) -> None:
                write_progress(storage, state="running", stage=stage,
                               fraction=round(fraction, 2), draft=draft)

            try:
                booklet = build(seminar, actor, draft, progress=report, storage=storage)
            except PortalError as error:
                _build_failed(storage, actor, draft, str(error))
            except Exception as error:  # noqa: BLE001 - the previous booklet stays; say so
                log.exception("booklet build crashed")
                if is_no_space(error):
                    message = _l("The booklet could not be saved (the storage is full or not "
                                 "writable). The previous booklet is unchanged.")
                else:
                    message = _l("The booklet could not be built because of an unexpected "
                                 "error. The previous booklet is unchanged.")
                _build_failed(storage, actor, draft, str(message))
            else:
                write_progress(storage, state="done", fraction=1.0, draft=draft,
                               booklet_id=booklet.id, pages=booklet.pages)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name="booklet-build", daemon=True)
    thread.start()
    return thread


__all__ = ["PortalError", "build", "preflight", "latest", "history", "missing_papers"]


def _fonts_by_paper(fonts: list[tuple[int, str]]) -> list[tuple[int, list[str]]]:
    """(paper, font) pairs grouped per paper, in paper order: "5. Times-Roman, Helvetica"."""
    grouped: dict[int, list[str]] = {}
    for position, name in fonts:
        grouped.setdefault(position, []).append(name)
    return sorted(grouped.items())
