from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import AuditEvent, Booklet
from ..presenter.forms import UploadForm
from ..presenter.views import handle_upload
from ..services import audit, previews, seminars, submissions
from ..services import booklet as booklet_service
from ..services.errors import NotFound, PortalError
from ..storage import get_storage
from . import bp
from .forms import ActionForm, CapacityForm, DeadlineForm, ExtensionForm, SessionForm


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
    assignments = submissions.assignments_with_revisions(seminar)
    statuses = {a.id: submissions.status_of(a) for a in assignments}
    submitted = sum(1 for s in statuses.values() if s != submissions.STATUS_MISSING)
    return render_template("office/index.html", seminar=seminar, assignments=assignments,
                           statuses=statuses, submitted=submitted,
                           labels=submissions.STATUS_LABELS)


def _assignment(position: int):
    seminar = seminars.current_seminar()
    try:
        return submissions.get_assignment(seminar, position)
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


def _render_paper(assignment, form, extension_form, status=200):
    from ..presenter.views import render_paper

    return render_paper(
        assignment, form, status, template="office/paper.html",
        upload_anytime=True, form_action=url_for(".paper", position=assignment.position),
        extension_form=extension_form, action_form=ActionForm(),
    )


@bp.post("/papers/<int:position>/extend")
def extend(position: int):
    assignment = _assignment(position)
    extension_form = ExtensionForm(prefix="ext")
    if extension_form.validate_on_submit():
        try:
            instant = submissions.grant_extension(assignment, extension_form.deadline.data,
                                                  extension_form.reason.data, current_user)
        except PortalError as error:
            extension_form.deadline.errors.append(str(error))
            return _render_paper(assignment, UploadForm(), extension_form, error.status)
        flash(_("Paper %(n)d may now be uploaded until %(when)s (Vietnam time).",
                n=position, when=clock.format_datetime(instant)), "success")
        return redirect(url_for(".paper", position=position))
    return _render_paper(assignment, UploadForm(), extension_form, 400)


@bp.post("/papers/<int:position>/extend/clear")
def clear_extension(position: int):
    assignment = _assignment(position)
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
    per_page = 100
    events = db.session.scalars(
        select(AuditEvent).options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page).limit(per_page + 1)
    ).all()
    return render_template("office/audit.html", events=events[:per_page], page=page,
                           has_more=len(events) > per_page, action_label=audit.label)


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
        front_pages=booklet_service.front_pages_of(latest_build) if latest_build else 0,
        latest_final=booklet_service.latest(seminar),
        editions_of=booklet_service.editions_of, edition_labels=booklet_service.EDITION_LABELS,
    )


@bp.post("/booklet/build")
def build_booklet():
    seminar = seminars.current_seminar()
    if not ActionForm().validate_on_submit():
        abort(400)
    draft = request.form.get("kind") != "final"
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

    response = send_file(path, mimetype="image/png", conditional=True, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
