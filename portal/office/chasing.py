"""Chasing papers from the browser: reminders (shown before they are sent), each unit's
contacts, a ZIP of every current paper."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from .. import confirm
from ..services import materials as materials_service
from ..services import reminders, seminars
from ..storage import content_disposition, get_storage
from .blueprint import bp
from .forms import ActionForm

SKIP_LABELS = {
    reminders.SKIP_SUBMITTED: _l("the paper is in"),
    reminders.SKIP_DEADLINE_PASSED: _l("the deadline has passed"),
    reminders.SKIP_TOO_EARLY: _l("the deadline is further away"),
    reminders.SKIP_ALREADY: _l("reminded already today"),
    reminders.SKIP_NO_MEMBERS: _l("the unit has no active account"),
}


def remind_question(plan) -> str:
    papers = [item for item in plan if item.will_send]
    people = sum(len(item.recipients) for item in papers)
    if not papers:
        return _("No reminder is due now: every paper is in, reminded today, past its deadline "
                 "or without anyone to mail.")
    return ngettext("Send %(mails)d reminder mail(s) for %(num)d missing paper?",
                    "Send %(mails)d reminder mail(s) for %(num)d missing papers?",
                    len(papers), mails=people)


@bp.route("/remind", methods=["GET", "POST"])
def remind():
    """GET: who would get which reminder now, and why the others are skipped. POST with
    ``confirm``: send them (the same rules as ``flask remind``)."""
    seminar = seminars.current_seminar()
    if confirm.confirmed():
        if not ActionForm().validate_on_submit():
            abort(400)
        outcomes = reminders.remind(seminar)
        sent = [o for o in outcomes if o.status == "sent"]
        failed = [o for o in outcomes if o.status == "failed" or o.failed]
        mails = sum(len(o.recipients) for o in sent)
        if mails:
            flash(ngettext("%(num)d reminder mail was sent.", "%(num)d reminder mails were sent.",
                           mails), "success")
        else:
            flash(_("No reminder was sent."), "info")
        if failed:
            flash(_("Some reminders could not be sent; see the failed mail below and send it "
                    "again when the mail server works."), "error")
        return redirect(url_for(".mail_log"))
    plan = reminders.remind_plan(seminar)
    return render_template("office/remind.html", seminar=seminar, plan=plan,
                           skip_labels=SKIP_LABELS, question=remind_question(plan),
                           due=[item for item in plan if item.will_send])


@bp.get("/papers.zip")
def papers_zip():
    """Every current paper (as uploaded), numbered by position; streamed, never buffered."""
    seminar = seminars.current_seminar()
    storage = get_storage()
    plan = materials_service.zip_plan(seminar, storage, include_booklet=False)
    if plan.empty:
        flash(_("No paper has been submitted yet."), "info")
        return redirect(url_for(".index"))
    stream = materials_service.zip_stream(plan, storage)
    response = current_app.response_class(stream, mimetype="application/zip")
    response.headers["Content-Length"] = str(len(stream))
    response.headers["Content-Disposition"] = content_disposition("Tham luận - Văn phòng.zip")
    response.headers["Cache-Control"] = "no-store"
    return response
