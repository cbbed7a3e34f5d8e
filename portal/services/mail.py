"""Mail: rendering a message in its recipient's language, and the SMTP transport.

Settings: ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USERNAME``, ``MAIL_PASSWORD``, ``MAIL_USE_TLS``
(STARTTLS), ``MAIL_DEFAULT_SENDER``, ``MAIL_TIMEOUT`` (seconds one read or write may take,
default 10), ``MAIL_DEADLINE`` (seconds one message may take in all, default 60). Without
``MAIL_SERVER`` every message is written to the log (logger ``portal.mail``) and counted as
sent, so development needs nothing.

Nothing here writes to the database: a mail is queued and recorded by ``services.outbox``.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app
from flask_babel import force_locale

from .. import clock
from ..settings import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger("portal.mail")

WAITING = "waiting"  # in the outbox
SENDING = "sending"  # claimed by one sender
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
    """(subject, plain text, HTML) of ``templates/mail/<kind>.html``: its ``subject`` and
    ``text`` blocks and the page it renders. Every string in it goes through gettext, and it
    is rendered under ``force_locale(lang)``, so the whole mail (labels and filters too)
    speaks the recipient's language."""
    app = current_app._get_current_object()
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    with force_locale(lang):
        context["lang"] = lang
        app.update_template_context(context)
        template = app.jinja_env.get_template(f"mail/{kind}.html")
        blocks = template.new_context(dict(context))
        subject = " ".join("".join(template.blocks["subject"](blocks)).split())
        text = "".join(template.blocks["text"](blocks)).strip() + "\n"
        html = template.render(context)
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


@dataclass
class Outcome:
    """What became of one mail: "sent" or "failed", how it left, and why it failed."""

    status: str
    transport: str
    error: str = ""


def send_all(mails: list[Mail]) -> list[Outcome]:
    """Send every mail over one SMTP connection (or to the log); one outcome per mail.

    Never raises and never writes to the database (``services.outbox`` records the outcome).
    Each mail has a total deadline (``MAIL_DEADLINE`` seconds, connecting included): the
    socket timeout (``MAIL_TIMEOUT``) bounds one read or write only, so a server that answers
    one byte every few seconds is cut off by a watchdog when the deadline passes. A connection
    that fails (or a server that misses the deadline) fails every mail of the batch at once;
    a refused recipient fails only that mail."""
    if not mails:
        return []
    config = current_app.config
    sender = str(config.get("MAIL_DEFAULT_SENDER") or "no-reply@localhost")
    if not config.get("MAIL_SERVER"):
        for mail in mails:
            log.info("mail (no MAIL_SERVER, not sent) to %s: %s\n%s", mail.to, mail.subject,
                     mail.text)
        return [Outcome(SENT, "log") for _mail in mails]

    deadline = float(config.get("MAIL_DEADLINE") or 60)
    outcomes: list[Outcome] = []
    smtp: _SMTP | None = None
    try:
        for index, mail in enumerate(mails):
            watchdog = _Watchdog(deadline)
            try:
                if smtp is None:
                    smtp = _connect(config, watchdog)
                else:
                    smtp.watchdog = watchdog
                    watchdog.watch(smtp)
                try:
                    smtp.send_message(build_message(mail, sender))
                except smtplib.SMTPServerDisconnected:
                    if watchdog.fired:
                        raise
                    # The connection dropped between two mails: once more on a new one.
                    _close(smtp)
                    smtp = None
                    smtp = _connect(config, watchdog)
                    smtp.send_message(build_message(mail, sender))
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPSenderRefused) as error:
                outcomes.append(Outcome(FAILED, "smtp", _describe(error)))
                log.error("mail to %s failed: %s", mail.to, _describe(error))
                continue
            except Exception as error:  # noqa: BLE001 - mail never fails the caller
                reason = watchdog.reason() or _describe(error)
                log.error("mail server %s:%s failed: %s", config.get("MAIL_SERVER"),
                          config.get("MAIL_PORT"), reason)
                _close(smtp)
                smtp = None
                outcomes += [Outcome(FAILED, "smtp", reason) for _mail in mails[index:]]
                break
            finally:
                watchdog.disarm()
            outcomes.append(Outcome(SENT, "smtp"))
            log.info("mail sent to %s: %s", mail.to, mail.subject)
    finally:
        if smtp is not None:
            watchdog = _Watchdog(min(deadline, 10.0))
            smtp.watchdog = watchdog
            watchdog.watch(smtp)
            _close(smtp, polite=True)
            watchdog.disarm()
    return outcomes


class _Watchdog:
    """Shuts the SMTP socket down when ``seconds`` have passed, whatever the server does."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = False
        self._lock = threading.Lock()
        self._smtp: smtplib.SMTP | None = None
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            self._smtp = smtp
            if self.fired:
                _shutdown(smtp)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._smtp is not None:
                _shutdown(self._smtp)

    def disarm(self) -> None:
        self._timer.cancel()

    def reason(self) -> str:
        if not self.fired:
            return ""
        return f"no answer from the mail server within {self.seconds:g} s"


def _shutdown(smtp: smtplib.SMTP) -> None:
    sock = getattr(smtp, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _SMTP(smtplib.SMTP):
    """smtplib's client, its socket shown to the watchdog as soon as it exists."""

    watchdog: _Watchdog

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        self.sock = sock
        self.watchdog.watch(self)
        return sock


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


def _connect(config, watchdog: _Watchdog) -> _SMTP:
    timeout = min(float(config.get("MAIL_TIMEOUT") or 10), watchdog.seconds)
    smtp = _SMTP(timeout=timeout)
    smtp.watchdog = watchdog
    try:
        smtp.connect(config["MAIL_SERVER"], int(config.get("MAIL_PORT") or 25))
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


# -- for the Office's page -----------------------------------------------------------------


def transport_summary() -> dict:
    """How mail leaves the portal, for the Office's page (never the password)."""
    config = current_app.config
    return {
        "server": config.get("MAIL_SERVER"),
        "port": config.get("MAIL_PORT"),
        "tls": bool(config.get("MAIL_USE_TLS")),
        "sender": config.get("MAIL_DEFAULT_SENDER"),
    }
