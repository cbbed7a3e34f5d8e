"""``flask seminar …``: load the plan, show it, change its settings."""

from __future__ import annotations

import json

import click
from flask import current_app

from .. import clock
from ..services import attendance, seminars
from .common import PortalGroup, current_seminar, fail

seminar_cli = PortalGroup("seminar", help="The seminar: load the plan, show it, change its "
                                          "settings.")


@seminar_cli.command("load-plan")
@click.option("--demo", is_flag=True, help="Move the timeline to today and create demo accounts.")
@click.option("--if-empty", is_flag=True,
              help="Only when no seminar exists yet; otherwise just list the demo accounts.")
def load_plan(demo: bool, if_empty: bool):
    """Create the seminar of the plan of 07/05/2021 (idempotent)."""
    if demo and current_app.config.get("PORTAL_ENV") == "production":
        fail("dữ liệu mẫu (--demo) bị từ chối khi PORTAL_ENV=production: các tài khoản mẫu "
             "dùng mật khẩu công khai. Hãy tạo tài khoản bằng 'flask users create'. / "
             "Demo data (--demo) is refused with PORTAL_ENV=production: the demo accounts "
             "have a published password. Create accounts with 'flask users create'.")
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
    data = seminars.summary(current_seminar())
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
    """Set the deadline: "DD/MM/YYYY[ HH:MM[:SS]]" in Vietnam time (the first late instant; a
    date alone means 00:00)."""
    instant = seminars.set_deadline(current_seminar(), when)
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
    attendance.set_capacity(current_seminar(), value)
    click.echo(f"Capacity: {value}")
