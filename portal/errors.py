"""Friendly error pages, in the user's language. Never a stack trace on a page."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .extensions import db
from .services.errors import PortalError

log = logging.getLogger(__name__)

# The retry page when even the template cannot be rendered: no database, no session needed.
RETRY_FALLBACK = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Vui lòng thử lại · Please try again</title></head><body><main>
<h1>Vui lòng thử lại</h1><p>Hệ thống đang bận trong giây lát (cơ sở dữ liệu chưa phản hồi).
Chưa có gì bị thay đổi; vui lòng thử lại sau vài giây.</p>
<p lang="en">The portal is busy for a moment (the database did not answer). Nothing was changed;
please try again in a few seconds.</p><p><a href="/">Trang tọa đàm / The seminar page</a></p>
</main></body></html>"""


# A 503 that does not say otherwise (the storage is full, …): when to come back.
RETRY_AFTER_SECONDS = "120"


def register_error_handlers(app: Flask) -> None:
    @app.after_request
    def say_when_to_retry(response):
        if response.status_code == 503:
            response.headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(413)
    def too_large(error):
        limit = current_app.config.get("MAX_UPLOAD_MB", 20)
        return render_template("errors/413.html", limit_mb=limit), 413

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error):
        log.error("database error on %s %s: %s", request.method, request.path, error)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the database is what failed
            log.debug("rollback failed too", exc_info=True)
        # The page must not touch the database again: render it for an anonymous visitor
        # (loading the account, or refreshing a loaded one, would fail the same way).
        g._login_user = current_app.login_manager.anonymous_user()
        try:
            body = render_template("errors/503.html")
        except Exception:  # noqa: BLE001 - never a traceback instead of the retry page
            log.exception("could not render the retry page")
            body = RETRY_FALLBACK
        response = current_app.response_class(body, status=503)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(PortalError)
    def portal_error(error: PortalError):
        db.session.rollback()
        code = error.status
        return render_template("errors/generic.html", code=code, message=str(error),
                               **_refusal_context(code)), code

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        known = (400, 403, 404, 405, 429)
        template = f"errors/{code}.html" if code in known else "errors/generic.html"
        return render_template(template, error=error, code=code,
                               **_refusal_context(code)), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_template("errors/500.html"), 500


def _refusal_context(code: int) -> dict:
    """On every refusal (403), a person on the waiting list is told their place."""
    if code != 403:
        return {}
    try:
        from flask_login import current_user

        from .services.attendance import waitlist_position
        from .services.seminars import find_seminar

        if not current_user.is_authenticated:
            return {}
        seminar = find_seminar()
        if seminar is None:
            return {}
        return {"waitlist_place": waitlist_position(current_user.registration_for(seminar))}
    except Exception:  # noqa: BLE001 - an error page must render whatever failed
        log.warning("could not find the waiting-list place for an error page", exc_info=True)
        return {}
