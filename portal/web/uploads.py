"""The paper page's upload, shared by the presenter's and the Office's page of a paper: the
form, taking a POSTed file, and the page with the paper as it will be printed."""

from __future__ import annotations

import json

from flask import current_app, flash, redirect, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from .. import clock
from ..forms import PortalForm
from ..models import Assignment, Submission
from ..services import papers, submissions
from ..services.errors import PortalError
from ..storage import get_storage
from ..timefmt import remaining_text

PRINT_PREVIEW_PAGES = 3


class UploadForm(PortalForm):
    file = FileField(_l("Your paper (.docx, .doc, .odt or PDF)"),
                     validators=[FileRequired(message=_l("Choose a file to upload."))],
                     render_kw={"accept": ".docx,.doc,.odt,.pdf,application/pdf,application/vnd."
                                "openxmlformats-officedocument.wordprocessingml.document,"
                                "application/msword,application/vnd.oasis.opendocument.text"})
    submit = SubmitField(_l("Upload"))


def handle_upload(assignment: Assignment, form: UploadForm, done_url: str):
    """Take a POSTed upload form: a redirect to ``done_url`` when stored, otherwise the form
    carries the reason and the status to answer with is returned."""
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            form.file.errors.append(_("The form has expired. Please reload the page and "
                                      "send it again."))
        return None, 400
    upload = form.file.data
    # The language of the answer, settled before the upload commits: resolved after the
    # commit, it would load the account again in a transaction of its own (on SQLite, one
    # that waits for the delivery thread's claim of the receipt the commit hands over).
    get_locale()
    try:
        result = submissions.upload(assignment, current_user, upload.stream,
                                    upload.filename or "")
    except PortalError as error:
        form.file.errors.append(str(error))
        return None, error.status
    if result.duplicate:
        flash(_("This file is identical to revision %(n)d; nothing new was stored.",
                n=result.number), "info")
    else:
        flash(_("Received: %(name)s (revision %(n)d).", name=result.filename, n=result.number),
              "success")
    return redirect(done_url), 302


def render_paper(assignment: Assignment, form: UploadForm, status: int = 200,
                 template: str = "presenter/paper.html", **extra):
    deadline = assignment.effective_deadline
    return render_template(
        template,
        assignment=assignment,
        form=form,
        deadline=deadline,
        is_open=assignment.is_open(),
        remaining=remaining_text(clock.remaining(deadline)),
        current=assignment.current_submission,
        revisions=list(reversed(assignment.submissions)),
        status=papers.status_of(assignment),
        labels=papers.STATUS_LABELS,
        max_mb=int(current_app.config["MAX_UPLOAD_MB"]),
        printed=print_version(assignment.current_submission),
        **extra,
    ), status


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
