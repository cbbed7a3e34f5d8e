"""The audit log: who did what, when. Added to the caller's transaction."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import AuditEvent, User


def record(action: str, actor: User | None = None, target: str = "", **detail: Any) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor=actor,
        target=target,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
    )
    db.session.add(event)
    return event


# What each action is called on the Office's audit log page.
ACTION_LABELS = {
    "seminar.load_plan": _l("seminar loaded from the plan"),
    "seminar.set_deadline": _l("deadline changed"),
    "seminar.set_capacity": _l("capacity changed"),
    "seminar.set_session": _l("session changed"),
    "user.create": _l("account created"),
    "user.import": _l("accounts imported"),
    "user.change_password": _l("password changed"),
    "user.update": _l("account changed"),
    "user.activate": _l("account reactivated"),
    "user.deactivate": _l("account deactivated"),
    "user.reset_password": _l("password reset"),
    "user.reset_link": _l("password link sent"),
    "submission.upload": _l("paper uploaded"),
    "submission.receive": _l("paper marked as received"),
    "assignment.extend": _l("deadline extended"),
    "assignment.clear_extension": _l("extension removed"),
    "attendance.register": _l("registered"),
    "attendance.cancel": _l("registration cancelled"),
    "attendance.remove": _l("removed from the list"),
    "attendance.promote": _l("confirmed from the waiting list"),
    "attendance.move_to_waitlist": _l("moved to the waiting list"),
    "attendance.set_registration_open": _l("self-registration opened or closed"),
    "booklet.build": _l("booklet built"),
    "booklet.build_failed": _l("booklet build failed"),
    "booklet.edition": _l("print edition made"),
    "seminar.set_programme": _l("programme changed"),
    "checkin.check_in": _l("checked in at the door"),
    "checkin.walk_in": _l("added at the door"),
    "mail.remind": _l("reminders sent"),
}


def label(action: str) -> str:
    text = ACTION_LABELS.get(action)
    return str(text) if text is not None else action
