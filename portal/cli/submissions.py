"""``flask submissions …``: add a paper on a unit's behalf, list the papers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..services import papers, submissions
from .common import PortalGroup, current_seminar, office_account

submissions_cli = PortalGroup("submissions", help="Papers: add one on a unit's behalf, list "
                                                  "them.")


@submissions_cli.command("add")
@click.argument("position", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor_email", default=None,
              help="The Office account to record as uploader (default: the first one).")
def submissions_add(position: int, file: Path, actor_email: str | None):
    """Add FILE as a new revision of paper POSITION, for the Office, at any time."""
    seminar = current_seminar()
    actor = office_account(actor_email)
    result = submissions.add_from_file(seminar, position, file, actor)
    s = result.submission
    if result.duplicate:
        click.echo(f"Paper {position}: identical to revision {s.number}; nothing new stored.")
        return
    late = " (late)" if s.late else ""
    click.echo(f"Paper {position}: revision {s.number}{late}: {s.original_filename}, "
               f"{s.file_type}, {s.size} bytes, {s.pages or '?'} pages, sha256 {s.sha256}")


@submissions_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def submissions_list(as_json: bool):
    """The seven papers with their status and revisions."""
    rows = papers.listing(current_seminar())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"({row['position']}) {row['status']:<10} {row['unit']}: "
                   f"{len(row['revisions'])} revision(s)")
