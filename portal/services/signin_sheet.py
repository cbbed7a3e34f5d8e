"""The printable sign-in sheet ("DANH SÁCH ĐẠI BIỂU THAM DỰ"): the confirmed attendees in an
A4 table made with WeasyPrint, set in the bundled Liberation Serif (the one ``@font-face``
block of ``weasy``).

Rendered through ``weasy``: one FontConfiguration shared by the stylesheet and the render,
and a fetcher that serves the bundled font files and nothing else.
"""

from __future__ import annotations

from flask import render_template

from ..models import Seminar
from . import attendance, weasy


def render_html(seminar: Seminar, with_times: bool = False) -> str:
    """``with_times``: after the door, pre-filled with each person's check-in time."""
    people = attendance.entries(seminar)
    people = [row for row in people if row["status"] == attendance.CONFIRMED.value]
    arrived = sum(1 for row in people if row.get("checked_in_at"))
    return render_template("pdf/signin_sheet.html", seminar=seminar, people=people,
                           font_face=weasy.font_face_css(), with_times=with_times, arrived=arrived)


def render_pdf(seminar: Seminar, with_times: bool = False) -> bytes:
    """The sheet through the one WeasyPrint setup (shared FontConfiguration); ``with_times``:
    pre-filled with each person's check-in time."""
    return weasy.write_pdf(weasy.render(render_html(seminar, with_times), []))
