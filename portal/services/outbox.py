"""The outbox: every mail is a ``MailLog`` row written in the transaction of the action that
causes it, and delivered after that transaction committed.

- ``queue(mails)`` adds the rows ("waiting") to the session without committing: the action's
  own commit writes them, or its rollback drops them with everything else.
- After the commit (an ``after_commit`` event of the session), the new rows are handed to a
  delivery step. Inside a web request it runs on a thread of its own (one per process and
  application, started when there is work), so the request answers without waiting for the
  mail server; on the command line it runs at once, after the commit.
- SQLite: a transaction that read and then writes fails ("database is locked") when another
  connection committed in between; so the delivery thread writes only when no other
  transaction of its process is open (waiting at most ``QUIET_WAIT_SECONDS``), and never
  turns a request that runs at the same moment into an error page.
- Delivery claims each row atomically (``waiting``/``failed`` → ``sending``, one UPDATE that
  only one sender can win), sends with a total deadline per message (``services.mail``) and
  records "sent" or "failed". Writes are short transactions of their own, tried again while
  SQLite says "database is locked", so no outcome is lost.
- ``flask mail send`` (cron) and the Office's "Gửi lại" deliver what is waiting or failed; a
  row claimed by a sender that died (still "sending" long after its deadline) is taken over.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import queue as queue_module
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, has_app_context, has_request_context
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import event, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload

from .. import clock
from ..database import SQLITE_BUSY_TIMEOUT_MS, before_sqlite_begin
from ..extensions import db
from ..models import MailLog, User
from .errors import InvalidInput, NotFound
from .mail import FAILED, SENDING, SENT, WAITING, Mail, send_all

log = logging.getLogger("portal.mail")

_PENDING = "portal.outbox.pending"  # key in Session.info: ids written by this transaction
_EXTENSION = "portal.outbox"
LOCKED_RETRY_SECONDS = 60.0  # how long a write keeps trying while SQLite is locked
BATCH = 50
QUIET_WAIT_SECONDS = 5.0
QUIET_BUSY_TIMEOUT_MS = 1000


# -- queueing, inside the action's transaction --------------------------------------------


def queue(mails: Iterable[Mail]) -> list[MailLog]:
    """Add one "waiting" row per mail to the session; the caller's commit writes them."""
    now = clock.now()
    rows = [
        MailLog(at=now, kind=mail.kind, recipient=mail.to[:254], user_id=mail.user_id,
                subject=mail.subject[:500], status=WAITING, transport="smtp", error="",
                body=mail.text, html=mail.html, lang=mail.lang,
                attachments=_dump_attachments(mail.attachments), attempts=0)
        for mail in mails
    ]
    db.session.add_all(rows)
    return rows


def _dump_attachments(attachments: list[tuple[str, str, bytes]]) -> str:
    if not attachments:
        return ""
    return json.dumps([{"filename": name, "mimetype": mimetype,
                        "data": base64.b64encode(data).decode("ascii")}
                       for name, mimetype, data in attachments])


def _load_attachments(text: str) -> list[tuple[str, str, bytes]]:
    if not text:
        return []
    return [(item["filename"], item["mimetype"], base64.b64decode(item["data"]))
            for item in json.loads(text)]


@event.listens_for(Session, "after_flush")
def _remember_new_mail(session, flush_context) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, MailLog) and obj.status == WAITING]
    if ids:
        session.info.setdefault(_PENDING, []).extend(ids)


@event.listens_for(Session, "after_rollback")
def _forget_new_mail(session) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session) -> None:
    ids = session.info.pop(_PENDING, None)
    if not ids or not has_app_context():
        return  # without an application, ``flask mail send`` delivers them
    app = current_app._get_current_object()
    if has_request_context():
        _courier(app).submit(ids)
        return
    try:
        deliver(ids)
    except Exception:  # noqa: BLE001 - the action committed; the rows wait for a retry
        log.exception("could not deliver mail %s after the commit", ids)


# -- delivering ---------------------------------------------------------------------------


@dataclass
class Delivery:
    sent: int = 0
    failed: int = 0


def deliver(ids: Iterable[int], *, statuses: tuple[str, ...] = (WAITING,)) -> Delivery:
    """Claim the rows ``ids`` that are in one of ``statuses`` (or abandoned while
    "sending"), send them and record the outcome. Rows another sender claimed are skipped."""
    result = Delivery()
    claimed = [row_id for row_id in dict.fromkeys(ids) if _claim(row_id, statuses)]
    for start in range(0, len(claimed), BATCH):
        batch = claimed[start:start + BATCH]
        rows = _read(batch)
        outcomes = send_all([_as_mail(row) for row in rows])
        for row, outcome in zip(rows, outcomes, strict=True):
            _finish(row.id, outcome.status, outcome.transport, outcome.error)
            if outcome.status == SENT:
                result.sent += 1
            else:
                result.failed += 1
    return result


def send_pending() -> Delivery:
    """``flask mail send``: every waiting mail, every failed one that has not used up its
    attempts (``MAIL_MAX_ATTEMPTS``, default 5), and every one a dead sender left behind."""
    limit = int(current_app.config.get("MAIL_MAX_ATTEMPTS") or 5)
    ids = list(db.session.scalars(
        select(MailLog.id).where(or_(
            MailLog.status == WAITING,
            (MailLog.status == FAILED) & (MailLog.attempts < limit),
            (MailLog.status == SENDING) & (MailLog.claimed_at < _abandoned_before()),
        )).order_by(MailLog.id)))
    db.session.rollback()  # end the read: nothing of this session is held while sending
    return deliver(ids, statuses=(WAITING, FAILED))


def resend(row: MailLog) -> MailLog:
    """The Office's "Gửi lại": send a failed (or still waiting) mail now, unchanged (same
    subject, text, HTML and attachments), within the deadline; returns the row as it ends."""
    if row.status == SENT:
        raise InvalidInput(_l("This mail was sent already; only a failed mail is sent again."))
    if not row.body:
        raise InvalidInput(_l("This mail was recorded before the portal kept mail bodies; it "
                              "cannot be sent again."))
    if row.status == SENDING and row.claimed_at is not None \
            and row.claimed_at >= _abandoned_before():
        raise InvalidInput(_l("This mail is being sent at this moment; look again in a "
                              "minute."))
    row_id = row.id
    db.session.rollback()
    deliver([row_id], statuses=(WAITING, FAILED))
    return db.session.get(MailLog, row_id, populate_existing=True)


def _abandoned_before():
    """A row still "sending" since before this was claimed by a sender that died: each
    message has a total deadline, so a live sender is done long before."""
    deadline = float(current_app.config.get("MAIL_DEADLINE") or 60)
    return clock.now() - timedelta(seconds=deadline * 2 + 60)


def _claim(row_id: int, statuses: tuple[str, ...]) -> bool:
    now = clock.now()
    statement = (
        update(MailLog)
        .where(MailLog.id == row_id,
               or_(MailLog.status.in_(statuses),
                   (MailLog.status == SENDING) & (MailLog.claimed_at < _abandoned_before())))
        .values(status=SENDING, claimed_at=now, attempts=MailLog.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return _write(statement) == 1


def _finish(row_id: int, status: str, transport: str, error: str) -> None:
    values = {"status": status, "transport": transport, "error": error}
    if status == SENT:
        values["sent_at"] = clock.now()
    _write(update(MailLog).where(MailLog.id == row_id, MailLog.status == SENDING)
           .values(**values).execution_options(synchronize_session=False))


def _write(statement) -> int:
    """Run one UPDATE in a short transaction of its own; while SQLite answers "database is
    locked", wait a little and try again (up to ``LOCKED_RETRY_SECONDS``)."""
    give_up = time.monotonic() + LOCKED_RETRY_SECONDS
    pause = 0.05
    while True:
        try:
            with _quiet.hold(), db.engine.begin() as connection:
                if _quiet.held():
                    # Fail fast when another process holds the lock (tried again below), so
                    # that no request of this process waits behind this write.
                    connection.exec_driver_sql(f"PRAGMA busy_timeout={QUIET_BUSY_TIMEOUT_MS}")
                try:
                    return connection.execute(statement).rowcount
                finally:
                    if _quiet.held():
                        connection.exec_driver_sql(
                            f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
        except OperationalError as error:
            if "locked" not in str(error).lower() or time.monotonic() > give_up:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _read(ids: list[int]) -> list[MailLog]:
    with Session(db.engine) as session:
        rows = list(session.scalars(select(MailLog).options(selectinload(MailLog.user))
                                    .where(MailLog.id.in_(ids)).order_by(MailLog.id)))
        for row in rows:
            if row.user is not None:
                row.user.full_name  # noqa: B018 - loaded before the session closes
        session.expunge_all()
    return rows


def _as_mail(row: MailLog) -> Mail:
    user: User | None = row.user
    html = row.html or "<pre>" + str(escape(row.body)) + "</pre>"
    return Mail(to=row.recipient, name=user.full_name if user is not None else "",
                subject=row.subject, text=row.body, html=html, kind=row.kind,
                user_id=row.user_id, lang=row.lang or "vi",
                attachments=_load_attachments(row.attachments))


# -- the thread that delivers after a request --------------------------------------------


class _Quiet:
    """The SQLite transactions open in this process (the delivery thread's own excepted), so
    that the thread commits its few writes between them rather than under their feet."""

    def __init__(self):
        self.condition = threading.Condition()
        self.open: set[int] = set()
        self.local = threading.local()

    def began(self, connection) -> None:
        if connection.dialect.name == "sqlite" and not getattr(self.local, "courier", False):
            with self.condition:
                self.open.add(id(connection))

    def ended(self, connection) -> None:
        if connection.dialect.name == "sqlite":
            with self.condition:
                self.open.discard(id(connection))
                self.condition.notify_all()

    def held(self) -> bool:
        return getattr(self.local, "courier", False) and db.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """On the delivery thread: wait until no other transaction of the process is open
        (at most ``QUIET_WAIT_SECONDS``), and let none begin until the write committed.
        SQLite only; a no-op elsewhere and outside the delivery thread."""
        if not self.held():
            yield
            return
        with self.condition:
            self.condition.wait_for(lambda: not self.open, timeout=QUIET_WAIT_SECONDS)
            yield


_quiet = _Quiet()
# Counted before the BEGIN is emitted: counted after a ``BEGIN IMMEDIATE``, a transaction would
# hold SQLite's write lock while waiting here for a delivery write that waits for that lock,
# and both would stand still until the write's busy timeout (a second) ran out.
before_sqlite_begin(_quiet.began)
event.listen(Engine, "commit", _quiet.ended)
event.listen(Engine, "rollback", _quiet.ended)


class _Courier:
    """One thread per process and application, alive while there is mail to deliver."""

    def __init__(self, app: Flask):
        self.app = app
        self.queue: queue_module.Queue[list[int]] = queue_module.Queue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def submit(self, ids: list[int]) -> None:
        self.queue.put(list(ids))
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="portal-mail",
                                               daemon=True)
                self.thread.start()

    def _run(self) -> None:
        _quiet.local.courier = True
        while True:
            try:
                ids = self.queue.get(timeout=1.0)
            except queue_module.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            while True:  # everything waiting goes over one connection
                try:
                    ids += self.queue.get_nowait()
                except queue_module.Empty:
                    break
            try:
                with self.app.app_context():
                    deliver(ids)
            except Exception:  # noqa: BLE001 - the rows wait for ``flask mail send``
                log.exception("could not deliver mail %s", ids)


_couriers_lock = threading.Lock()


def _courier(app: Flask) -> _Courier:
    with _couriers_lock:
        courier = app.extensions.get(_EXTENSION)
        if courier is None:
            courier = app.extensions[_EXTENSION] = _Courier(app)
        return courier


# -- reading, for the Office ---------------------------------------------------------------


def recent(limit: int = 200) -> list[MailLog]:
    return list(db.session.scalars(
        select(MailLog).options(selectinload(MailLog.user))
        .order_by(MailLog.at.desc(), MailLog.id.desc()).limit(limit)))


def get(mail_id: int) -> MailLog:
    row = db.session.get(MailLog, mail_id)
    if row is None:
        raise NotFound(_l("There is no such mail."))
    return row
