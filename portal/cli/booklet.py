"""``flask booklet build``: the proceedings booklet, its preflight and print editions."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from flask_babel import lazy_gettext as _l

from ..services.booklet import build as booklet_service
from ..services.booklet.editions import build_edition
from ..services.booklet.preflight import preflight
from ..storage import get_storage
from .common import PortalGroup, current_seminar, fail, office_account

booklet_cli = PortalGroup("booklet", help="The proceedings booklet: build it.")


@booklet_cli.command("build")
@click.option("--draft", is_flag=True, help="Build a draft: missing papers get a placeholder.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also copy the booklet to this file (and each print edition beside it, "
                   "as NAME-a4.pdf, NAME-a5-booklet.pdf).")
@click.option("--as", "actor_email", default=None, help="The Office account recorded as builder.")
@click.option("--print", "editions", multiple=True, type=click.Choice(["a4", "a5-booklet"]),
              help="Also make this print edition of the final booklet (repeatable): a4 = "
                   "every page A4, papers on right-hand pages, padded to a multiple of 4; "
                   "a5-booklet = two A5 pages per A4 sheet side, saddle-stitch order.")
def booklet_build(draft: bool, out: Path | None, actor_email: str | None,
                  editions: tuple[str, ...]):
    """Build the booklet (final unless --draft) and record it; print the preflight."""
    seminar = current_seminar()
    if draft and editions:
        fail("Print editions are made from a final booklet: leave out --draft.")
    _echo_preflight(preflight(seminar))
    actor = office_account(actor_email)
    published = None if draft else booklet_service.latest(seminar, final_only=True)
    # click draws the bar on a terminal only; elsewhere it prints the label once.
    with click.progressbar(length=100, label="Booklet", show_eta=False) as bar:
        done = {"n": 0}

        def report(stage: str, fraction: float) -> None:
            target = int(fraction * 100)
            if target > done["n"]:
                bar.update(target - done["n"])
                done["n"] = target

        item = booklet_service.build(seminar, actor, draft=draft, progress=report)
    path = get_storage().path(item.stored_path)
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
        except OSError as error:
            fail(f"could not write {out}: {error}")
    kind = "draft" if item.is_draft else "final"
    if published is not None and item.id == published.id:
        click.echo(_l("Nothing has changed since the last build: the published booklet "
                      "stays as it is (nobody is mailed again)."))
    click.echo(f"Booklet ({kind}): {item.pages} pages, {item.size} bytes, sha256 {item.sha256}")
    click.echo(f"Stored: {item.stored_path}" + (f"; copied to {out}" if out else ""))
    for part in booklet_service.contents_of(item):
        revision = f"revision {part['revision']}" if part.get("revision") else "missing"
        click.echo(f"  ({part['position']}) page {part.get('start_page')}: {revision}")
    for edition in editions:
        made = build_edition(item, edition, actor)
        click.echo(f"Print edition {edition}: {made['pages']} pages ({made['blanks']} blank), "
                   f"{made['size']} bytes, sha256 {made['sha256']}")
        click.echo(f"Stored: {made['path']}")
        if out is not None:
            target = out.with_name(f"{out.stem}-{edition}{out.suffix or '.pdf'}")
            try:
                shutil.copyfile(get_storage().path(made["path"]), target)
            except OSError as error:
                fail(f"could not write {target}: {error}")
            click.echo(f"Copied to {target}")


def _echo_preflight(rows) -> None:
    """The preflight as the print shop reads it: sizes, fonts, left-hand starts, notes."""
    click.echo("Preflight:")
    for row in rows:
        position = row.assignment.position
        if row.revision is None:
            click.echo(f"  ({position}) missing: a placeholder page in a draft")
            continue
        sizes = ", ".join(row.size_labels) or "?"
        click.echo(f"  ({position}) {row.pages} pages, {sizes}, starts on page "
                   f"{row.start_page}{' (left-hand page)' if row.left_hand else ''}")
        if row.unembedded:
            click.echo(f"      fonts not embedded: {', '.join(row.unembedded)}")
        for note in row.notes:
            click.echo(f"      note: {note}")
    left = [row.assignment.position for row in rows if row.revision and row.left_hand]
    fonts = [row.assignment.position for row in rows if row.unembedded]
    click.echo(f"  papers starting on a left-hand page: {', '.join(map(str, left)) or 'none'} "
               "(the a4 print edition moves them to right-hand pages)")
    click.echo(f"  papers with fonts not embedded: {', '.join(map(str, fonts)) or 'none'}"
               + (" (a final booklet is refused)" if fonts else ""))
