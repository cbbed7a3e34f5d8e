"""``flask attendees …``: the attendee list: list it, add or remove people."""

from __future__ import annotations

import json

import click

from ..services import attendance, attendance_export
from .common import PortalGroup, current_seminar, fail, user_by_email

attendees_cli = PortalGroup("attendees", help="The attendee list: list it, add or remove "
                                              "people.")


@attendees_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8, header row).")
def attendees_list(as_json: bool, as_csv: bool):
    """Confirmed people first, then the waiting list in order."""
    if as_json and as_csv:
        fail("choose one of --json and --csv.")
    seminar = current_seminar()
    if as_csv:
        click.echo(attendance_export.listing_csv(seminar), nl=False)
        return
    rows = attendance_export.listing(seminar)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    counts = attendance.counts(seminar)
    click.echo(f"{counts['confirmed']}/{counts['capacity']} confirmed, "
               f"{counts['waitlisted']} waiting, self-registration "
               f"{'open' if seminar.registration_open else 'closed'}")
    for row in rows:
        place = f"waiting #{row['waitlist_position']}" if row["waitlist_position"] else "confirmed"
        click.echo(f"  {place:<12} {row['email']}  {row['name']}"
                   f"{'  — ' + row['unit'] if row['unit'] else ''}  {row['registered_at']}")


@attendees_cli.command("add")
@click.argument("email")
def attendees_add(email: str):
    """Put the account EMAIL on the list (as the Office: also while self-registration is
    closed); confirmed while a seat is free, otherwise on the waiting list."""
    seminar = current_seminar()
    user = user_by_email(email)
    registration = attendance.register(seminar, user, by_office=True)
    if registration.status == attendance.CONFIRMED:
        click.echo(f"Confirmed: {user.email} ({user.full_name})")
    else:
        place = attendance.waitlist_position(registration)
        click.echo(f"Waiting list, place {place}: {user.email} ({user.full_name})")


@attendees_cli.command("remove")
@click.argument("email")
def attendees_remove(email: str):
    """Take the account EMAIL off the list; a freed seat goes to the first in line."""
    seminar = current_seminar()
    user = user_by_email(email)
    registration = user.registration_for(seminar)
    if registration is None:
        fail(f"{user.email} is not on the attendee list.")
    result = attendance.remove(registration)
    click.echo(f"Removed: {result.email} ({result.name}, was {result.was.value})")
    for promoted in result.promoted:
        click.echo(f"Promoted from the waiting list: {promoted.user.email} "
                   f"({promoted.user.full_name})")
