"""``flask users …``: create an account, deactivate one, import many."""

from __future__ import annotations

from pathlib import Path

import click

from .. import policy
from ..services import accounts
from .common import PortalGroup, fail

users_cli = PortalGroup("users", help="Accounts: create one, import many.")


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
    user, _ = accounts.create_user(accounts.NewUser(
        email=email, name=name, password=password, position=position, unit=unit,
        office=office))
    role = policy.role(user)
    click.echo(f"Created {user.email} ({user.full_name}, {role})")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_user(email: str):
    """Deactivate an account: it cannot log in, and every session of it ends at once."""
    user = accounts.find_by_email(email)
    if user is None:
        fail(f"không có tài khoản {email} / no account {email}")
    accounts.set_active(user, False)
    click.echo(f"Deactivated {user.email}; its sessions have ended.")


@users_cli.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_users(csv_file: Path):
    """Import accounts from a UTF-8 CSV or an Excel workbook (.xlsx, first sheet), with the
    columns email,name[,password,position,unit,office]."""
    try:
        if csv_file.suffix.lower() == ".xlsx":
            text = accounts.xlsx_to_csv(csv_file.read_bytes())
        else:
            text = csv_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{csv_file} is not UTF-8 text. Save it as “CSV UTF-8”.")
    results = accounts.import_users(text)
    click.echo(f"Imported {len(results)} accounts.")
    for user, generated in results:
        if generated:
            click.echo(f"  {user.email}  {generated}")
