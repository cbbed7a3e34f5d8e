"""``flask storage check``: the upload folder against the database."""

from __future__ import annotations

import sys

import click

from ..services import integrity
from ..storage import get_storage
from .common import PortalGroup

storage_cli = PortalGroup("storage", help="The upload folder: check it against the database.")


@storage_cli.command("check")
@click.option("--fix", is_flag=True,
              help="Remove files that no row points at, and temporary files left by a process "
                   "that has gone.")
def storage_check(fix: bool):
    """Every revision's file exists with its sha256; no file lacks a row."""
    storage = get_storage()
    report = integrity.check(storage)
    for relative in report.missing:
        click.echo(f"missing: {relative}")
    for relative in report.corrupt:
        click.echo(f"sha256 differs: {relative}")
    for relative in report.stray:
        click.echo(f"no row: {relative}")
    for entry in report.leftover:
        for relative in entry.files:
            click.echo(f"left by an interrupted upload or build: {relative}")
    for relative in report.in_progress:
        click.echo(f"in progress (a running process): {relative}")
    if fix and (report.stray or report.leftover):
        removed = integrity.remove_stray(storage, report)
        click.echo(f"removed {removed} stray file(s)")
        report.stray = []
        report.leftover = []
    if report.clean:
        click.echo(f"ok: {report.checked} file(s) checked")
        return
    sys.exit(1)
