"""``flask remind`` (reminders for missing papers) and ``flask mail send`` (the outbox), both
for cron."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from .. import clock
from ..services import outbox, reminders
from .common import PortalCommand, PortalGroup, current_seminar

mail_cli = PortalGroup("mail", help="The outbox: deliver the mail still waiting or failed.")


@click.command("remind", cls=PortalCommand)
@with_appcontext
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Only when the deadline is this many days away or less.")
def remind(days: int | None):
    """Mail every unit whose paper is still missing while its deadline is ahead (for cron).

    Never twice for the same paper, deadline and day (Vietnam time); prints what was sent and
    what was skipped."""
    outcomes = reminders.remind(current_seminar(), days=days)
    sent = 0
    for item in outcomes:
        label = f"paper {item.position} ({item.unit})"
        deadline = f"deadline before {clock.format_datetime(item.deadline)}"
        if item.status == "sent":
            sent += 1
            click.echo(f"sent     {label}, {deadline}: {', '.join(item.recipients)}")
            if item.failed:
                click.echo(f"         failed for: {', '.join(item.failed)}")
        elif item.status == "failed":
            click.echo(f"FAILED   {label}, {deadline}: {', '.join(item.failed)} "
                       "(see /office/mail; `flask mail send` tries them again)")
        else:
            click.echo(f"skipped  {label}: {item.reason}")
    click.echo(f"{sent} reminder(s) sent.")
    if any(item.status == "failed" for item in outcomes):
        sys.exit(1)


@mail_cli.command("send")
def mail_send():
    """Deliver every mail that is waiting, that failed (up to MAIL_MAX_ATTEMPTS tries) or that
    a stopped process left half-sent. Safe to run while another run or the portal sends: each
    mail is claimed by one sender only. Exit status 1 when a mail failed."""
    result = outbox.send_pending()
    click.echo(f"{result.sent} mail(s) sent, {result.failed} failed.")
    if result.failed:
        sys.exit(1)
