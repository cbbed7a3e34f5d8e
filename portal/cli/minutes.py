"""``flask minutes draft``: the minutes of the seminar (biên bản), drafted."""

from __future__ import annotations

from pathlib import Path

import click

from ..fileio import write_atomically
from .common import PortalGroup, current_seminar

minutes_cli = PortalGroup("minutes", help="The minutes of the seminar (biên bản), drafted.")


@minutes_cli.command("draft")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the .docx (or .pdf, converted from the same draft).")
@click.option("--chair", default="", help="The chair's name (and title).")
@click.option("--secretary", default="", help="The secretary's name.")
@click.option("--number", default="", help="The number printed as “Số: N/BB-SKHCN”.")
@click.option("--place", default="", help="The place of the meeting (default: the venue).")
def minutes_draft(out: Path, chair: str, secretary: str, number: str, place: str):
    """Write the draft minutes: attendance, agenda, a section per paper, signatures."""
    from ..services import minutes  # python-docx and pikepdf: only for this command

    seminar = current_seminar()
    details = minutes.MinutesDetails(chair=chair, secretary=secretary, number=number,
                                     place=place)
    if out.suffix.lower() == ".pdf":
        data = minutes.draft_pdf(seminar, details)
    else:
        data = minutes.draft_docx(seminar, details)
    out = out.resolve()
    write_atomically(out, data)
    out.chmod(0o644)
    arrived, expected = minutes.attendance_figures(seminar)
    click.echo(f"{out} ({len(data)} bytes): có mặt {arrived}/{expected}")
