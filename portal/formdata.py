"""Reading posted forms: a multipart part whose headers are not UTF-8 (a file name in a legacy
encoding, sent by an old client) gets its own clear message instead of an empty form, which
the CSRF check would otherwise call "the form has expired"."""

from __future__ import annotations

from flask import Flask, render_template
from flask.wrappers import Request
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser


class UndecodableFilename(BadRequest):
    """The name of an uploaded file (or of a form field) is not valid UTF-8."""


class PortalFormDataParser(FormDataParser):
    def _parse_multipart(self, stream, mimetype, content_length, options):
        try:
            return super()._parse_multipart(stream, mimetype, content_length, options)
        except UnicodeDecodeError:
            raise UndecodableFilename() from None


class PortalRequest(Request):
    form_data_parser_class = PortalFormDataParser


def init_formdata(app: Flask) -> None:
    app.request_class = PortalRequest

    @app.errorhandler(UndecodableFilename)
    def undecodable_filename(error: UndecodableFilename):
        message = _("The file's name could not be read: it is not written in UTF-8. Please "
                    "rename the file (letters, digits and spaces are fine, Vietnamese too) "
                    "and send it again.")
        return render_template("errors/generic.html", code=400, message=message), 400
