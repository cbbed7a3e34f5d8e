"""One booklet build at a time, across every worker process: a claim in the database.

The claim is the single ``booklet_build`` row. A build takes it with a compare-and-swap
(``UPDATE … WHERE owner = <the owner seen>``), which one connection wins whatever the
engine; the loser is refused. The builder beats ``heartbeat_at`` every second from a thread
of its own and writes its stage there, so every worker shows the same progress (a stage
reached within ``REPORT_EVERY`` of the last write goes with the next one: a quick build
writes its claim a few times, not once per stage). A claim is taken over when its heartbeat
is older than ``STALE_AFTER`` or when its process is gone from this host: a build whose
worker was killed is noticed within seconds. A build that fails keeps its reason (a code,
shown translated, or the refusal's text) until the next build.

The reads and writes here use connections of their own, never the caller's session: a
progress line or a heartbeat never commits (or waits for) the build's own transaction.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ... import clock
from ...extensions import db
from ...models import BookletBuild
from ..errors import BookletNotReady

log = logging.getLogger(__name__)

ROW_ID = 1
BEAT_EVERY = 1.0  # seconds between heartbeats
STALE_AFTER = timedelta(seconds=5)  # a heartbeat older than this: the builder is gone
REPORT_EVERY = 0.25  # seconds: a stage reached sooner after the last write waits for the next

STAGE_LABELS = {
    "queued": _l("waiting to start"),
    "converting": _l("converting the papers"),
    "front matter": _l("cover, agenda and table of contents"),
    "merging": _l("putting the papers together"),
    "numbering": _l("numbering the pages"),
    "saving": _l("saving"),
    "done": _l("done"),
}

# Why a build failed, said in the reader's language when shown.
FAILURES = {
    "storage_full": _l("The booklet could not be saved (the storage is full or not "
                       "writable). The previous booklet is unchanged."),
    "crashed": _l("The booklet could not be built because of an unexpected error. The "
                  "previous booklet is unchanged."),
    "died": _l("The last build stopped without finishing (the server was restarted). The "
               "previous booklet is unchanged; build again."),
}

_table = BookletBuild.__table__


class BuildRunning(BookletNotReady):
    """Another build holds the claim."""

    status = 409

    def __init__(self):
        super().__init__(_l("Another booklet is being built. Try again in a moment."))


def _host() -> str:
    return socket.gethostname()[:255]


def _process_gone(host: str, pid: int) -> bool:
    """True when ``pid`` is known not to run: only a process of this host can be checked."""
    if host != _host():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, owned by someone else
        return False
    return False


def _alive(row) -> bool:
    return (row.status == "running"
            and clock.now() - clock.as_utc(row.heartbeat_at) <= STALE_AFTER
            and not _process_gone(row.host, row.pid))


@dataclass
class Claim:
    """The right to build, held by this process until ``finish`` or ``fail``."""

    owner: str
    engine: Engine
    lost: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _beater: threading.Thread | None = None
    _pending: dict = field(default_factory=dict)  # the stage not written yet
    _written_at: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _write(self, **values) -> bool:
        """Write to the claim row while it is still ours, with the stage not written yet;
        False when it was taken over."""
        with self._lock:
            values = {**self._pending, **values}
            self._pending = {}
            self._written_at = time.monotonic()
        try:
            with self.engine.begin() as conn:
                done = conn.execute(update(_table).where(
                    _table.c.id == ROW_ID, _table.c.owner == self.owner,
                    _table.c.status == "running").values(**values)).rowcount
        except Exception:  # noqa: BLE001 - a missed beat is not a failed build
            log.warning("could not write the booklet build's state", exc_info=True)
            return True
        if not done:
            self.lost = True
        return bool(done)

    def start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(BEAT_EVERY):
                if not self._write(heartbeat_at=clock.now()):
                    return

        self._beater = threading.Thread(target=beat, name="booklet-heartbeat", daemon=True)
        self._beater.start()

    def report(self, stage: str, fraction: float) -> None:
        """The build reached ``stage``; refused when another process took the claim over.

        Written now unless the claim was written less than ``REPORT_EVERY`` ago (then the
        next write carries it): a claim written that recently cannot have been taken over."""
        with self._lock:
            self._pending = {"stage": stage, "fraction": round(fraction, 2)}
            due = time.monotonic() - self._written_at >= REPORT_EVERY
        if due:
            self._write(heartbeat_at=clock.now())
        if self.lost:
            raise BookletNotReady(FAILURES["died"])

    def _end(self, **values) -> None:
        self._stop.set()
        if self._beater is not None and self._beater is not threading.current_thread():
            self._beater.join()
        self._write(heartbeat_at=clock.now(), **values)

    def finish(self, booklet_id: int, pages: int) -> None:
        self._end(status="finished", stage="done", fraction=1.0, booklet_id=booklet_id,
                  pages=pages)

    def fail(self, code: str, detail: str = "") -> None:
        """The build failed: ``code`` one of ``FAILURES``, or "refused" with the text."""
        self._end(status="failed", error_code=code, error=detail[:2000])


def claim(draft: bool) -> Claim:
    """Take the claim to build, or raise ``BuildRunning`` when a live build holds it."""
    engine = db.engine
    owner = secrets.token_hex(16)
    now = clock.now()
    values = dict(owner=owner, host=_host(), pid=os.getpid(), draft=draft, started_at=now,
                  heartbeat_at=now, stage="queued", fraction=0.0, status="running",
                  error_code="", error="", booklet_id=None, pages=0)
    with engine.begin() as conn:
        row = conn.execute(select(_table).where(_table.c.id == ROW_ID)).first()
    if row is None:
        try:
            with engine.begin() as conn:
                conn.execute(insert(_table).values(id=ROW_ID, **values))
        except IntegrityError:  # another process inserted it first: it builds
            raise BuildRunning() from None
    else:
        if _alive(row):
            raise BuildRunning()
        with engine.begin() as conn:
            won = conn.execute(update(_table).where(
                _table.c.id == ROW_ID, _table.c.owner == row.owner).values(**values)).rowcount
        if not won:
            raise BuildRunning()
    taken = Claim(owner=owner, engine=engine)
    taken.start_heartbeat()
    return taken


def read() -> dict:
    """The state of the running or last build, as the booklet page shows it: idle, running,
    done or failed (with a message)."""
    with db.engine.connect() as conn:
        row = conn.execute(select(_table).where(_table.c.id == ROW_ID)).first()
    if row is None:
        return {"state": "idle"}
    state: dict = {"draft": row.draft}
    if row.status == "running" and _alive(row):
        state.update(state="running", stage=row.stage, fraction=row.fraction)
        if row.stage in STAGE_LABELS:
            state["stage_label"] = str(STAGE_LABELS[row.stage])
    elif row.status == "finished":
        state.update(state="done", fraction=1.0, booklet_id=row.booklet_id, pages=row.pages)
    else:
        code = row.error_code if row.status == "failed" else "died"
        message = str(FAILURES[code]) if code in FAILURES else row.error
        state.update(state="failed", reason=code, message=message or str(FAILURES["crashed"]))
    return state
