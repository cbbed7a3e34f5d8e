"""The Office's view of the mail: the outbox and what became of each mail (failures first in
sight, each body readable), "Gửi lại" for a mail that failed, and the reminders sent."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..services import mail, outbox, reminders
from ..services.errors import NotFound, PortalError
from .blueprint import bp
from .forms import ActionForm


@bp.get("/mail")
def mail_log():
    rows = outbox.recent(limit=200)
    reminders_sent = reminders.recent(limit=50)
    return render_template(
        "office/mail.html",
        rows=rows,
        failed=[row for row in rows if row.status == mail.FAILED],
        reminders=reminders_sent,
        transport=mail.transport_summary(),
    )


@bp.post("/mail/<int:mail_id>/resend")
def mail_resend(mail_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        row = outbox.get(mail_id)
    except NotFound:
        abort(404)
    try:
        row = outbox.resend(row)
    except PortalError as error:
        flash(str(error), "error")
        return redirect(url_for(".mail_log"))
    if row.status == mail.SENT:
        flash(_("The mail to %(to)s was sent again.", to=row.recipient), "success")
    else:
        flash(_("The mail to %(to)s could not be sent again: %(error)s",
                to=row.recipient, error=row.error), "error")
    return redirect(url_for(".mail_log"))
