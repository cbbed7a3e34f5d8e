from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..services import seminars
from ..services.errors import PortalError
from . import bp
from .forms import CapacityForm, DeadlineForm, SessionForm


def _settings_forms(seminar):
    deadline_form = DeadlineForm(prefix="deadline")
    capacity_form = CapacityForm(prefix="capacity")
    session_form = SessionForm(prefix="session")
    if request.method == "GET":
        deadline_form.deadline.data = clock.format_datetime(seminar.deadline)
        capacity_form.capacity.data = seminar.capacity
        session_form.start.data = clock.format_datetime(seminar.session_start)
        session_form.end.data = clock.format_datetime(seminar.session_end)
        session_form.venue.data = seminar.venue
    return deadline_form, capacity_form, session_form


@bp.get("", strict_slashes=False)
def index():
    seminar = seminars.current_seminar()
    return render_template("office/index.html", seminar=seminar)


@bp.route("/seminar", methods=["GET", "POST"])
def settings():
    seminar = seminars.current_seminar()
    deadline_form, capacity_form, session_form = _settings_forms(seminar)
    status = 200
    if request.method == "POST":
        try:
            if deadline_form.submit.data and deadline_form.validate():
                seminars.set_deadline(seminar, deadline_form.deadline.data, current_user)
                flash(_("The deadline is now %(when)s (Vietnam time).",
                        when=clock.format_datetime(seminar.deadline, seconds=True)), "success")
                return redirect(url_for(".settings"))
            if capacity_form.submit.data and capacity_form.validate():
                seminars.set_capacity(seminar, capacity_form.capacity.data, current_user)
                flash(_("The capacity is now %(n)d seats.", n=seminar.capacity), "success")
                return redirect(url_for(".settings"))
            if session_form.submit.data and session_form.validate():
                seminars.set_session(seminar, session_form.start.data, session_form.end.data,
                                     session_form.venue.data, current_user)
                flash(_("The session has been saved."), "success")
                return redirect(url_for(".settings"))
            status = 400
        except PortalError as error:
            flash(str(error), "error")
            status = error.status
    return render_template("office/settings.html", seminar=seminar,
                           deadline_form=deadline_form, capacity_form=capacity_form,
                           session_form=session_form), status
