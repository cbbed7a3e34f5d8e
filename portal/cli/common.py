"""What every command group shares: the one place a ``PortalError`` becomes a clean exit
(its message on stderr, exit status 1, the transaction rolled back), as does a database that
has not been set up yet, and small look-ups."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError, ProgrammingError

from .. import policy
from ..database import missing_tables
from ..extensions import db
from ..models import Seminar, User
from ..services import accounts, seminars
from ..services.errors import PortalError


def fail(message: str, code: int = 1):
    click.echo(f"Lỗi / Error: {message}", err=True)
    sys.exit(code)


class PortalCommand(click.Command):
    """A command whose service errors end it cleanly instead of with a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PortalError as error:
            db.session.rollback()
            fail(str(error))
        except (OperationalError, ProgrammingError):
            # SQLite says "no such table", PostgreSQL "relation does not exist": before the
            # first ``flask db upgrade`` every command would end in a stack trace.
            db.session.rollback()
            if _not_set_up():
                fail(str(_l("The database is not set up yet: run “flask db upgrade” first.")))
            raise


def _not_set_up() -> bool:
    try:
        return bool(missing_tables())
    except (OperationalError, ProgrammingError):  # not even reachable: the original error says
        return False


class PortalGroup(AppGroup):
    """A command group (with the application context) of ``PortalCommand`` commands."""

    command_class = PortalCommand


def current_seminar() -> Seminar:
    return seminars.current_seminar()


def user_by_email(email: str) -> User:
    user = accounts.find_by_email(email)
    if user is None:
        fail(f"there is no account with the email {email!r}.")
    return user


def office_account(email: str | None) -> User | None:
    """The Office account ``email`` (None without one); fails for anyone else."""
    if not email:
        return None
    user = accounts.find_by_email(email)
    if not policy.is_office(user):
        fail(f"{email} is not an Office account.")
    return user
