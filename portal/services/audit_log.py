"""The audit log as the Office reads it: one sentence per event in the reader's language,
filters (action, person, day) and a CSV export."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import AuditEvent, User
from .audit import ACTION_LABELS, label
from .spreadsheet import cell, excel_csv
from .vietnamese_order import sort_people

# One sentence per kind of event. Parameters: who, target, paper, and the event's details.
SENTENCES = {
    "seminar.load_plan": _l("The seminar was loaded from the plan."),
    "seminar.set_deadline": _l("%(who)s moved the deadline from %(old)s to %(new)s."),
    "seminar.set_capacity": _l("%(who)s changed the capacity from %(old)s to %(new)s seats."),
    "seminar.set_session": _l("%(who)s set the session to %(start)s–%(end)s at %(venue)s."),
    "seminar.set_programme": _l("%(who)s saved the programme; it ends at %(end)s."),
    "user.create": _l("%(who)s created the account %(target)s."),
    "user.import": _l("%(who)s imported %(count)s accounts."),
    "user.change_password": _l("%(who)s changed the password of %(target)s."),
    "user.update": _l("%(who)s changed the account %(target)s."),
    "user.activate": _l("%(who)s reactivated the account %(target)s."),
    "user.deactivate": _l("%(who)s deactivated the account %(target)s."),
    "user.reset_password": _l("%(who)s set a new password for %(target)s."),
    "user.reset_link": _l("%(who)s sent %(target)s a link to set a new password."),
    "submission.upload": _l("%(who)s uploaded revision %(number)s of %(paper)s "
                            "(%(filename)s)."),
    "submission.receive": _l("%(who)s marked revision %(number)s of %(paper)s as received."),
    "assignment.extend": _l("%(who)s extended the deadline of %(paper)s to %(deadline)s. "
                            "Reason: %(reason)s"),
    "assignment.clear_extension": _l("%(who)s removed the extension of %(paper)s."),
    "attendance.register": _l("%(who)s put %(target)s on the attendee list."),
    "attendance.register:self": _l("%(who)s registered for the seminar."),
    "attendance.cancel": _l("%(who)s cancelled the registration of %(target)s."),
    "attendance.cancel:self": _l("%(who)s cancelled their own registration."),
    "attendance.remove": _l("%(who)s removed %(target)s from the attendee list."),
    "attendance.promote": _l("%(who)s confirmed %(target)s from the waiting list."),
    "attendance.move_to_waitlist": _l("%(who)s moved %(target)s to the waiting list."),
    "attendance.set_registration_open": _l("%(who)s opened self-registration."),
    "attendance.set_registration_open:closed": _l("%(who)s closed self-registration."),
    "booklet.build": _l("%(who)s built a %(kind)s booklet of %(pages)s pages."),
    "booklet.build_failed": _l("The build of a %(kind)s booklet by %(who)s failed: %(message)s"),
    "booklet.edition": _l("%(who)s made the print edition %(edition)s (%(pages)s pages)."),
    "checkin.check_in": _l("%(who)s checked %(target)s in at %(at)s."),
    "checkin.walk_in": _l("%(who)s added %(target)s (%(unit)s) at the door."),
    "mail.remind": _l("The portal sent a reminder about %(paper)s."),
}
FALLBACK = _l("%(who)s: %(action)s %(target)s")

_PAPER = re.compile(r"^paper (\d+)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass(frozen=True)
class Filters:
    action: str = ""
    actor_id: int | None = None
    day: date | None = None

    def as_args(self) -> dict:
        args: dict = {}
        if self.action:
            args["action"] = self.action
        if self.actor_id:
            args["person"] = self.actor_id
        if self.day:
            args["day"] = self.day.isoformat()
        return args


def parse_filters(action: str | None, person: str | None, day: str | None) -> Filters:
    """Filters from a query string; what cannot be read is left out (never an error)."""
    chosen_day = None
    text = (day or "").strip()
    if text:
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                chosen_day = datetime.strptime(text, pattern).date()
                break
            except ValueError:
                continue
    actor_id = int(person) if (person or "").isdigit() else None
    return Filters(action=(action or "").strip()[:64], actor_id=actor_id, day=chosen_day)


def query(filters: Filters) -> Select:
    statement = select(AuditEvent).options(selectinload(AuditEvent.actor)).order_by(
        AuditEvent.at.desc(), AuditEvent.id.desc())
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.actor_id:
        statement = statement.where(AuditEvent.actor_id == filters.actor_id)
    if filters.day:
        start = clock.local_midnight(filters.day.year, filters.day.month, filters.day.day)
        statement = statement.where(AuditEvent.at >= start,
                                    AuditEvent.at < start + timedelta(days=1))
    return statement


def events(filters: Filters, page: int, per_page: int = 100) -> tuple[list[AuditEvent], bool]:
    rows = db.session.scalars(query(filters).offset((page - 1) * per_page)
                              .limit(per_page + 1)).all()
    return list(rows[:per_page]), len(rows) > per_page


def actions() -> list[tuple[str, str]]:
    """(code, label) of every action that can be chosen, in the reader's language."""
    return sorted(((code, str(text)) for code, text in ACTION_LABELS.items()),
                  key=lambda pair: pair[1])


def actors() -> list[User]:
    """Everyone who appears in the log, in Vietnamese name order."""
    ids = select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None)).distinct()
    return sort_people(db.session.scalars(select(User).where(User.id.in_(ids))).all())


def _details(event: AuditEvent) -> dict:
    try:
        value = json.loads(event.detail) if event.detail else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _shown(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and _ISO.match(value):
        try:
            return clock.format_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    return "" if value is None else str(value)


def paper_name(target: str) -> str:
    match = _PAPER.match(target or "")
    return _("paper %(n)s", n=match.group(1)) if match else (target or "")


def sentence(event: AuditEvent) -> str:
    """What happened, as one sentence in the reader's language."""
    detail = _details(event)
    params = {key: _shown(value) for key, value in detail.items()}
    params.update(
        who=event.actor.full_name if event.actor else _("The portal"),
        target=event.target or "",
        paper=paper_name(event.target),
        action=label(event.action),
    )
    key = event.action
    if key == "attendance.set_registration_open" and not detail.get("new"):
        key += ":closed"
    if key in ("attendance.register", "attendance.cancel") and event.actor is not None \
            and event.actor.email == event.target:
        key += ":self"
    if key == "booklet.build":
        params["kind"] = _("draft") if detail.get("draft") else _("final")
    if key == "booklet.build_failed":
        params["kind"] = _("draft") if event.target == "draft" else _("final")
    template = SENTENCES.get(key, FALLBACK)
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(FALLBACK) % params


def export_csv(filters: Filters) -> bytes:
    """UTF-8 with a BOM (Excel shows Vietnamese), one row per event, newest first."""
    header = [_("Time (Vietnam time)"), _("Who"), _("Action"), _("What happened"), _("Object"),
              _("Details")]
    return excel_csv([header, *(
        [clock.format_datetime(event.at, seconds=True),
         cell(event.actor.full_name if event.actor else _("The portal")),
         cell(str(label(event.action))), cell(sentence(event)), cell(event.target or ""),
         cell(event.detail or "")]
        for event in db.session.scalars(query(filters)))])

