"""The booklet page: preflight, builds (one at a time across every worker), their progress,
the files, print editions and page previews."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from .. import confirm
from ..models import Booklet
from ..services import attendance, previews, seminars
from ..services.booklet import build as booklet_service
from ..services.booklet import editions, preflight
from ..services.booklet import progress as build_progress
from ..services.errors import NotFound, PortalError
from ..storage import get_storage
from .blueprint import bp
from .forms import ActionForm


@bp.get("/booklet")
def booklet():
    seminar = seminars.current_seminar()
    rows = preflight.preflight(seminar)
    missing = [row for row in rows if row.revision is None]
    builds = booklet_service.history(seminar)
    latest_build = builds[0] if builds else None
    return render_template(
        "office/booklet.html", seminar=seminar, rows=rows, missing=missing, builds=builds,
        latest_build=latest_build, progress=build_progress.read(),
        action_form=ActionForm(), previews=previews.available(),
        contents=booklet_service.contents_of(latest_build) if latest_build else [],
        final_question=final_question(seminar),
        front_pages=booklet_service.front_pages_of(latest_build) if latest_build else 0,
        latest_final=booklet_service.latest(seminar),
        editions_of=editions.editions_of, edition_labels=editions.EDITION_LABELS,
    )


def final_question(seminar) -> str:
    """What "Build the final booklet" will do, in numbers, before it is done."""
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
    if not draft:
        try:
            booklet_service.require_all_papers(seminar)
        except PortalError as error:
            flash(str(error), "error")
            return booklet(), 409
        if not confirm.confirmed():
            return confirm.ask(_("Build the final booklet"), final_question(seminar),
                               url_for(".build_booklet"), _("Build the final booklet"),
                               url_for(".booklet"), hidden={"kind": "final"})
    try:
        claim = build_progress.claim(draft)
    except build_progress.BuildRunning:
        flash(_("A booklet is being built already; wait for it to finish."), "info")
        return redirect(url_for(".booklet"))
    booklet_service.start_build(current_app._get_current_object(), seminar.id,
                                current_user.id, draft, claim)
    flash(_("The booklet is being built; this page shows its progress."), "info")
    return redirect(url_for(".booklet"))


@bp.get("/booklet/progress")
def booklet_progress():
    return build_progress.read()


def _booklet_or_404(booklet_id: int) -> Booklet:
    try:
        return booklet_service.get(booklet_id)
    except NotFound:
        abort(404)


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
        editions.build_edition(item, edition, current_user)
    except PortalError as error:
        flash(str(error), "error")
        return redirect(url_for(".booklet"))
    flash(_("The print edition is ready: %(name)s.",
            name=editions.EDITION_LABELS[edition]), "success")
    return redirect(url_for(".booklet") + "#editions")


@bp.get("/booklet/<int:booklet_id>/print-<edition>.pdf")
def booklet_edition_file(booklet_id: int, edition: str):
    item = _booklet_or_404(booklet_id)
    path = editions.edition_path(item, edition)
    if path is None:
        abort(404)
    seminar = seminars.current_seminar()
    return get_storage().send(path, editions.edition_file_name(seminar, item, edition),
                              "application/pdf")


@bp.get("/booklet/<int:booklet_id>/page-<int:page>.png")
def booklet_preview(booklet_id: int, page: int):
    item = _booklet_or_404(booklet_id)
    if page < 1 or page > item.pages:
        abort(404)
    path = previews.page_png(get_storage(), item.stored_path, page, width=420)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/png", conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
