"""Accounts: creating, importing, authenticating, changing passwords."""

from __future__ import annotations

import csv
import functools
import io
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Unit, User
from . import audit
from .errors import InvalidInput

MIN_PASSWORD = 8


@functools.cache
def _dummy_user() -> User:
    """A real hash to compare against when the email is unknown, so both paths take the same
    time. Computed on the first such login, not at import (a hash costs ~0.15 s)."""
    dummy = User(email="", full_name="", password_hash="")
    dummy.set_password(secrets.token_hex(8))
    return dummy


def normalise_email(email: str) -> str:
    from email_validator import EmailNotValidError, validate_email  # loaded on first use

    value = (email or "").strip()
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(_l("“%(value)s” is not a valid email address."), value=value) from None
    return checked.normalized.lower()


def find_by_email(email: str) -> User | None:
    value = (email or "").strip().lower()
    if not value:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == value))


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    if user is None:
        _dummy_user().check_password(password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(9)


def _find_unit(name: str | None) -> Unit | None:
    if not name:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.name == name.strip()))
    if unit is None:
        names = ", ".join(db.session.scalars(select(Unit.name).order_by(Unit.id)))
        raise InvalidInput(
            _l("There is no unit named “%(value)s”. The units are: %(names)s"),
            value=name, names=names,
        )
    return unit


@dataclass
class NewUser:
    email: str
    name: str
    password: str | None = None
    position: str = ""
    unit: str | None = None
    office: bool = False


def _build(spec: NewUser) -> tuple[User, str, bool]:
    email = normalise_email(spec.email)
    name = (spec.name or "").strip()
    if not name:
        raise InvalidInput(_l("A name is required."))
    if len(name) > 200:
        raise InvalidInput(_l("The name is too long (at most 200 characters)."))
    if find_by_email(email) is not None:
        raise InvalidInput(_l("An account with the email %(value)s exists already."), value=email)
    generated = not spec.password
    password = spec.password or generate_password()
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(_l("The password must have at least %(n)d characters."),
                           n=MIN_PASSWORD)
    user = User(
        email=email,
        full_name=name,
        position=(spec.position or "").strip()[:200],
        unit=_find_unit(spec.unit),
        is_office=bool(spec.office),
        active=True,
    )
    user.set_password(password)
    user.must_change_password = generated
    return user, password, generated


def create_user(spec: NewUser, actor: User | None = None) -> tuple[User, str]:
    user, password, _generated = _build(spec)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor, target=user.email, office=user.is_office)
    db.session.commit()
    return user, password


_TRUE = {"1", "true", "yes", "y", "x", "có", "co"}
_FALSE = {"", "0", "false", "no", "n", "không", "khong"}


@dataclass
class ImportedRow:
    """One account of an import, as plain values (kept after a dry run's rollback)."""

    line: int
    email: str
    name: str
    position: str
    unit: str
    office: bool
    generated_password: str | None


def import_users(text: str, actor: User | None = None, dry_run: bool = False
                 ) -> list[tuple[User, str | None]] | list[ImportedRow]:
    """Import a UTF-8 CSV with header ``email,name`` and optional ``password,position,unit,
    office``. All or nothing: a bad row raises InvalidInput naming its line, and nothing is
    stored. Returns (user, generated password or None) per row.

    ``dry_run``: the same checks, every row built and flushed, then rolled back: returns what
    would be imported as ``ImportedRow`` values (the preview shown before "Import")."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    if "email" not in fields or "name" not in fields:
        raise InvalidInput(_l("The first line of the CSV must name the columns, with at least "
                              "“email” and “name”."))
    allowed = {"email", "name", "password", "position", "unit", "office"}
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise InvalidInput(_l("Unknown columns in the CSV: %(names)s. Allowed: email, name, "
                              "password, position, unit, office."), names=", ".join(unknown))
    reader.fieldnames = fields
    results: list[tuple[User, str | None]] = []
    lines: list[int] = []
    seen: set[str] = set()
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InvalidInput(_l("Line %(line)d: more values than columns."), line=line)
            values = {k: (v or "").strip() for k, v in row.items()}
            if not any(values.values()):
                continue
            office_text = values.get("office", "").lower()
            if office_text not in _TRUE | _FALSE:
                raise InvalidInput(_l("Line %(line)d: “office” must be yes or no."), line=line)
            spec = NewUser(
                email=values.get("email", ""),
                name=values.get("name", ""),
                password=values.get("password") or None,
                position=values.get("position", ""),
                unit=values.get("unit") or None,
                office=office_text in _TRUE,
            )
            try:
                user, password, generated = _build(spec)
            except InvalidInput as error:
                raise InvalidInput(_l("Line %(line)d: %(reason)s"), line=line,
                                   reason=str(error)) from None
            if user.email in seen:
                raise InvalidInput(_l("Line %(line)d: %(value)s appears twice in the file."),
                                   line=line, value=user.email)
            seen.add(user.email)
            db.session.add(user)
            results.append((user, password if generated else None))
            lines.append(line)
        if not results:
            raise InvalidInput(_l("The CSV holds no accounts."))
        db.session.flush()
        if dry_run:
            rows = [ImportedRow(line=line, email=user.email, name=user.full_name,
                                position=user.position, unit=user.unit.name if user.unit else "",
                                office=user.is_office, generated_password=password)
                    for line, (user, password) in zip(lines, results, strict=True)]
            db.session.rollback()
            return rows
        audit.record("user.import", actor, count=len(results))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return results


MAX_XLSX_ROWS = 5000


def xlsx_to_csv(data: bytes) -> str:
    """The first sheet of an Excel workbook (.xlsx) as CSV text, row for row (so the line
    numbers of ``import_users`` are the sheet's row numbers)."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInput(_l("This file is not an Excel workbook (.xlsx) that can be read. "
                              "Save it again as .xlsx or as CSV (UTF-8).")) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise InvalidInput(_l("The workbook has no sheet."))
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_XLSX_ROWS:
                raise InvalidInput(_l("The sheet has more than %(n)d rows."), n=MAX_XLSX_ROWS)
            cells = ["" if value is None else _cell_text(value) for value in row]
            while cells and cells[-1] == "":
                cells.pop()
            writer.writerow(cells)
        return out.getvalue()
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def change_password(user: User, current: str, new: str) -> None:
    if not user.check_password(current or ""):
        raise InvalidInput(_l("The current password is not right."))
    if len(new or "") < MIN_PASSWORD:
        raise InvalidInput(_l("The password must have at least %(n)d characters."),
                           n=MIN_PASSWORD)
    set_password(user, new)  # every other session and remember cookie ends here
    audit.record("user.change_password", user, target=user.email)
    db.session.commit()


def end_sessions(user: User) -> None:
    """Log the account out everywhere (logout ends every session, not only this browser's)."""
    user.revoke_sessions()
    db.session.commit()


def set_password(user: User, password: str, must_change: bool = False) -> None:
    """Every password set or reset goes through here: the old sessions and remember cookies
    of the account stop working (``session_version``)."""
    user.set_password(password)
    user.must_change_password = must_change
    user.revoke_sessions()


def active_offices_besides(excluding: User) -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.is_office.is_(True), User.active.is_(True), User.id != excluding.id)) or 0


def set_active(user: User, active: bool, actor: User | None = None) -> User:
    """Deactivate (or reactivate) an account; deactivation ends its sessions at once. Nobody
    deactivates their own account, and the last active Office account stays."""
    if not active and actor is not None and actor.id == user.id:
        raise InvalidInput(_l("You cannot deactivate your own account."))
    if not active and user.is_office and active_offices_besides(user) == 0:
        raise InvalidInput(_l("%(name)s is the only active Office account; it cannot be "
                              "deactivated."), name=user.full_name)
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.revoke_sessions()
    audit.record("user.activate" if active else "user.deactivate", actor, target=user.email)
    db.session.commit()
    return user


def set_locale(user: User, lang: str) -> None:
    """Remember the language ``user`` chose for the next visit."""
    if user.locale != lang:
        user.locale = lang
        db.session.commit()
