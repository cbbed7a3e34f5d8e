"""Errors raised by services. Each carries a message a person can act on.

Messages are lazy translations: they render in the language of whoever reads them (the
request's locale in a view, Vietnamese on the command line).
"""

from __future__ import annotations


class PortalError(Exception):
    """A rule of the portal said no. ``status`` is the HTTP status a view should answer."""

    status = 400
    #: the form field the message is about ("end", "deadline" …), for views that show errors
    #: at their field; None for the form as a whole
    field: str | None = None

    def __init__(self, message, field: str | None = None, **params):
        super().__init__(str(message) if not params else message)
        self.message = message
        self.params = params
        if field is not None:
            self.field = field

    def __str__(self) -> str:
        text = str(self.message)
        if self.params:
            try:
                return text % self.params
            except (KeyError, TypeError, ValueError):
                return text
        return text


class NotFound(PortalError):
    status = 404


class InvalidInput(PortalError):
    status = 400


class DeadlinePassed(PortalError):
    status = 403


class NotYourAssignment(PortalError):
    status = 403


class InvalidDocument(PortalError):
    status = 422


class DocumentTooLarge(InvalidDocument):
    status = 413


class StorageFailed(PortalError):
    status = 503


class SeminarFull(PortalError):
    status = 409


class AlreadyRegistered(PortalError):
    status = 409


class RegistrationClosed(PortalError):
    status = 403


class BookletNotReady(PortalError):
    status = 409


class NeedsConfirmation(PortalError):
    """Nothing was saved: the change is allowed but surprising, and the person must confirm it.
    ``warnings`` holds one message per surprise."""

    status = 409

    def __init__(self, warnings: list):
        super().__init__(warnings[0] if warnings else "")
        self.warnings = list(warnings)
