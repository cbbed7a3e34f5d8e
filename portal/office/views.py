from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import clock, confirm
from ..extensions import db
from ..models import Booklet
from ..services import attendance, audit, previews, programme, seminars, submissions
from ..services import audit_log as audit_log_service
from ..services import booklet as booklet_service
from ..services import people as people_service
from ..services.errors import NeedsConfirmation, NotFound, PortalError
from ..storage import get_storage
from ..web.uploads import UploadForm, handle_upload, render_paper
from . import bp
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
    assignments = submissions.assignments_with_revisions(seminar)
    statuses = {a.id: submissions.status_of(a) for a in assignments}
    submitted = sum(1 for s in statuses.values() if s != submissions.STATUS_MISSING)
    return render_template("office/index.html", seminar=seminar, assignments=assignments,
                           statuses=statuses, submitted=submitted,
                           labels=submissions.STATUS_LABELS,
                           contacts=people_service.contacts_by_unit())


def _assignment(position: int):
    seminar = seminars.current_seminar()
    try:
        return submissions.get_assignment(seminar, position, with_revisions=True)
    except NotFound:
        abort(404)


@bp.route("/papers/<int:position>", methods=["GET", "POST"])
def paper(position: int):
    """One paper, for the Office: upload on the unit's behalf (any time), extend, receive."""
    assignment = _assignment(position)
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
            instant = submissions.grant_extension(assignment, extension_form.deadline.data,
                                                  extension_form.reason.data, current_user,
                                                  confirmed=_confirmed(extension_form))
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
        submissions.clear_extension(assignment, current_user)
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


# -- the booklet -----------------------------------------------------------------------------


@bp.get("/booklet")
def booklet():
    seminar = seminars.current_seminar()
    rows = booklet_service.preflight(seminar)
    missing = [row for row in rows if row.revision is None]
    builds = booklet_service.history(seminar)
    latest_build = builds[0] if builds else None
    return render_template(
        "office/booklet.html", seminar=seminar, rows=rows, missing=missing, builds=builds,
        latest_build=latest_build, progress=booklet_service.read_progress(),
        action_form=ActionForm(), previews=previews.available(),
        contents=booklet_service.contents_of(latest_build) if latest_build else [],
        final_question=final_question(seminar),
        front_pages=booklet_service.front_pages_of(latest_build) if latest_build else 0,
        latest_final=booklet_service.latest(seminar),
        editions_of=booklet_service.editions_of, edition_labels=booklet_service.EDITION_LABELS,
    )


def final_question(seminar) -> str:
    """What "Build the final booklet" will do, in numbers, before it is done."""
    from ..services import attendance

    people = len(attendance.confirmed(seminar))
    missing = booklet_service.missing_papers(seminar)
    if missing:
        return _("The final booklet needs all papers; %(n)d are missing.", n=len(missing))
    return ngettext("Build the final booklet? It replaces the published one, and %(num)d "
                    "confirmed attendee gets a mail with the link.",
                    "Build the final booklet? It replaces the published one, and %(num)d "
                    "confirmed attendees get a mail with the link.", people)


@bp.post("/booklet/build")
def build_booklet():
    seminar = seminars.current_seminar()
    if not ActionForm().validate_on_submit():
        abort(400)
    draft = request.form.get("kind") != "final"
    if not draft and not confirm.confirmed() and not booklet_service.missing_papers(seminar):
        return confirm.ask(_("Build the final booklet"), final_question(seminar),
                           url_for(".build_booklet"), _("Build the final booklet"),
                           url_for(".booklet"), hidden={"kind": "final"})
    if not draft:
        missing = booklet_service.missing_papers(seminar)
        if missing:
            flash(_("The final booklet needs all papers. Missing: %(list)s. Build a draft, or "
                    "wait for these papers.",
                    list="; ".join(f"{a.position}. {a.unit.name}" for a in missing)), "error")
            response = booklet()
            return response, 409
    if booklet_service.read_progress().get("state") == "running":
        flash(_("A booklet is being built already; wait for it to finish."), "info")
        return redirect(url_for(".booklet"))
    from flask import current_app

    thread = booklet_service.start_build(current_app._get_current_object(), seminar.id,
                                         current_user.id, draft)
    if current_app.config.get("BOOKLET_BUILD_WAIT"):
        thread.join()
    flash(_("The booklet is being built; this page shows its progress."), "info")
    return redirect(url_for(".booklet"))


@bp.get("/booklet/progress")
def booklet_progress():
    return booklet_service.read_progress()


def _booklet_or_404(booklet_id: int) -> Booklet:
    item = db.session.get(Booklet, booklet_id)
    if item is None:
        abort(404)
    return item


@bp.get("/booklet/<int:booklet_id>.pdf")
def booklet_file(booklet_id: int):
    item = _booklet_or_404(booklet_id)
    seminar = seminars.current_seminar()
    return get_storage().send(item.stored_path, booklet_service.file_name(seminar, item),
                              "application/pdf")


@bp.post("/booklet/<int:booklet_id>/edition")
def build_booklet_edition(booklet_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    item = _booklet_or_404(booklet_id)
    edition = request.form.get("edition", "")
    try:
        booklet_service.build_edition(item, edition, current_user)
    except PortalError as error:
        flash(str(error), "error")
        return redirect(url_for(".booklet"))
    flash(_("The print edition is ready: %(name)s.",
            name=booklet_service.EDITION_LABELS[edition]), "success")
    return redirect(url_for(".booklet") + "#editions")


@bp.get("/booklet/<int:booklet_id>/print-<edition>.pdf")
def booklet_edition_file(booklet_id: int, edition: str):
    item = _booklet_or_404(booklet_id)
    path = booklet_service.edition_path(item, edition)
    if path is None:
        abort(404)
    seminar = seminars.current_seminar()
    return get_storage().send(path,
                              booklet_service.edition_file_name(seminar, item, edition),
                              "application/pdf")


@bp.get("/booklet/<int:booklet_id>/page-<int:page>.png")
def booklet_preview(booklet_id: int, page: int):
    item = _booklet_or_404(booklet_id)
    if page < 1 or page > item.pages:
        abort(404)
    path = previews.page_png(get_storage(), item.stored_path, page, width=420)
    if path is None:
        abort(404)
    from flask import send_file

    response = send_file(path, mimetype="image/png", conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
