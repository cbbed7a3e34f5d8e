"""Pages for the people on the attendee list (registration; the materials live in materials.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import confirm
from ..services import attendance, checkin_code, seminars
from ..services.errors import PortalError
from .blueprint import bp
from .forms import CancelForm, RegisterForm

# Endpoints that show the promotion notice themselves (or should not consume it).
_NOTICE_SKIPS = {"attendee.register", "static", "public.healthz"}
_NOT_PAGES = (".pdf", ".zip", ".csv", ".png", ".ics", "/download", "/pdf", "/progress",
              ".json", ".xlsx")


@bp.before_app_request
def promotion_notice():
    """A person confirmed from the waiting list is told once, on the next page they open."""
    if request.method != "GET" or request.endpoint in _NOTICE_SKIPS or request.endpoint is None:
        return
    rule = request.url_rule.rule if request.url_rule is not None else ""
    if rule.endswith(_NOT_PAGES):  # files and JSON: the notice waits for the next page
        return
    if not getattr(current_user, "is_authenticated", False):
        return
    registration = attendance.pending_promotion_notice(current_user)
    if registration is not None and attendance.acknowledge_promotion(registration):
        flash(_("Good news: a seat became free and you are now confirmed for the seminar."),
              "success")


def _render(seminar, status: int = 200, error: str | None = None):
    registration = current_user.registration_for(seminar)
    notice = False
    if registration is not None and request.method == "GET":
        notice = attendance.acknowledge_promotion(registration)
    return render_template(
        "attendee/register.html",
        seminar=seminar,
        registration=registration,
        place=attendance.waitlist_position(registration),
        counts=attendance.counts(seminar),
        notice=notice,
        error=error,
        register_form=RegisterForm(),
        cancel_form=CancelForm(),
        cancel_question=cancel_question(seminar, registration) if registration else "",
        labels=attendance.STATUS_LABELS,
        checkin_qr=_checkin_qr(registration),
    ), status


def _checkin_qr(registration) -> str | None:
    token = checkin_code.token_for(registration)
    return checkin_code.qr_svg(token) if token else None


@bp.get("/register")
def register():
    return _render(seminars.current_seminar())


@bp.post("/register")
def register_post():
    seminar = seminars.current_seminar()
    form = RegisterForm()
    if not form.validate_on_submit():
        return _render(seminar, 400, _("The form was not complete. Please try again."))
    try:
        registration = attendance.register(seminar, current_user)
    except PortalError as error:
        return _render(seminar, error.status, str(error))
    if registration.status == attendance.CONFIRMED:
        flash(_("You are registered for the seminar."), "success")
    else:
        flash(_("All seats are taken: you are on the waiting list, place %(n)d.",
                n=attendance.waitlist_position(registration) or 0), "info")
    return redirect(url_for(".register"))


def cancel_question(seminar, registration) -> str:
    """What "Cancel my registration" will do, in numbers, before it is done."""
    if registration is None:
        return _("You are not on the list.")
    if registration.status == attendance.WAITLISTED:
        return _("Leave the waiting list? You give up place %(n)d; if you register again you "
                 "join at the end.", n=attendance.waitlist_position(registration) or 0)
    promoted = attendance.withdrawal_preview(registration)
    waiting = attendance.waiting_count(seminar)
    if promoted:
        return ngettext(
            "Cancel your registration? Your seat goes at once to the first in line "
            "(%(num)d person is waiting), who is confirmed and gets a mail. You get a seat "
            "again only if one is free.",
            "Cancel your registration? Your seat goes at once to the first in line "
            "(%(num)d people are waiting), who is confirmed and gets a mail. You get a seat "
            "again only if one is free.", waiting)
    return _("Cancel your registration? Your seat becomes free (%(free)d of %(total)d seats "
             "will be free); you get it back only if it is still free when you register again.",
             free=seminar.seats_left + 1, total=seminar.capacity)


@bp.route("/register/cancel", methods=["GET", "POST"])
def cancel():
    seminar = seminars.current_seminar()
    registration = current_user.registration_for(seminar)
    if not confirm.confirmed():
        if registration is None:
            return redirect(url_for(".register"))
        waiting = registration.status == attendance.WAITLISTED
        return confirm.ask(_("Leave the waiting list") if waiting else
                           _("Cancel my registration"),
                           cancel_question(seminar, registration), url_for(".cancel"),
                           _("Leave the waiting list") if waiting else
                           _("Cancel my registration"), url_for(".register"))
    form = CancelForm()
    if not form.validate_on_submit():
        return _render(seminar, 400, _("The form was not complete. Please try again."))
    try:
        result = attendance.cancel(seminar, current_user)
    except PortalError as error:
        return _render(seminar, error.status, str(error))
    if result.was == attendance.CONFIRMED:
        flash(_("Your registration is cancelled; your seat goes to the next person."), "info")
    else:
        flash(_("You have left the waiting list."), "info")
    return redirect(url_for(".register"))
