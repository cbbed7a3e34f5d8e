"""A confirmed person's check-in code: a signed token (itsdangerous, a salt of its own)
carrying the seminar, the registration and the registration's nonce, and the code drawn as a
QR image. A cancelled registration is deleted and a new one gets a new nonce, so an old code
is refused (``services.checkin``). A waitlisted person has no code.

This module reads no list and changes nothing: the mails (``services.notifications``) and the
pages draw the code from here, the door (``services.checkin``) reads it back."""

from __future__ import annotations

import io

from flask import current_app
from itsdangerous import URLSafeSerializer

from ..models import Registration, RegistrationStatus

SALT = "portal.checkin.v1"


def serializer() -> URLSafeSerializer:
    """Signs and reads codes with the portal's secret key and the check-in salt."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(registration: Registration | None) -> str | None:
    """The person's check-in code; None unless confirmed."""
    if registration is None or registration.status != RegistrationStatus.CONFIRMED:
        return None
    return serializer().dumps([registration.seminar_id, registration.id,
                               registration.checkin_nonce])


def qr_svg(token: str) -> str:
    """The code as an inline SVG element (no XML declaration), black on white."""
    import segno  # imported here, where a code is drawn, not at start-up

    qr = segno.make(token, error="m", micro=False)
    return qr.svg_inline(scale=6, border=4, dark="#000", light="#fff")


def qr_png(token: str, scale: int = 8) -> bytes:
    """The code as a PNG image (the mail's attachment)."""
    import segno

    qr = segno.make(token, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
