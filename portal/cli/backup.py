"""``flask backup …``: a consistent snapshot of the database and every stored file, and its
restore."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from ..extensions import db
from ..services import backup, integrity
from ..storage import get_storage
from .common import PortalGroup, fail

backup_cli = PortalGroup("backup", help="Backups: a consistent snapshot of the database and "
                                        "every stored file, and its restore.")


@backup_cli.command("create")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The archive to write (.tar.gz); written whole or not at all.")
def backup_create(out: Path):
    """Snapshot the database (SQLite backup API or pg_dump) and copy every file its rows
    reference, with a manifest of sha256s."""
    try:
        result = backup.create(out, get_storage(), db.engine)
    except backup.BackupError as error:
        fail(str(error))
    for line in backup.summarise(result.manifest):
        click.echo(line)
    click.echo(f"Backup written: {result.path} ({result.size} bytes)")
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if result.warnings:
        sys.exit(1)  # the archive is there, but somebody should look (cron mails this)


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace an installation in use (its database and its files).")
def backup_restore(archive: Path, force: bool):
    """Restore ARCHIVE into a fresh installation, checking every sha256 before and after.
    Stop the portal first."""
    storage = get_storage()
    try:
        result = backup.restore(archive, storage, db.engine, force=force,
                                before_database=db.session.remove, say=click.echo)
    except backup.BackupError as error:
        fail(str(error))
    for line in backup.summarise(result.manifest):
        click.echo(line)
    for name in result.left_in_place:
        click.echo(f"left in place (not in the backup): {name}")
    revision = result.manifest["database"].get("alembic_revision")
    heads = backup.migration_heads(Path(current_app.extensions["migrate"].directory))
    if revision and heads and revision not in heads:
        click.echo(f"The backup's schema is at revision {revision}; run `flask db upgrade`.")
    # The final check: the restored rows against the restored files. An archive whose
    # manifest was edited to match a changed file passes the manifest's sha256s but not this.
    report = integrity.check(storage)
    if not report.clean:
        for relative in report.missing:
            click.echo(f"missing: {relative} (a row points at it)", err=True)
        for relative in report.corrupt:
            click.echo(f"differs: {relative} (its sha256 is not the one its row recorded)",
                       err=True)
        for relative in report.stray:
            click.echo(f"no row: {relative}", err=True)
        for relative in report.leftover_files:
            click.echo(f"leftover temporary file: {relative}", err=True)
        fail(f"the restore is NOT verified: the final storage check found "
             f"{len(report.missing)} missing, {len(report.corrupt)} differ, "
             f"{len(report.stray)} without a row. Do not use this installation; restore "
             f"another backup.")
    click.echo(f"Restored {result.files} file(s), {result.bytes} bytes, and the database; "
               f"all verified (storage check: ok, {report.checked} file(s) checked).")
