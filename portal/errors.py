"""Friendly error pages, in the user's language. Never a stack trace on a page."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(413)
    def too_large(error):
        limit = current_app.config.get("MAX_UPLOAD_MB", 20)
        return render_template("errors/413.html", limit_mb=limit), 413

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        db.session.rollback()
        log.error("database error on %s %s: %s", request.method, request.path, error)
        response = current_app.response_class(
            render_template("errors/503.html"), status=503
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        known = (400, 403, 404, 405, 429)
        template = f"errors/{code}.html" if code in known else "errors/generic.html"
        return render_template(template, error=error, code=code), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_template("errors/500.html"), 500
