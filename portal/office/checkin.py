"""Check-in at the door (made for a phone): scan a code or tap a name, add a walk-in, watch
the count. The page's script (static/js/checkin.js) talks JSON to ``checkin_check`` and polls
``checkin_state``; checks made offline are queued in the browser and sent later."""

from __future__ import annotations

from datetime import datetime

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .. import clock
from ..forms import PortalForm
from ..services import attendance_export, checkin, seminars, signin_sheet
from ..services.errors import PortalError
from ..web.files import send_generated
from .blueprint import bp

CAMERA_POLICY = "camera=(self), microphone=(), geolocation=(), payment=()"


class WalkInForm(PortalForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    position = StringField(_l("Position"), validators=[Length(max=200)])
    unit = StringField(_l("Unit"), validators=[Length(max=300)])
    submit = SubmitField(_l("Add and check in"))


def _render(seminar, form=None, error: str | None = None, status: int = 200):
    response = render_template(
        "office/checkin.html", seminar=seminar, state=checkin.state(seminar),
        form=form or WalkInForm(), error=error,
    ), status, {"Permissions-Policy": CAMERA_POLICY}
    return response


@bp.get("/checkin")
def checkin_page():
    return _render(seminars.current_seminar())


@bp.get("/checkin/state.json")
def checkin_state():
    data = checkin.state(seminars.current_seminar())
    data["csrf"] = generate_csrf()
    return jsonify(data)


def _client_time(value) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@bp.post("/checkin/check")
def checkin_check():
    seminar = seminars.current_seminar()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        payload = {}
    client_id = str(payload.get("client_id") or "")[:64]
    at = _client_time(payload.get("at"))
    token = payload.get("token")
    registration_id = payload.get("registration_id")
    try:
        if isinstance(token, str) and token.strip():
            result = checkin.check_in_token(seminar, token[:500], current_user, at)
        elif isinstance(registration_id, int) and not isinstance(registration_id, bool) \
                and 0 < registration_id < 2**31:
            result = checkin.check_in_registration(seminar, registration_id, current_user, at)
        else:
            return jsonify(ok=False, status="refused", client_id=client_id,
                           message=_("Scan a code or choose a name.")), 400
    except PortalError as error:
        return jsonify(ok=False, status="refused", client_id=client_id,
                       message=str(error), arrived=checkin.arrived_count(seminar),
                       expected=checkin.expected_count(seminar)), error.status
    when = clock.format_time(result.checked_in_at)
    if result.already:
        message = _("%(name)s: already checked in at %(time)s.", name=result.name, time=when)
    else:
        message = _("%(name)s: checked in at %(time)s.", name=result.name, time=when)
    return jsonify(ok=True, status="already" if result.already else "checked_in",
                   client_id=client_id, id=result.registration_id, name=result.name,
                   time=when, message=message, arrived=checkin.arrived_count(seminar),
                   expected=checkin.expected_count(seminar))


@bp.post("/checkin/walk-in")
def checkin_walk_in():
    seminar = seminars.current_seminar()
    form = WalkInForm()
    if not form.validate_on_submit():
        return _render(seminar, form, status=400)
    try:
        registration = checkin.add_walk_in(seminar, form.name.data, form.position.data,
                                           form.unit.data, current_user)
    except PortalError as error:
        return _render(seminar, form, str(error), error.status)
    flash(_("%(name)s was added and checked in.", name=registration.user.full_name),
          "success")
    return redirect(url_for(".checkin_page"))


# -- attendance afterwards -------------------------------------------------------------------


@bp.get("/attendees.xlsx")
def attendees_xlsx():
    data = attendance_export.export_xlsx(seminars.current_seminar())
    return send_generated(
        data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "danh-sach-dai-bieu.xlsx")


@bp.get("/attendees/arrivals.pdf")
def attendees_arrivals_pdf():
    """The sign-in sheet pre-filled with the check-in times."""
    data = signin_sheet.render_pdf(seminars.current_seminar(), with_times=True)
    return send_generated(data, "application/pdf", "danh-sach-dai-bieu-co-mat.pdf",
                          attachment=False)
