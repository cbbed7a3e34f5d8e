"""The Office's attendee list: who is confirmed, who waits, and the exports (CSV, the PDF
sign-in sheet). Every change goes through ``services.attendance``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, SelectField, SubmitField
from wtforms.validators import AnyOf, DataRequired

from .. import confirm
from ..forms import PortalForm
from ..services import attendance, attendance_export, seminars, signin_sheet
from ..services.errors import NotFound, PortalError
from ..services.vietnamese_order import sort_people
from ..web.files import send_generated
from .blueprint import bp


class AddAttendeeForm(PortalForm):
    user_id = SelectField(_l("Person"), coerce=int, validators=[DataRequired()],
                          validate_choice=True)
    submit = SubmitField(_l("Add to the list"))


class RowActionForm(PortalForm):
    """A bare POST form (CSRF only) for the buttons of one row."""


class SelfRegistrationForm(PortalForm):
    open = HiddenField(validators=[AnyOf(["0", "1"])])


def _add_form(seminar, formdata=None) -> AddAttendeeForm:
    form = AddAttendeeForm() if formdata is None else AddAttendeeForm(formdata=formdata)
    form.user_id.choices = [
        (user.id, _person_label(user)) for user in attendance.addable_users(seminar)
    ]
    return form


def _person_label(user) -> str:
    details = [part for part in (user.position, user.unit.name if user.unit else "") if part]
    label = user.full_name + (f" — {', '.join(details)}" if details else "")
    return f"{label} ({user.email})"


def _render(seminar, status: int = 200, error: str | None = None, add_form=None):
    rows = attendance.entries(seminar)
    return render_template(
        "office/attendees.html",
        seminar=seminar,
        confirmed=sort_people((r for r in rows if r["status"] == attendance.CONFIRMED.value),
                              name=lambda row: row["name"]),
        waiting=[r for r in rows if r["status"] == attendance.WAITLISTED.value],
        counts=attendance.counts(seminar),
        add_form=add_form or _add_form(seminar),
        row_form=RowActionForm(),
        open_form=SelfRegistrationForm(),
        labels=attendance.STATUS_LABELS,
        error=error,
        remove_question=remove_question,
    ), status


@bp.get("/attendees")
def attendees():
    return _render(seminars.current_seminar())


@bp.post("/attendees/add")
def attendees_add():
    seminar = seminars.current_seminar()
    form = _add_form(seminar)
    if not form.validate_on_submit():
        return _render(seminar, 400, add_form=form)
    try:
        registration = attendance.add_by_office(seminar, form.user_id.data, actor=current_user)
    except NotFound:
        abort(404)
    except PortalError as error:
        return _render(seminar, error.status, str(error))
    user = registration.user
    if registration.status == attendance.CONFIRMED:
        flash(_("%(name)s is confirmed.", name=user.full_name), "success")
    else:
        flash(_("All seats are taken: %(name)s is on the waiting list, place %(n)d.",
                name=user.full_name, n=attendance.waitlist_position(registration) or 0),
              "info")
    return redirect(url_for(".attendees"))


def _row_action(registration_id: int, action):
    seminar = seminars.current_seminar()
    if not RowActionForm().validate_on_submit():
        return _render(seminar, 400, _("The form was not complete. Please try again."))
    try:
        registration = attendance.get_registration(seminar, registration_id)
    except NotFound:
        abort(404)
    try:
        message = action(registration)
    except NotFound:
        abort(404)
    except PortalError as error:
        return _render(seminar, error.status, str(error))
    flash(message, "success")
    return redirect(url_for(".attendees"))


def _promoted_message(promoted) -> str:
    names = ", ".join(r.user.full_name for r in promoted)
    return _("Confirmed from the waiting list: %(names)s.", names=names)


def remove_question(registration) -> str:
    """What "Remove" will do, in names and numbers, before it is done."""
    name = registration.user.full_name
    if registration.status == attendance.WAITLISTED:
        return _("Remove %(name)s from the waiting list (place %(n)d)? The people after them "
                 "move up one place.", name=name,
                 n=attendance.waitlist_position(registration) or 0)
    promoted = attendance.withdrawal_preview(registration)
    if len(promoted) == 1:
        return _("Remove %(name)s: the first on the waiting list, %(next)s, will be confirmed "
                 "and get a mail.", name=name, next=promoted[0].user.full_name)
    if promoted:
        return _("Remove %(name)s: %(n)d people from the waiting list (%(names)s) will be "
                 "confirmed and get a mail.", name=name, n=len(promoted),
                 names=", ".join(r.user.full_name for r in promoted))
    seminar = registration.seminar
    return _("Remove %(name)s: their seat becomes free (%(free)d of %(total)d seats free); "
             "nobody is waiting for it.", name=name, free=seminar.seats_left + 1,
             total=seminar.capacity)


@bp.route("/attendees/<int:registration_id>/remove", methods=["GET", "POST"])
def attendees_remove(registration_id: int):
    if not confirm.confirmed():
        seminar = seminars.current_seminar()
        try:
            registration = attendance.get_registration(seminar, registration_id)
        except NotFound:
            abort(404)
        return confirm.ask(_("Remove from the list"), remove_question(registration),
                           url_for(".attendees_remove", registration_id=registration_id),
                           _("Remove"), url_for(".attendees"))

    def action(registration):
        result = attendance.remove(registration, current_user)
        message = _("%(name)s was removed from the list.", name=result.name)
        if result.promoted:
            message += " " + _promoted_message(result.promoted)
        return message

    return _row_action(registration_id, action)


@bp.post("/attendees/<int:registration_id>/promote")
def attendees_promote(registration_id: int):
    def action(registration):
        registration = attendance.promote(registration, current_user)
        return _("%(name)s is confirmed.", name=registration.user.full_name)

    return _row_action(registration_id, action)


@bp.post("/attendees/<int:registration_id>/waitlist")
def attendees_to_waitlist(registration_id: int):
    def action(registration):
        registration = attendance.move_to_waitlist(registration, current_user)
        return _("%(name)s was moved to the waiting list, place %(n)d.",
                 name=registration.user.full_name,
                 n=attendance.waitlist_position(registration) or 0)

    return _row_action(registration_id, action)


@bp.post("/attendees/self-registration")
def attendees_self_registration():
    seminar = seminars.current_seminar()
    form = SelfRegistrationForm()
    if not form.validate_on_submit():
        return _render(seminar, 400, _("The form was not complete. Please try again."))
    is_open = attendance.set_registration_open(seminar, form.open.data == "1", current_user)
    flash(_("Self-registration is open.") if is_open else
          _("Self-registration is closed; only the Office can add people."), "success")
    return redirect(url_for(".attendees"))


@bp.get("/attendees.csv")
def attendees_csv():
    data = attendance_export.export_csv(seminars.current_seminar())
    return send_generated(data, "text/csv", "danh-sach-dai-bieu.csv")


@bp.get("/attendees.pdf")
def attendees_pdf():
    data = signin_sheet.render_pdf(seminars.current_seminar())
    return send_generated(data, "application/pdf", "danh-sach-dai-bieu-tham-du.pdf",
                          attachment=False)
