from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user

from .. import policy
from ..models import Assignment, Submission
from ..services import papers as paper_service
from ..services import submissions
from ..services.errors import NotFound
from ..services.seminars import current_seminar, unit_papers
from ..storage import get_storage
from ..web.files import send_page_picture
from ..web.uploads import PRINT_PREVIEW_PAGES, UploadForm, handle_upload, render_paper
from .blueprint import bp


@bp.get("/papers")
def papers():
    seminar, assignments = unit_papers(current_user)
    return render_template("presenter/papers.html", seminar=seminar, assignments=assignments,
                           status_of=paper_service.status_of,
                           labels=paper_service.STATUS_LABELS)


def _own_assignment(position: int, with_revisions: bool = True) -> Assignment:
    try:
        seminar = current_seminar()
        assignment = paper_service.get_assignment(seminar, position,
                                                  with_revisions=with_revisions)
    except NotFound:
        abort(404)
    if not policy.may_submit(current_user, assignment):
        abort(403)
    return assignment


@bp.route("/papers/<int:position>", methods=["GET", "POST"])
def paper(position: int):
    # An upload reads the revisions it needs itself (its page, shown again when it fails,
    # loads them after the rollback).
    assignment = _own_assignment(position, with_revisions=request.method != "POST")
    form = UploadForm()
    if request.method == "POST":
        response, status = handle_upload(assignment, form,
                                         url_for(".paper", position=position))
        if response is not None:
            return response
        return render_paper(assignment, form, status)
    return render_paper(assignment, form)


@bp.get("/papers/<int:position>/revisions/<int:number>/download")
def download_revision(position: int, number: int):
    assignment = _own_assignment(position)
    try:
        revision: Submission = submissions.get_revision(assignment, number)
    except NotFound:
        abort(404)
    return get_storage().send(revision.stored_path, revision.original_filename,
                              paper_service.MIME_TYPES[revision.file_type])


# -- the paper as it will be printed ---------------------------------------------------------


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
    from ..services import previews

    revision, source = _current_pdf(position)
    pages = revision.normalised_pages or revision.pages or 0
    if not 1 <= page <= min(pages, PRINT_PREVIEW_PAGES):
        abort(404)
    path = previews.page_png(get_storage(), source, page, width=240)
    if path is None:
        abort(404)
    return send_page_picture(path)
