"""Print editions of a final booklet, as a service: made on demand (the page imposition is
``impose``), recorded in the booklet's contents, remade when their file went missing."""

from __future__ import annotations

import logging
from pathlib import Path

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Booklet, Seminar, User
from ...storage import Storage, StorageError, get_storage
from .. import audit
from ..errors import BookletNotReady, StorageFailed
from .build import contents_of, file_name
from .parts import EDITIONS, BookletError

log = logging.getLogger(__name__)

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
    editions = booklet.contents_data.get("editions")
    if not isinstance(editions, dict):
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
    from .impose import make_edition

    try:
        result = make_edition(storage.path(booklet.stored_path), temp, edition,
                              starts, cache_dir=storage.path("cache/front"))
        storage.place(temp, relative)
    except BookletError as error:
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
    contents = booklet.contents_data
    contents.setdefault("editions", {})[edition] = data
    booklet.set_contents(contents)
    audit.record("booklet.edition", actor, target=relative, edition=edition,
                 pages=result.pages, sha256=result.sha256)
    db.session.commit()
    return data


def edition_file_name(seminar: Seminar, booklet: Booklet, edition: str) -> str:
    return file_name(seminar, booklet).removesuffix(".pdf") + f"_in-{edition}.pdf"


