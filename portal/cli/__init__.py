"""The ``flask`` command line: one module per command group, each a thin layer over the
services; ``common`` turns a service's ``PortalError`` into a clean exit."""

from __future__ import annotations

from flask import Flask

from .attendees import attendees_cli
from .backup import backup_cli
from .booklet import booklet_cli
from .mail import mail_cli, remind
from .minutes import minutes_cli
from .seminar import seminar_cli
from .storage import storage_cli
from .submissions import submissions_cli
from .users import users_cli


def register_cli(app: Flask) -> None:
    for command in (seminar_cli, users_cli, submissions_cli, storage_cli, attendees_cli,
                    booklet_cli, remind, mail_cli, backup_cli, minutes_cli):
        app.cli.add_command(command)
