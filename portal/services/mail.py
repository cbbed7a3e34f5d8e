"""Sending mail: SMTP with smtplib, or the log when no server is set.

Settings: ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_USE_TLS``
(STARTTLS), ``MAIL_DEFAULT_SENDER``, ``MAIL_TIMEOUT`` (seconds, default 10). Without
``MAIL_SERVER`` every message is written to the log (logger ``portal.mail``) and counted as sent,
so development needs nothing.

Sending never raises: a server that is down or refuses a message is logged and recorded in
``MailLog`` with the error (the Office sees it at /office/mail). Call it only after the
transaction that caused the mail has committed.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..models import MailLog
from ..settings import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger("portal.mail")

SENT = "sent"
FAILED = "failed"


@dataclass
class Mail:
    """One message, rendered, for one person."""

    to: str
    name: str
    subject: str
    text: str
    html: str
    kind: str
    user_id: int | None = None
    lang: str = "vi"
    # (file name, MIME type, bytes): e.g. the check-in QR code of a confirmed person
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


def language_of(user) -> str:
    """Vietnamese unless the person chose English."""
    locale = getattr(user, "locale", None)
    return locale if locale in LANGUAGES else DEFAULT_LANGUAGE


def render(kind: str, lang: str, **context) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of ``templates/mail/<lang>/<kind>.txt`` and ``.html``.

    The text template sets ``subject``. Rendering runs under ``force_locale(lang)``, so filters
    and labels that translate (the paper's kind, a remaining time) speak the same language."""
    app = current_app._get_current_object()
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    with force_locale(lang):
        app.update_template_context(context)
        text_template = app.jinja_env.get_template(f"mail/{lang}/{kind}.txt")
        module = text_template.make_module(context)
        subject = " ".join(str(getattr(module, "subject", "")).split())
        text = str(module).strip() + "\n"
        html = app.jinja_env.get_template(f"mail/{lang}/{kind}.html").render(context)
    return subject, text, html


def compose(user, kind: str, **context) -> Mail:
    """The mail ``kind`` for ``user``, in their language."""
    lang = language_of(user)
    subject, text, html = render(kind, lang, user=user, **context)
    return Mail(to=user.email, name=user.full_name, subject=subject, text=text, html=html,
                kind=kind, user_id=user.id, lang=lang)


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """multipart/alternative: plain text first, then HTML; UTF-8 throughout."""
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = sender
    try:
        message["To"] = Address(display_name=mail.name or "", addr_spec=mail.to)
    except (ValueError, IndexError):
        message["To"] = mail.to
    message["Date"] = format_datetime(clock.now())
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(mail.html, subtype="html", charset="utf-8",
                            cte="quoted-printable")
    message["Content-Language"] = mail.lang  # after set_content, which clears Content-*
    for filename, mimetype, data in mail.attachments:
        maintype, _, subtype = mimetype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send(mail: Mail) -> MailLog | None:
    rows = send_all([mail])
    return rows[0] if rows else None


def send_all(mails: list[Mail]) -> list[MailLog]:
    """Send every mail over one SMTP connection (or to the log); record each in ``MailLog``.

    Never raises. A connection that fails fails every mail of the batch at once (one timeout,
    not one per mail); a refused recipient fails only that mail."""
    if not mails:
        return []
    config = current_app.config
    sender = str(config.get("MAIL_DEFAULT_SENDER") or "no-reply@localhost")
    server = config.get("MAIL_SERVER")
    results: list[tuple[Mail, str, str, str]] = []  # mail, status, transport, error
    if not server:
        for mail in mails:
            log.info("mail (no MAIL_SERVER, not sent) to %s: %s\n%s", mail.to, mail.subject,
                     mail.text)
            results.append((mail, SENT, "log", ""))
        return _record(results)

    smtp: smtplib.SMTP | None = None
    try:
        smtp = _connect(config)
    except Exception as error:  # noqa: BLE001 - mail never fails the caller
        reason = _describe(error)
        log.error("mail server %s:%s unreachable: %s", server, config.get("MAIL_PORT"), reason)
        results = [(mail, FAILED, "smtp", reason) for mail in mails]
        return _record(results)
    try:
        for mail in mails:
            try:
                smtp.send_message(build_message(mail, sender))
            except (smtplib.SMTPServerDisconnected, OSError):
                # The connection dropped: try once more on a new one.
                _close(smtp)
                try:
                    smtp = _connect(config)
                    smtp.send_message(build_message(mail, sender))
                except Exception as again:  # noqa: BLE001
                    results.append((mail, FAILED, "smtp", _describe(again)))
                    log.error("mail to %s failed: %s", mail.to, _describe(again))
                    continue
            except Exception as error:  # noqa: BLE001 - refused, bad data, …
                results.append((mail, FAILED, "smtp", _describe(error)))
                log.error("mail to %s failed: %s", mail.to, _describe(error))
                continue
            results.append((mail, SENT, "smtp", ""))
            log.info("mail sent to %s: %s", mail.to, mail.subject)
    finally:
        _close(smtp, polite=True)
    return _record(results)


def _close(smtp: smtplib.SMTP | None, polite: bool = False) -> None:
    if smtp is None:
        return
    if polite:
        try:
            smtp.quit()
            return
        except Exception:  # noqa: BLE001
            pass
    try:
        smtp.close()
    except Exception:  # noqa: BLE001
        pass


def _connect(config) -> smtplib.SMTP:
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    smtp = smtplib.SMTP(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25),
                        timeout=timeout)
    try:
        smtp.ehlo()
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        details = "; ".join(f"{address}: {code} {_text(message)}"
                            for address, (code, message) in error.recipients.items())
        return f"recipient refused ({details})"[:1000]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"[:1000]
    return f"{type(error).__name__}: {error}"[:1000]


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _record(results: list[tuple[Mail, str, str, str]]) -> list[MailLog]:
    now = clock.now()
    rows = [
        MailLog(at=now, kind=mail.kind, recipient=mail.to[:254], user_id=mail.user_id,
                subject=mail.subject[:500], status=status, transport=transport, error=error,
                body=mail.text, html=mail.html, lang=mail.lang)
        for mail, status, transport, error in results
    ]
    try:
        db.session.add_all(rows)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the log of mail must not break the caller either
        db.session.rollback()
        log.exception("could not record %d mail(s) in the mail log", len(rows))
    return rows


# -- reading, for the Office --------------------------------------------------------------


def recent(limit: int = 200) -> list[MailLog]:
    return list(db.session.scalars(
        select(MailLog).options(selectinload(MailLog.user))
        .order_by(MailLog.at.desc(), MailLog.id.desc()).limit(limit)))


def resend(row: MailLog) -> MailLog:
    """Send a failed mail again, unchanged (same subject, text and HTML), as a new row of the
    log; the failed row stays as it was. Only failed mail with a stored body is sent again."""
    from .errors import InvalidInput

    if row.status != FAILED:
        raise InvalidInput(_l("This mail was sent already; only a failed mail is sent again."))
    if not row.body:
        raise InvalidInput(_l("This mail was recorded before the portal kept mail bodies; it "
                              "cannot be sent again."))
    name = row.user.full_name if row.user is not None else ""
    mail = Mail(to=row.recipient, name=name, subject=row.subject, text=row.body,
                html=row.html or "", kind=row.kind, user_id=row.user_id, lang=row.lang or "vi")
    if not mail.html:
        mail.html = "<pre>" + escape(mail.text) + "</pre>"
    return send(mail)


def get(mail_id: int) -> MailLog:
    from .errors import NotFound

    row = db.session.get(MailLog, mail_id)
    if row is None:
        raise NotFound(_l("There is no such mail."))
    return row


def transport_summary() -> dict:
    """How mail leaves the portal, for the Office's page (never the password)."""
    config = current_app.config
    return {
        "server": config.get("MAIL_SERVER"),
        "port": config.get("MAIL_PORT"),
        "tls": bool(config.get("MAIL_USE_TLS")),
        "sender": config.get("MAIL_DEFAULT_SENDER"),
    }
