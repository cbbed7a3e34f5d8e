"""The Office's view of the mail the portal sent: recent mail, failures first in
sight, and the reminders already sent."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ReminderSent
from ..services import mail
from . import bp


@bp.get("/mail")
def mail_log():
    rows = mail.recent(limit=200)
    reminders = list(db.session.scalars(
        select(ReminderSent).options(selectinload(ReminderSent.assignment))
        .order_by(ReminderSent.sent_at.desc(), ReminderSent.id.desc()).limit(50)))
    return render_template(
        "office/mail.html",
        rows=rows,
        failed=[row for row in rows if row.status == mail.FAILED],
        reminders=reminders,
        transport=mail.transport_summary(),
    )
