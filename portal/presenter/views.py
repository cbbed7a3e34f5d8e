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
        printed=print_version(assignment.current_submission),
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


# -- the paper as it will be printed ---------------------------------------------------------

PRINT_PREVIEW_PAGES = 3


def print_version(revision: Submission | None) -> dict | None:
    """What the booklet will print for ``revision``: the stored PDF (the converted one for a
    Word file), its pages, and the notes of the conversion with what to do about each."""
    from ..services import materials, previews
    from ..services.documents.notes import read_stored

    if revision is None:
        return None
    source = materials.pdf_source(revision)
    has_pdf = source is not None and get_storage().exists(source)
    pages = (revision.normalised_pages or revision.pages or 0) if has_pdf else 0
    notes = read_stored(revision.conversion_notes)
    return {
        "has_pdf": has_pdf,
        "pages": pages,
        "page_sizes": ", ".join(_size_labels(revision.page_sizes)),
        "thumbnails": list(range(1, min(pages, PRINT_PREVIEW_PAGES) + 1))
        if has_pdf and previews.available() else [],
        "notes": notes,
    }


def _size_labels(stored: str | None) -> list[str]:
    """The distinct page sizes of a paper ("A4", "Letter landscape", "176×250 mm")."""
    import json

    try:
        sizes = json.loads(stored or "[]")
    except ValueError:
        return []
    labels: list[str] = []
    for size in sizes if isinstance(sizes, list) else []:
        try:
            width, height = float(size[0]), float(size[1])
            rotation = int(size[2]) if len(size) > 2 else 0
        except (TypeError, ValueError, IndexError):
            continue
        if rotation in (90, 270):
            width, height = height, width
        short, long_ = sorted((width, height))
        if abs(short - 595.3) < 3 and abs(long_ - 841.9) < 3:
            label = "A4"
        elif abs(short - 612) < 3 and abs(long_ - 792) < 3:
            label = "Letter"
        else:
            label = f"{width * 25.4 / 72:.0f}×{height * 25.4 / 72:.0f} mm"
        if width > height:
            label = _("%(size)s landscape", size=label)
        if label not in labels:
            labels.append(label)
    return labels


def _current_pdf(position: int) -> tuple[Submission, str]:
    from ..services import materials

    assignment = _own_assignment(position)
    revision = assignment.current_submission
    source = materials.pdf_source(revision) if revision is not None else None
    if source is None or not get_storage().exists(source):
        abort(404)
    return revision, source


@bp.get("/papers/<int:position>/print.pdf")
def print_pdf(position: int):
    """The current revision as the booklet will print it (the converted PDF)."""
    from ..services import materials

    revision, source = _current_pdf(position)
    response = get_storage().send(source, materials.pdf_name(revision), "application/pdf",
                                  inline=source == revision.normalised_path)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/papers/<int:position>/print/page-<int:page>.png")
def print_preview(position: int, page: int):
    from flask import send_file

    from ..services import previews

    revision, source = _current_pdf(position)
    pages = revision.normalised_pages or revision.pages or 0
    if not 1 <= page <= min(pages, PRINT_PREVIEW_PAGES):
        abort(404)
    path = previews.page_png(get_storage(), source, page, width=240)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/png", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
