from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock, confirm
from ..services import (
    attendance,
    audit,
    deadline_extensions,
    papers,
    programme,
    seminars,
    submissions,
)
from ..services import audit_log as audit_log_service
from ..services import people as people_service
from ..services.errors import NeedsConfirmation, NotFound, PortalError
from ..web.uploads import UploadForm, handle_upload, render_paper
from .blueprint import bp
from .forms import (
    ActionForm,
    CapacityForm,
    DeadlineForm,
    ExtensionForm,
    ProgrammeForm,
    SessionForm,
)


def _settings_forms(seminar):
    """The page's four forms. Only the one that was sent reads the request: the others show
    what is saved, so a refused form never blanks its neighbours."""
    sent = request.form if request.method == "POST" else {}

    def make(form_class, prefix):
        was_sent = f"{prefix}-submit" in sent or f"{prefix}-confirm" in sent or any(
            key.startswith(f"{prefix}-move") for key in sent)
        form = form_class(prefix=prefix) if was_sent else form_class(prefix=prefix,
                                                                         formdata=None)
        form.formdata_missing = not was_sent
        return form

    deadline_form = make(DeadlineForm, "deadline")
    capacity_form = make(CapacityForm, "capacity")
    session_form = make(SessionForm, "session")
    programme_form = make(ProgrammeForm, "programme")
    if deadline_form.formdata_missing:
        deadline_form.deadline.data = clock.format_datetime(seminar.deadline)
    if capacity_form.formdata_missing:
        capacity_form.capacity.data = seminar.capacity
    if session_form.formdata_missing:
        session_form.start.data = clock.format_datetime(seminar.session_start)
        session_form.end.data = clock.format_datetime(seminar.session_end)
        session_form.venue.data = seminar.venue
    if programme_form.formdata_missing:
        programme_form.process(data={
            "opening_title": seminar.opening_title,
            "opening_minutes": seminar.opening_minutes,
            "closing_title": seminar.closing_title,
            "closing_minutes": seminar.closing_minutes,
            "items": [{"assignment_id": a.id, "title": a.title, "presenter": a.presenter_name,
                       "minutes": a.duration_minutes} for a in seminar.assignments],
        })
        programme_form.formdata_missing = True
    return deadline_form, capacity_form, session_form, programme_form


def _pressed(form) -> bool:
    return form.formdata_missing is False


def _confirmed(form) -> bool:
    return bool(request.form.get(f"{form._prefix}confirm"))


def _move_request(form) -> tuple[int, int] | None:
    """The "move up/down" button that was pressed: (assignment id, -1 or +1)."""
    value = request.form.get(f"{form._prefix}move", "")
    ident, _sep, direction = value.partition(":")
    if not ident.isdigit() or direction not in ("up", "down"):
        return None
    return int(ident), -1 if direction == "up" else 1


def _attach(form, error: PortalError) -> None:
    """Show a service's refusal at its field (or at the form's first field)."""
    name = error.field or ""
    target = None
    if name.startswith("items-"):
        _items, index, sub = name.split("-", 2)
        entries = form.items.entries
        if index.isdigit() and int(index) < len(entries):
            target = entries[int(index)].form._fields.get(sub)
    elif name:
        target = form._fields.get(name)
    if target is None:
        target = next(f for f in form if f.type not in ("CSRFTokenField", "HiddenField"))
    target.errors = [*target.errors, str(error)] if isinstance(target.errors, list) \
        else [str(error)]


@bp.get("", strict_slashes=False)
def index():
    seminar = seminars.current_seminar()
    assignments = papers.assignments_with_revisions(seminar)
    statuses = {a.id: papers.status_of(a) for a in assignments}
    submitted = sum(1 for s in statuses.values() if s != papers.STATUS_MISSING)
    return render_template("office/index.html", seminar=seminar, assignments=assignments,
                           statuses=statuses, submitted=submitted,
                           labels=papers.STATUS_LABELS,
                           contacts=people_service.contacts_by_unit())


def _assignment(position: int, with_revisions: bool = True):
    seminar = seminars.current_seminar()
    try:
        return papers.get_assignment(seminar, position, with_revisions=with_revisions)
    except NotFound:
        abort(404)


@bp.route("/papers/<int:position>", methods=["GET", "POST"])
def paper(position: int):
    """One paper, for the Office: upload on the unit's behalf (any time), extend, receive."""
    # An upload reads the revisions it needs itself (see the presenter's page).
    assignment = _assignment(position, with_revisions=request.method != "POST")
    form = UploadForm()
    extension_form = ExtensionForm(prefix="ext")
    status = 200
    if request.method == "GET" and assignment.deadline_extension:
        extension_form.deadline.data = clock.format_datetime(assignment.deadline_extension)
        extension_form.reason.data = assignment.extension_reason
    if request.method == "POST":
        response, status = handle_upload(assignment, form,
                                         url_for(".paper", position=position))
        if response is not None:
            return response
    return _render_paper(assignment, form, extension_form, status)


def _render_paper(assignment, form, extension_form, status=200, warnings=None):
    return render_paper(
        assignment, form, status, template="office/paper.html",
        upload_anytime=True, form_action=url_for(".paper", position=assignment.position),
        extension_form=extension_form, action_form=ActionForm(), warnings=warnings or [],
        clear_question=clear_extension_question(assignment),
    )


@bp.post("/papers/<int:position>/extend")
def extend(position: int):
    assignment = _assignment(position)
    extension_form = ExtensionForm(prefix="ext")
    if extension_form.validate_on_submit():
        try:
            instant = deadline_extensions.grant_extension(
                assignment, extension_form.deadline.data, extension_form.reason.data,
                current_user, confirmed=_confirmed(extension_form))
        except NeedsConfirmation as question:
            return _render_paper(assignment, UploadForm(), extension_form, question.status,
                                 warnings=[str(w) for w in question.warnings])
        except PortalError as error:
            _attach(extension_form, error)
            return _render_paper(assignment, UploadForm(), extension_form, error.status)
        flash(_("Paper %(n)d may now be uploaded until %(when)s (Vietnam time).",
                n=position, when=clock.format_datetime(instant)), "success")
        return redirect(url_for(".paper", position=position))
    return _render_paper(assignment, UploadForm(), extension_form, 400)


def clear_extension_question(assignment) -> str:
    seminar = assignment.seminar
    now = clock.now()
    closes = now >= seminar.deadline
    text = _("Remove the extension of paper %(n)d (%(unit)s)? Its deadline goes back from "
             "%(ext)s to the seminar's deadline, %(deadline)s (Vietnam time).",
             n=assignment.position, unit=assignment.unit.name,
             ext=clock.format_datetime(assignment.effective_deadline),
             deadline=clock.format_datetime(seminar.deadline))
    if closes:
        text += " " + _("That deadline has passed: the unit can no longer upload.")
    return text


@bp.route("/papers/<int:position>/extend/clear", methods=["GET", "POST"])
def clear_extension(position: int):
    assignment = _assignment(position)
    if not confirm.confirmed():
        if assignment.deadline_extension is None:
            return redirect(url_for(".paper", position=position))
        return confirm.ask(_("Remove the extension"), clear_extension_question(assignment),
                           url_for(".clear_extension", position=position),
                           _("Remove the extension"), url_for(".paper", position=position))
    if ActionForm().validate_on_submit():
        deadline_extensions.clear_extension(assignment, current_user)
        flash(_("The extension was removed; the seminar's deadline applies again."), "success")
    return redirect(url_for(".paper", position=position))


@bp.post("/papers/<int:position>/revisions/<int:number>/receive")
def receive(position: int, number: int):
    assignment = _assignment(position)
    try:
        revision = submissions.get_revision(assignment, number)
    except NotFound:
        abort(404)
    if ActionForm().validate_on_submit():
        submissions.mark_received(revision, current_user)
        flash(_("Revision %(n)d of paper %(p)d is marked as received.", n=number, p=position),
              "success")
    return redirect(url_for(".paper", position=position))


@bp.get("/audit")
def audit_log():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    filters = audit_log_service.parse_filters(request.args.get("action"),
                                              request.args.get("person"),
                                              request.args.get("day"))
    events, has_more = audit_log_service.events(filters, page)
    return render_template("office/audit.html", events=events, page=page, has_more=has_more,
                           filters=filters, action_label=audit.label,
                           sentence=audit_log_service.sentence,
                           actions=audit_log_service.actions(),
                           actors=audit_log_service.actors())


@bp.get("/audit.csv")
def audit_csv():
    filters = audit_log_service.parse_filters(request.args.get("action"),
                                              request.args.get("person"),
                                              request.args.get("day"))
    body = audit_log_service.export_csv(filters)
    stamp = clock.local(clock.now()).strftime("%Y%m%d-%H%M")
    response = current_app.response_class(body, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/seminar", methods=["GET", "POST"])
def settings():
    seminar = seminars.current_seminar()
    forms = _settings_forms(seminar)
    deadline_form, capacity_form, session_form, programme_form = forms
    status = 200
    warnings: dict[str, list] = {}
    if request.method == "POST":
        sent = next((f for f in forms if _pressed(f)), None)
        if sent is None or not sent.validate():
            status = 400
        else:
            try:
                message = _save_settings(seminar, sent, forms)
                flash(message, "success")
                anchor = sent._prefix.rstrip("-")
                return redirect(url_for(".settings") + f"#{anchor}")
            except NeedsConfirmation as question:
                warnings[sent._prefix.rstrip("-")] = [str(w) for w in question.warnings]
                status = question.status
            except PortalError as error:
                _attach(sent, error)
                status = error.status
    items = programme.programme(seminar)
    return render_template("office/settings.html", seminar=seminar,
                           deadline_form=deadline_form, capacity_form=capacity_form,
                           session_form=session_form, programme_form=programme_form,
                           warnings=warnings, items=items,
                           overrun=programme.overrun_warnings(seminar)), status


def _save_settings(seminar, sent, forms) -> str:
    deadline_form, capacity_form, session_form, programme_form = forms
    confirmed = _confirmed(sent)
    if sent is deadline_form:
        seminars.set_deadline(seminar, deadline_form.deadline.data, current_user,
                              confirmed=confirmed)
        return _("The deadline is now %(when)s (Vietnam time).",
                 when=clock.format_datetime(seminar.deadline, seconds=True))
    if sent is capacity_form:
        attendance.set_capacity(seminar, capacity_form.capacity.data, current_user)
        return _("The capacity is now %(n)d seats.", n=seminar.capacity)
    if sent is session_form:
        seminars.set_session(seminar, session_form.start.data, session_form.end.data,
                             session_form.venue.data, current_user, confirmed=confirmed)
        return _("The session has been saved.")
    edit = programme.ProgrammeEdit(
        opening_title=programme_form.opening_title.data or "",
        opening_minutes=programme_form.opening_minutes.data,
        closing_title=programme_form.closing_title.data or "",
        closing_minutes=programme_form.closing_minutes.data,
        items=[programme.ItemEdit(
            assignment_id=int(entry.form.assignment_id.data or 0),
            title=entry.form.title.data or "", presenter=entry.form.presenter.data or "",
            minutes=entry.form.minutes.data) for entry in programme_form.items],
    )
    programme.save(seminar, edit, current_user, move=_move_request(programme_form),
                   confirmed=confirmed)
    return _("The programme has been saved; it ends at %(end)s.",
             end=clock.format_time(programme.programme_end(seminar)))
