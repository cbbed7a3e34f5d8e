"""The minutes of the seminar (biên bản), drafted from what happened, for the clerk to finish
in Word.

A .docx written with python-docx in the administrative format of Nghị định 30/2020/NĐ-CP:
A4, margins top/bottom 20 mm, left 30 mm, right 15 mm, Times New Roman 13–14 pt; the agency
and the national heading side by side in a table without borders, the number and the
place-date line, "BIÊN BẢN", time and place, chair and secretary, attendance ("có mặt 17/20")
with the list of who came, the agenda with each presenter and paper (times from
``services.programme``), an empty section for each paper's discussion, conclusions, and the
signature blocks. The PDF is the same draft through the project's Word→PDF converter.
"""

from __future__ import annotations

import io
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from flask_babel import lazy_gettext as _l

from .. import clock
from ..models import Seminar
from . import attendance, checkin, programme
from .documents import convert
from .errors import InvalidInput, PortalError

log = logging.getLogger(__name__)


class MinutesPdfFailed(PortalError):
    status = 503

FONT = "Times New Roman"
BODY_PT = 14
PARENT_AGENCY = "UBND TỈNH QUẢNG NGÃI"
AGENCY = "SỞ KHOA HỌC VÀ CÔNG NGHỆ"
AGENCY_CODE = "SKHCN"
PLACE_NAME = "Quảng Ngãi"
DOTS = "." * 120
FIELD_LIMIT = 200


@dataclass(frozen=True)
class MinutesDetails:
    """What the Office chooses: the chair, the secretary, the number and the place."""

    chair: str = ""
    secretary: str = ""
    number: str = ""
    place: str = ""

    def cleaned(self) -> MinutesDetails:
        values = {key: " ".join((getattr(self, key) or "").split())
                  for key in ("chair", "secretary", "number", "place")}
        for value in values.values():
            if len(value) > FIELD_LIMIT:
                raise InvalidInput(_l("A field is too long (at most %(n)d characters)."),
                                   n=FIELD_LIMIT)
        return MinutesDetails(**values)


# -- small helpers for python-docx ---------------------------------------------------------


def _font(run, size: float = BODY_PT, bold: bool = False, italic: bool = False) -> None:
    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold = bold
    run.italic = italic
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)


def _para(container, text: str = "", *, size: float = BODY_PT, bold: bool = False,
          italic: bool = False, align=None, space_after: float = 3, indent: bool = False):
    paragraph = container.add_paragraph()
    if text:
        _font(paragraph.add_run(text), size, bold, italic)
    paragraph.alignment = align if align is not None else WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(space_after)
    fmt.line_spacing = 1.15
    if indent:
        fmt.first_line_indent = Mm(10)
    return paragraph


def _runs(paragraph, *parts: tuple[str, dict]) -> None:
    for text, style in parts:
        _font(paragraph.add_run(text), **style)


def _rule(paragraph, width_mm: float) -> None:
    """A short horizontal line under a heading (a bottom border on an empty paragraph)."""
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fmt = paragraph.paragraph_format
    fmt.space_after = Pt(0)
    run = paragraph.add_run("_" * int(width_mm / 2.2))
    _font(run, 8)


def _no_borders(table) -> None:
    properties = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    properties.append(borders)


def _widths(table, *widths) -> None:
    """Fixed column widths that Word and LibreOffice both keep (grid, columns and cells)."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
        for cell in column.cells:
            cell.width = width


def _cell_para(cell, text: str, **style):
    paragraph = cell.paragraphs[0] if not cell.paragraphs[0].text and \
        not cell.paragraphs[0].runs else cell.add_paragraph()
    if text:
        _font(paragraph.add_run(text), **style)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


def _day_month_year(instant) -> str:
    """'ngày 17 tháng 5 năm 2021': days below 10 and months 1–2 with a leading 0 (Nghị định
    30/2020/NĐ-CP, Phụ lục I)."""
    day = clock.local(instant).date()
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _date_line(seminar: Seminar) -> str:
    """'Quảng Ngãi, ngày 17 tháng 5 năm 2021'."""
    return f"{PLACE_NAME}, {_day_month_year(seminar.session_start)}"


def _clock_text(instant) -> str:
    local = clock.local(instant)
    return f"{local.hour:02d} giờ {local.minute:02d} phút"


# -- the document --------------------------------------------------------------------------


def attendance_figures(seminar: Seminar) -> tuple[int, int]:
    """(who came, who was confirmed): "có mặt 17/20"."""
    return checkin.arrived_count(seminar), seminar.confirmed_count()


def build_document(seminar: Seminar, details: MinutesDetails) -> Document:
    details = details.cleaned()
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    document.core_properties.title = f"Biên bản {seminar.title}"
    document.core_properties.author = seminar.organiser
    document.core_properties.language = "vi-VN"

    _heading(document, seminar, details)
    _title(document, seminar)
    _time_and_place(document, seminar, details)
    _participants(document, seminar, details)
    _agenda(document, seminar)
    _conclusions(document, seminar)
    _signatures(document, details)
    return document


def _heading(document, seminar: Seminar, details: MinutesDetails) -> None:
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _no_borders(table)
    _widths(table, Mm(72), Mm(93))
    left, right = table.rows[0].cells
    _cell_para(left, PARENT_AGENCY, size=12)
    _cell_para(left, AGENCY, size=12, bold=True)
    _rule(left.add_paragraph(), 30)
    number = details.number or "       "
    _cell_para(left, f"Số: {number}/BB-{AGENCY_CODE}", size=13)
    _cell_para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
    _cell_para(right, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True)
    _rule(right.add_paragraph(), 60)
    _cell_para(right, _date_line(seminar), size=14, italic=True)


def _title(document, seminar: Seminar) -> None:
    _para(document, "", space_after=6)
    _para(document, "BIÊN BẢN", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
          space_after=0)
    _para(document, seminar.title, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER,
          space_after=0)
    _rule(document.add_paragraph(), 40)
    _para(document, "", space_after=0)


def _time_and_place(document, seminar: Seminar, details: MinutesDetails) -> None:
    _para(document, "I. THỜI GIAN, ĐỊA ĐIỂM", bold=True)
    _para(document, f"Thời gian: bắt đầu lúc {_clock_text(seminar.session_start)}, "
                    f"{_day_month_year(seminar.session_start)}.", indent=True)
    _para(document, f"Địa điểm: {details.place or seminar.venue or DOTS[:60]}.", indent=True)


def _participants(document, seminar: Seminar, details: MinutesDetails) -> None:
    arrived, expected = attendance_figures(seminar)
    _para(document, "II. THÀNH PHẦN THAM DỰ", bold=True)
    chair = _para(document, indent=True)
    _runs(chair, ("Chủ trì: ", {"bold": True}), (details.chair or DOTS[:60], {}))
    secretary = _para(document, indent=True)
    _runs(secretary, ("Thư ký: ", {"bold": True}), (details.secretary or DOTS[:60], {}))
    figures = _para(document, indent=True)
    _runs(figures, ("Đại biểu tham dự: ", {"bold": True}),
          (f"có mặt {arrived}/{expected} đại biểu được triệu tập"
           f"{'; vắng mặt ' + str(expected - arrived) if expected > arrived else ''}.", {}))
    people = checkin.arrivals(seminar)
    if people:
        _para(document, "Danh sách đại biểu có mặt:", indent=True)
        for number, registration in enumerate(people, start=1):
            user = registration.user
            detail = ", ".join(p for p in (user.position, user.unit.name if user.unit else "")
                               if p)
            _para(document, f"{number}. {user.full_name}" + (f" – {detail}" if detail else "")
                  + f" (đến lúc {clock.format_time(registration.checked_in_at)})",
                  indent=True, space_after=0)
    absent = [r for r in attendance.confirmed(seminar) if r.checked_in_at is None]
    if absent:
        _para(document, "", space_after=0)
        _para(document, "Vắng mặt: " + ", ".join(r.user.full_name for r in absent) + ".",
              indent=True)


def _agenda(document, seminar: Seminar) -> None:
    _para(document, "III. NỘI DUNG", bold=True)
    items = programme.programme(seminar)
    papers = [item for item in items if item.kind == "paper"]
    for item in items:
        times = f"{clock.format_time(item.starts_at)}–{clock.format_time(item.ends_at)}"
        if item.kind != "paper":
            paragraph = _para(document, indent=True)
            _runs(paragraph, (f"{times}: ", {"bold": True}), (item.title, {}))
            continue
        number = papers.index(item) + 1
        paragraph = _para(document, indent=True, space_after=0)
        _runs(paragraph, (f"{number}. Tham luận ({times}): ", {"bold": True}),
              (item.title, {"italic": True}))
        presenter = item.presenter or DOTS[:40]
        _para(document, f"Người trình bày: {presenter} – {item.unit}.", indent=True,
              space_after=0)
        _para(document, "Ý kiến thảo luận:", indent=True, space_after=0)
        for _ in range(3):
            _para(document, DOTS[:104], space_after=0)
        _para(document, "", space_after=3)


def _conclusions(document, seminar: Seminar) -> None:
    _para(document, "IV. KẾT LUẬN", bold=True)
    for _ in range(5):
        _para(document, DOTS[:104], space_after=0)
    _para(document, "", space_after=3)
    end = programme.programme_end(seminar)
    _para(document, f"Tọa đàm kết thúc vào lúc {_clock_text(end)} cùng ngày. Biên bản đã "
                    "được thông qua trước các đại biểu tham dự và thống nhất nội dung.",
          indent=True)


def _signatures(document, details: MinutesDetails) -> None:
    _para(document, "", space_after=6)
    table = document.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _no_borders(table)
    _widths(table, Mm(80), Mm(85))
    for cell, role, name in zip(table.rows[0].cells, ("THƯ KÝ", "CHỦ TRÌ"),
                                (details.secretary, details.chair), strict=True):
        _cell_para(cell, role, size=14, bold=True)
        _cell_para(cell, "(Ký, ghi rõ họ tên)", size=13, italic=True)
        for _ in range(4):
            _cell_para(cell, "")
        _cell_para(cell, name or "", size=14, bold=True)



# -- the files -----------------------------------------------------------------------------


def draft_docx(seminar: Seminar, details: MinutesDetails) -> bytes:
    buffer = io.BytesIO()
    build_document(seminar, details).save(buffer)
    return buffer.getvalue()


def draft_pdf(seminar: Seminar, details: MinutesDetails) -> bytes:
    """The same draft as PDF, through the project's Word→PDF converter."""
    data = draft_docx(seminar, details)
    with tempfile.TemporaryDirectory(prefix="minutes-") as folder:
        src, dst = Path(folder) / "bien-ban.docx", Path(folder) / "bien-ban.pdf"
        src.write_bytes(data)
        try:
            convert.normalise(src, "docx", dst)
        except Exception as error:  # noqa: BLE001 - whatever the converter raises
            log.exception("the minutes could not be converted to PDF")
            raise MinutesPdfFailed(
                _l("The PDF of the minutes could not be made just now; download the Word "
                   "file (.docx) instead.")) from error
        return dst.read_bytes()


def filename(seminar: Seminar, suffix: str) -> str:
    day = clock.local(seminar.session_start).strftime("%Y-%m-%d")
    return f"bien-ban-toa-dam-{day}.{suffix}"
