from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import Assignment, Submission
from ..services import submissions
from ..services.errors import NotFound, PortalError
from ..services.seminars import current_seminar, find_seminar
from ..storage import get_storage
from ..timefmt import remaining_text
from . import bp
from .forms import UploadForm


@bp.get("/papers")
def papers():
    seminar = find_seminar()
    assignments: list[Assignment] = []
    if seminar is not None and current_user.unit_id is not None:
        assignments = list(
            db.session.scalars(
                select(Assignment)
                .where(Assignment.seminar_id == seminar.id,
                       Assignment.unit_id == current_user.unit_id)
                .options(selectinload(Assignment.submissions))
                .order_by(Assignment.position)
            )
        )
    return render_template("presenter/papers.html", seminar=seminar, assignments=assignments,
                           status_of=submissions.status_of,
                           labels=submissions.STATUS_LABELS)


def _own_assignment(position: int) -> Assignment:
    try:
        seminar = current_seminar()
        assignment = submissions.get_assignment(seminar, position, with_revisions=True)
    except NotFound:
        abort(404)
    if not submissions.can_submit(current_user, assignment):
        abort(403)
    return assignment


def handle_upload(assignment: Assignment, form: UploadForm, done_url: str):
    """Take a POSTed upload form: a redirect to ``done_url`` when stored, otherwise the form
    carries the reason and the status to answer with is returned."""
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            form.file.errors.append(_("The form has expired. Please reload the page and "
                                      "send it again."))
        return None, 400
    upload = form.file.data
    try:
        result = submissions.upload(assignment, current_user, upload.stream,
                                    upload.filename or "")
    except PortalError as error:
        form.file.errors.append(str(error))
        return None, error.status
    if result.duplicate:
        flash(_("This file is identical to revision %(n)d; nothing new was stored.",
                n=result.submission.number), "info")
    else:
        flash(_("Received: %(name)s (revision %(n)d).",
                name=result.submission.original_filename, n=result.submission.number),
              "success")
    return redirect(done_url), 302


@bp.route("/papers/<int:position>", methods=["GET", "POST"])
def paper(position: int):
    assignment = _own_assignment(position)
    form = UploadForm()
    if request.method == "POST":
        response, status = handle_upload(assignment, form,
                                         url_for(".paper", position=position))
        if response is not None:
            return response
        return render_paper(assignment, form, status)
    return render_paper(assignment, form)


def render_paper(assignment: Assignment, form: UploadForm, status: int = 200,
                 template: str = "presenter/paper.html", **extra):
    deadline = assignment.effective_deadline
    is_open = assignment.is_open()
    return render_template(
        template,
        assignment=assignment,
        form=form,
        deadline=deadline,
        is_open=is_open,
        remaining=remaining_text(clock.remaining(deadline)),
        current=assignment.current_submission,
        revisions=list(reversed(assignment.submissions)),
        status=submissions.status_of(assignment),
        labels=submissions.STATUS_LABELS,
        max_mb=current_app_max_mb(),
        **extra,
    ), status


def current_app_max_mb() -> int:
    from flask import current_app

    return int(current_app.config["MAX_UPLOAD_MB"])


@bp.get("/papers/<int:position>/revisions/<int:number>/download")
def download_revision(position: int, number: int):
    assignment = _own_assignment(position)
    try:
        revision: Submission = submissions.get_revision(assignment, number)
    except NotFound:
        abort(404)
    return get_storage().send(revision.stored_path, revision.original_filename,
                              submissions.MIME_TYPES[revision.file_type])
