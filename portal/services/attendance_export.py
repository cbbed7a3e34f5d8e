"""The attendee list leaving the portal: the command line's listing (JSON or CSV), the
Office's CSV and Excel (.xlsx, openpyxl) downloads. Who registered, who came and when, in
Vietnam time; column names in the reader's language. Every text cell is neutralised
(``cell``) so a spreadsheet never runs it as a formula."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from .. import clock
from ..models import Seminar
from . import attendance
from .spreadsheet import cell, excel_csv

LISTING_FIELDS = ("email", "name", "unit", "status", "waitlist_position", "registered_at")



def listing(seminar: Seminar) -> list[dict]:
    """The list as plain data (``flask attendees list --json``): confirmed first, then the
    waiting list in order; ``registered_at`` in ISO 8601 with the +07:00 offset."""
    return [
        {
            "email": row["email"],
            "name": row["name"],
            "unit": row["unit"],
            "status": row["status"],
            "waitlist_position": row["waitlist_position"],
            "registered_at": clock.isoformat_local(row["registered_at"]),
        }
        for row in attendance.entries(seminar)
    ]


def listing_csv(seminar: Seminar) -> str:
    """``listing`` as CSV text (no BOM), header row first."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LISTING_FIELDS, lineterminator="\n",
                            quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for row in listing(seminar):
        writer.writerow({k: "" if v is None else cell(v) if isinstance(v, str) else v
                         for k, v in row.items()})
    return buffer.getvalue()


def _header() -> list[str]:
    return [_("No."), _("Full name"), _("Position"), _("Unit"), _("Email"), _("Status"),
            _("Place on the waiting list"), _("Registered at (Vietnam time)"),
            _("Checked in at (Vietnam time)")]


def _rows(entries: list[dict]) -> list[list]:
    """One row per person of ``attendance.entries``, numbered, cells neutralised."""
    return [
        [
            number, cell(row["name"]), cell(row["position"]), cell(row["unit"]),
            "" if row["user"].walk_in else cell(row["email"]),  # no address at the door
            str(attendance.STATUS_LABELS[row["registration"].status]),
            row["waitlist_position"] or "",
            clock.format_datetime(row["registered_at"]),
            clock.format_datetime(row["checked_in_at"]),
        ]
        for number, row in enumerate(entries, start=1)
    ]


def export_csv(seminar: Seminar) -> bytes:
    """The Office's export: UTF-8 with a BOM (so Excel shows Vietnamese), CRLF line ends,
    column names in the reader's language, times in Vietnam time."""
    return excel_csv([_header(), *_rows(attendance.entries(seminar))])


def export_xlsx(seminar: Seminar) -> bytes:
    """The same list as an Excel workbook, with the count of who came under it."""
    from openpyxl import Workbook  # imported here: 0.1 s that only this download needs
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Attendees")[:31]
    sheet.append(_header())
    for heading in sheet[1]:
        heading.font = Font(bold=True)
    entries = attendance.entries(seminar)
    for row in _rows(entries):
        sheet.append(row)
    arrived = sum(1 for row in entries if row["checked_in_at"])
    confirmed = sum(1 for row in entries if row["status"] == attendance.CONFIRMED.value)
    sheet.append([])
    sheet.append(["", _("%(arrived)s/%(expected)s arrived", arrived=arrived,
                        expected=confirmed)])
    for index, width in enumerate((6, 28, 22, 40, 30, 18, 12, 22, 22), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
