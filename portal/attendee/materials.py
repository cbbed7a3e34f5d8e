"""/materials: the papers, the booklet, the ZIP and the calendar file.

Every logged-in person sees the page with the agenda (the blueprint's guard sends anonymous
visitors to /login); the files themselves go only to those ``policy.can_get_materials``
allows — the one rule, applied by ``_files`` to every file route.
"""

from __future__ import annotations

import logging
from functools import wraps

from flask import abort, current_app, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from .. import content_version, links
from ..policy import can_get_materials
from ..services import attendance, previews
from ..services import materials as service
from ..services.errors import NotFound
from ..services.seminars import current_seminar
from ..storage import StorageError, content_disposition, get_storage
from ..web.fragments import render_part
from .blueprint import bp

log = logging.getLogger(__name__)


def _bare_seminar():
    """The seminar alone (a file route needs neither its agenda nor its units)."""
    try:
        return current_seminar()
    except NotFound:
        abort(404)


def _files(view):
    """A file route: 403 for anyone the access rule refuses, before anything else is looked
    up (so nobody outside the list learns which papers exist)."""

    @wraps(view)
    def guarded(*args, **kwargs):
        seminar = _bare_seminar()
        if not can_get_materials(current_user, seminar):
            abort(403)
        return view(seminar, *args, **kwargs)

    return guarded


def _not_yet(heading: str, message: str):
    return render_template("attendee/materials_missing.html", heading=heading,
                           message=message), 404


def _private(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _print_editions(seminar) -> list[tuple[str, str]]:
    """For the Office: the print editions of the published booklet, (edition, label)."""
    if not getattr(current_user, "is_office", False):
        return []
    booklet = service.published_booklet(seminar)
    if booklet is None:
        return []
    from ..services.booklet import editions as booklet_service

    made = booklet_service.editions_of(booklet)
    return [(edition, str(label)) for edition, label in booklet_service.EDITION_LABELS.items()
            if edition in made]


@bp.get("/materials")
def materials():
    token = content_version.current()  # first: what is rendered below is at least as new
    seminar = _bare_seminar()
    registration = current_user.registration_for(seminar)
    allowed = can_get_materials(current_user, seminar, registration)
    place = attendance.waitlist_position(registration)
    print_editions = _print_editions(seminar) if allowed else []
    thumbnails = previews.available()

    def content() -> dict:
        return dict(service.page(allowed), allowed=allowed, place=place,
                    print_editions=print_editions, thumbnails=thumbnails)

    # The content is the same for everyone with the same access: it is rendered once per
    # version of what the pages show (the page around it, with the menu and the form tokens,
    # is rendered for each request).
    if token is None:
        part = Markup(render_template("attendee/_materials.html", **content()))
    else:
        part = render_part("attendee/_materials.html",
                           (token, allowed, place, tuple(print_editions), thumbnails), content)
    return render_template("attendee/materials.html", content=part)


def _revision(seminar, position: int):
    try:
        return service.current_revision(seminar, position)
    except NotFound:
        abort(404)


@bp.get("/materials/<int:position>/download")
@_files
def materials_download(seminar, position: int):
    revision = _revision(seminar, position)
    if revision is None:
        return _paper_missing(position)
    return get_storage().send(revision.stored_path, service.download_name(revision),
                              service.mimetype(revision))


@bp.get("/materials/<int:position>/pdf")
@_files
def materials_pdf(seminar, position: int):
    revision = _revision(seminar, position)
    if revision is None:
        return _paper_missing(position)
    source = service.pdf_source(revision)
    if source is None or not get_storage().exists(source):
        return _not_yet(_("No PDF yet"),
                        _("This paper has no PDF version yet. Download the file as it was "
                          "uploaded instead."))
    # Only the normalised PDF (scripts, actions and attachments removed) opens in the browser;
    # an upload that was never normalised is offered as a download.
    inline = source == revision.normalised_path
    return get_storage().send(source, service.pdf_name(revision), "application/pdf",
                              inline=inline)


@bp.get("/materials/<int:position>/thumbnail.png")
@_files
def materials_thumbnail(seminar, position: int):
    revision = _revision(seminar, position)
    source = service.pdf_source(revision) if revision is not None else None
    path = previews.page_png(get_storage(), source, 1, width=240) if source else None
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/png", conditional=True, etag=True, max_age=0)
    return _private(response)


def _paper_missing(position: int):
    return _not_yet(_("Not submitted yet"),
                    _("Paper %(n)d has not been submitted yet. Come back later.", n=position))


@bp.get("/materials/booklet.pdf")
@_files
def materials_booklet(seminar):
    booklet = service.published_booklet(seminar)
    if booklet is None or not get_storage().exists(booklet.stored_path):
        return _not_yet(_("The booklet is not published yet"),
                        _("The Office publishes the booklet (tài liệu phục vụ buổi tọa đàm) "
                          "when all papers are in. Until then, the papers can be downloaded "
                          "one by one on the materials page."))
    return get_storage().send(booklet.stored_path, service.booklet_name(seminar, booklet),
                              "application/pdf")


@bp.get("/materials/all.zip")
@_files
def materials_zip(seminar):
    storage = get_storage()
    plan = service.zip_plan(seminar, storage)
    if plan.empty:
        return _not_yet(_("Nothing to download yet"),
                        _("No paper has been submitted yet. Come back later."))
    try:
        archive = service.zip_archive(plan, storage)
    except StorageError as error:  # the cache cannot be written: generate it as it goes out
        log.warning("the ZIP could not be kept in the cache (%s); streaming it instead", error)
        return _zip_streamed(plan, storage)
    return storage.send_open(archive, service.ZIP_NAME, "application/zip", etag=plan.etag,
                             last_modified=plan.last_modified)


def _zip_streamed(plan, storage):
    stream = service.zip_stream(plan, storage)
    response = current_app.response_class(stream, mimetype="application/zip")
    response.headers["Content-Length"] = str(len(stream))
    response.headers["Content-Disposition"] = content_disposition(service.ZIP_NAME)
    response.set_etag(plan.etag)
    if plan.last_modified is not None:
        response.last_modified = plan.last_modified
    _private(response)
    # The archive is the same bytes for the same ETag, so a broken download can resume: a
    # Range is answered with 206 by skipping the stream up to its start (nothing is buffered).
    return response.make_conditional(request, accept_ranges=True, complete_length=len(stream))


@bp.get("/materials/seminar.ics")
@_files
def materials_calendar(seminar):
    text = service.calendar(seminar, links.absolute_url("attendee.materials"),
                              host=links.host())
    response = current_app.response_class(text.encode("utf-8"),
                                          mimetype="text/calendar")
    response.headers["Content-Disposition"] = content_disposition(service.CALENDAR_NAME)
    response.add_etag()
    _private(response)
    return response.make_conditional(request)
