"""``flask seminar …``, ``flask users …``: thin wrappers over the services."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import clock, policy
from .extensions import db
from .services import accounts, attendance, seminars
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
    """Set the deadline: "DD/MM/YYYY[ HH:MM[:SS]]" in Vietnam time (the first late instant; a
    date alone means 00:00)."""
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
        attendance.set_capacity(seminar, value)
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
    role = policy.role(user)
    click.echo(f"Created {user.email} ({user.full_name}, {role})")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_user(email: str):
    """Deactivate an account: it cannot log in, and every session of it ends at once."""
    user = accounts.find_by_email(email)
    if user is None:
        fail(f"không có tài khoản {email} / no account {email}")
    try:
        accounts.set_active(user, False)
    except PortalError as error:
        db.session.rollback()
        fail(str(error))
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
    except PortalError as error:
        fail(str(error))
    try:
        results = accounts.import_users(text)
    except PortalError as error:
        fail(str(error))
    click.echo(f"Imported {len(results)} accounts.")
    for user, generated in results:
        if generated:
            click.echo(f"  {user.email}  {generated}")


submissions_cli = AppGroup("submissions", help="Papers: add one on a unit's behalf, list them.")
storage_cli = AppGroup("storage", help="The upload folder: check it against the database.")


@submissions_cli.command("add")
@click.argument("position", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "actor_email", default=None,
              help="The Office account to record as uploader (default: the first one).")
def submissions_add(position: int, file: Path, actor_email: str | None):
    """Add FILE as a new revision of paper POSITION, for the Office, at any time."""
    from .services import submissions

    seminar = _seminar()
    actor = None
    if actor_email:
        actor = accounts.find_by_email(actor_email)
        if not policy.is_office(actor):
            fail(f"{actor_email} is not an Office account.")
    try:
        result = submissions.add_from_file(seminar, position, file, actor)
    except PortalError as error:
        fail(str(error))
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
    from .services import submissions

    rows = submissions.listing(_seminar())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"({row['position']}) {row['status']:<10} {row['unit']}: "
                   f"{len(row['revisions'])} revision(s)")


@storage_cli.command("check")
@click.option("--fix", is_flag=True,
              help="Remove files that no row points at, and temporary files left by a process "
                   "that has gone.")
def storage_check(fix: bool):
    """Every revision's file exists with its sha256; no file lacks a row."""
    from .services import integrity
    from .storage import get_storage

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


booklet_cli = AppGroup("booklet", help="The proceedings booklet: build it.")


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
    import shutil

    from .services import booklet as booklet_service
    from .storage import get_storage

    seminar = _seminar()
    if draft and editions:
        fail("Print editions are made from a final booklet: leave out --draft.")
    _echo_preflight(booklet_service.preflight(seminar))
    actor = accounts.find_by_email(actor_email) if actor_email else None
    if actor_email and not policy.is_office(actor):
        fail(f"{actor_email} is not an Office account.")
    # click draws the bar on a terminal only; elsewhere it prints the label once.
    with click.progressbar(length=100, label="Booklet", show_eta=False) as bar:
        done = {"n": 0}

        def report(stage: str, fraction: float) -> None:
            target = int(fraction * 100)
            if target > done["n"]:
                bar.update(target - done["n"])
                done["n"] = target

        try:
            item = booklet_service.build(seminar, actor, draft=draft, progress=report)
        except PortalError as error:
            fail(str(error))
    path = get_storage().path(item.stored_path)
    if out is not None:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
        except OSError as error:
            fail(f"could not write {out}: {error}")
    kind = "draft" if item.is_draft else "final"
    click.echo(f"Booklet ({kind}): {item.pages} pages, {item.size} bytes, sha256 {item.sha256}")
    click.echo(f"Stored: {item.stored_path}" + (f"; copied to {out}" if out else ""))
    for part in booklet_service.contents_of(item):
        revision = f"revision {part['revision']}" if part.get("revision") else "missing"
        click.echo(f"  ({part['position']}) page {part.get('start_page')}: {revision}")
    for edition in editions:
        try:
            made = booklet_service.build_edition(item, edition, actor)
        except PortalError as error:
            fail(str(error))
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


def register_cli(app: Flask) -> None:
    app.cli.add_command(seminar_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(submissions_cli)
    app.cli.add_command(storage_cli)
    app.cli.add_command(attendees_cli)
    app.cli.add_command(remind)
    app.cli.add_command(booklet_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(minutes_cli)


attendees_cli = AppGroup("attendees", help="The attendee list: list it, add or remove people.")


def _user_by_email(email: str):
    user = accounts.find_by_email(email)
    if user is None:
        fail(f"there is no account with the email {email!r}.")
    return user


@attendees_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8, header row).")
def attendees_list(as_json: bool, as_csv: bool):
    """Confirmed people first, then the waiting list in order."""
    from .services import attendance

    if as_json and as_csv:
        fail("choose one of --json and --csv.")
    seminar = _seminar()
    if as_csv:
        click.echo(attendance.listing_csv(seminar), nl=False)
        return
    rows = attendance.listing(seminar)
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
    from .services import attendance

    seminar = _seminar()
    user = _user_by_email(email)
    try:
        registration = attendance.register(seminar, user, by_office=True)
    except PortalError as error:
        fail(str(error))
    if registration.status == attendance.CONFIRMED:
        click.echo(f"Confirmed: {user.email} ({user.full_name})")
    else:
        place = attendance.waitlist_position(registration)
        click.echo(f"Waiting list, place {place}: {user.email} ({user.full_name})")


@attendees_cli.command("remove")
@click.argument("email")
def attendees_remove(email: str):
    """Take the account EMAIL off the list; a freed seat goes to the first in line."""
    from .services import attendance

    seminar = _seminar()
    user = _user_by_email(email)
    registration = user.registration_for(seminar)
    if registration is None:
        fail(f"{user.email} is not on the attendee list.")
    try:
        result = attendance.remove(registration)
    except PortalError as error:
        fail(str(error))
    click.echo(f"Removed: {result.email} ({result.name}, was {result.was.value})")
    for promoted in result.promoted:
        click.echo(f"Promoted from the waiting list: {promoted.user.email} "
                   f"({promoted.user.full_name})")


@click.command("remind")
@with_appcontext
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Only when the deadline is this many days away or less.")
def remind(days: int | None):
    """Mail every unit whose paper is still missing while its deadline is ahead (for cron).

    Never twice for the same paper, deadline and day (Vietnam time); prints what was sent and
    what was skipped."""
    from .services import notifications

    outcomes = notifications.remind(_seminar(), days=days)
    sent = 0
    for item in outcomes:
        label = f"paper {item.position} ({item.unit})"
        deadline = f"deadline before {clock.format_datetime(item.deadline)}"
        if item.status == "sent":
            sent += 1
            click.echo(f"sent     {label}, {deadline}: {', '.join(item.recipients)}")
            if item.failed:
                click.echo(f"         failed for: {', '.join(item.failed)}")
        elif item.status == "failed":
            click.echo(f"FAILED   {label}, {deadline}: {', '.join(item.failed)} "
                       "(see /office/mail; will be tried again on the next run)")
        else:
            click.echo(f"skipped  {label}: {item.reason}")
    click.echo(f"{sent} reminder(s) sent.")
    if any(item.status == "failed" for item in outcomes):
        sys.exit(1)


backup_cli = AppGroup("backup", help="Backups: a consistent snapshot of the database and every "
                                     "stored file, and its restore.")


@backup_cli.command("create")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The archive to write (.tar.gz); written whole or not at all.")
def backup_create(out: Path):
    """Snapshot the database (SQLite backup API or pg_dump) and copy every file its rows
    reference, with a manifest of sha256s."""
    from .services import backup
    from .storage import get_storage

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
    from flask import current_app

    from .services import backup, integrity
    from .storage import get_storage

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


minutes_cli = AppGroup("minutes", help="The minutes of the seminar (biên bản), drafted.")


@minutes_cli.command("draft")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Where to write the .docx (or .pdf, converted from the same draft).")
@click.option("--chair", default="", help="The chair's name (and title).")
@click.option("--secretary", default="", help="The secretary's name.")
@click.option("--number", default="", help="The number printed as “Số: N/BB-SKHCN”.")
@click.option("--place", default="", help="The place of the meeting (default: the venue).")
def minutes_draft(out: Path, chair: str, secretary: str, number: str, place: str):
    """Write the draft minutes: attendance, agenda, a section per paper, signatures."""
    from .services import minutes

    seminar = _seminar()
    details = minutes.MinutesDetails(chair=chair, secretary=secretary, number=number,
                                     place=place)
    try:
        if out.suffix.lower() == ".pdf":
            data = minutes.draft_pdf(seminar, details)
        else:
            data = minutes.draft_docx(seminar, details)
    except PortalError as error:
        fail(str(error))
    from .services.convert import write_atomically

    out = out.resolve()
    write_atomically(out, data)
    out.chmod(0o644)
    arrived, expected = minutes.attendance_figures(seminar)
    click.echo(f"{out} ({len(data)} bytes): có mặt {arrived}/{expected}")
