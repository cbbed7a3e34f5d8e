"""``flask seminar …``, ``flask users …``: thin wrappers over the services."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from . import clock
from .extensions import db
from .services import accounts, seminars
from .services.errors import PortalError

seminar_cli = AppGroup("seminar", help="The seminar: load the plan, show it, change its settings.")
users_cli = AppGroup("users", help="Accounts: create one, import many.")


def fail(message: str, code: int = 1):
    click.echo(f"Lỗi / Error: {message}", err=True)
    sys.exit(code)


def _seminar():
    try:
        return seminars.current_seminar()
    except PortalError as error:
        fail(str(error))


@seminar_cli.command("load-plan")
@click.option("--demo", is_flag=True, help="Move the timeline to today and create demo accounts.")
@click.option("--if-empty", is_flag=True,
              help="Only when no seminar exists yet; otherwise just list the demo accounts.")
def load_plan(demo: bool, if_empty: bool):
    """Create the seminar of the plan of 07/05/2021 (idempotent)."""
    if if_empty and seminars.find_seminar() is not None:
        seminar = seminars.current_seminar()
        click.echo(f"Seminar: {seminar.title}")
        click.echo(f"Deadline: before {clock.format_datetime(seminar.deadline)} (Vietnam time)")
        accounts_left = seminars.demo_accounts_in_use()
        if accounts_left:
            click.echo("")
            click.echo("Demo accounts (email / password / role):")
            for email, password, role in accounts_left:
                click.echo(f"  {email}  {password}  {role}")
        return
    result = seminars.load_plan(demo=demo)
    seminar = result.seminar
    if result.created:
        click.echo(f"Created: {', '.join(result.created)}")
    else:
        click.echo("The plan is loaded already; nothing changed.")
    click.echo(f"Seminar: {seminar.title}")
    click.echo(f"Deadline: before {clock.format_datetime(seminar.deadline)} (Vietnam time)")
    click.echo(f"Session: {clock.format_datetime(seminar.session_start)}")
    if demo:
        click.echo("")
        click.echo("Demo accounts (email / password / role):")
        for email, password, role in result.demo_accounts:
            click.echo(f"  {email}  {password}  {role}")


@seminar_cli.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(as_json: bool):
    """Print the seminar and its seven assignments."""
    data = seminars.summary(_seminar())
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(data["title"])
    click.echo(f"{data['organiser']} — {data['venue']}")
    click.echo(f"Deadline: {data['deadline']}  Capacity: {data['capacity']}")
    click.echo(f"Session: {data['session_start']} – {data['session_end']}")
    for item in data["assignments"]:
        click.echo(f"  ({item['position']}) [{item['kind']}] {item['unit']}: {item['title']}")


@seminar_cli.command("set-deadline")
@click.argument("when")
def set_deadline(when: str):
    """Set the deadline: "DD/MM/YYYY HH:MM[:SS]" in Vietnam time (the first late instant)."""
    seminar = _seminar()
    try:
        instant = seminars.set_deadline(seminar, when)
    except PortalError as error:
        fail(str(error))
    click.echo(f"Deadline: before {clock.format_datetime(instant, seconds=True)} (Vietnam time) "
               f"= {clock.as_utc(instant).isoformat()}")


@seminar_cli.command("set-capacity")
@click.argument("capacity")
def set_capacity(capacity: str):
    """Set how many people may attend."""
    try:
        value = int(capacity)
    except ValueError:
        fail(f"“{capacity}” is not a whole number.")
    seminar = _seminar()
    try:
        seminars.set_capacity(seminar, value)
    except PortalError as error:
        fail(str(error))
    click.echo(f"Capacity: {value}")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--office", is_flag=True, help="A member of the Office (Văn phòng Sở).")
@click.option("--unit", default=None, help="The unit's exact name.")
@click.option("--position", default="", help="For example: Trưởng phòng.")
@click.option("--password", default=None, help="Asked for when absent.")
def create_user(email, name, office, unit, position, password):
    """Create an account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = accounts.create_user(accounts.NewUser(
            email=email, name=name, password=password, position=position, unit=unit,
            office=office))
    except PortalError as error:
        db.session.rollback()
        fail(str(error))
    role = "office" if user.is_office else ("presenter" if user.is_presenter else "member")
    click.echo(f"Created {user.email} ({user.full_name}, {role})")


@users_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_users(csv_file: Path):
    """Import accounts from a UTF-8 CSV (email,name[,password,position,unit,office])."""
    try:
        text = csv_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{csv_file} is not UTF-8 text. Save it as “CSV UTF-8”.")
    try:
        results = accounts.import_users(text)
    except PortalError as error:
        fail(str(error))
    click.echo(f"Imported {len(results)} accounts.")
    for user, generated in results:
        if generated:
            click.echo(f"  {user.email}  {generated}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(seminar_cli)
    app.cli.add_command(users_cli)
