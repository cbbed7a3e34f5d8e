"""The minutes (biên bản), drafted: a form for the chair, the secretary, the number and the
place, then the .docx (to finish in Word) or the same draft as PDF. Nothing is stored."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from ..forms import PortalForm
from ..services import seminars
from ..services.errors import PortalError
from ..web.files import send_generated
from .blueprint import bp

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class MinutesForm(PortalForm):
    chair = StringField(_l("Chair"), validators=[Length(max=200)])
    secretary = StringField(_l("Secretary"), validators=[Length(max=200)])
    number = StringField(_l("Number (e.g. 12)"), validators=[Length(max=40)])
    place = StringField(_l("Place of the meeting"), validators=[Length(max=200)])
    docx = SubmitField(_l("Download the draft (.docx)"))
    pdf = SubmitField(_l("Download as PDF"))


def _render(seminar, form, error: str | None = None, status: int = 200):
    from ..services import minutes as minutes_service  # python-docx: only when asked for

    arrived, expected = minutes_service.attendance_figures(seminar)
    return render_template("office/minutes.html", seminar=seminar, form=form, error=error,
                           arrived=arrived, expected=expected), status


@bp.get("/minutes")
def minutes():
    seminar = seminars.current_seminar()
    form = MinutesForm()
    if not form.place.data:
        form.place.data = seminar.venue
    return _render(seminar, form)


@bp.post("/minutes")
def minutes_post():
    from ..services import minutes as minutes_service

    seminar = seminars.current_seminar()
    form = MinutesForm()
    if not form.validate_on_submit():
        return _render(seminar, form, status=400)
    details = minutes_service.MinutesDetails(
        chair=form.chair.data or "", secretary=form.secretary.data or "",
        number=form.number.data or "", place=form.place.data or "")
    try:
        if form.pdf.data:
            data = minutes_service.draft_pdf(seminar, details)
            mimetype, suffix, attachment = "application/pdf", "pdf", False
        else:
            data = minutes_service.draft_docx(seminar, details)
            mimetype, suffix, attachment = DOCX_TYPE, "docx", True
    except PortalError as error:
        return _render(seminar, form, str(error), error.status)
    return send_generated(data, mimetype, minutes_service.filename(seminar, suffix),
                          attachment=attachment)
