"""The minutes, drafted: opened with python-docx and checked for the decree's heading and
format, the attendance figures and list, and every paper's exact title; the same draft as PDF
through the converter; the page and the command line."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from docx import Document
from docx.shared import Mm
from flask.testing import FlaskCliRunner

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.services import attendance, checkin, minutes, seminars

from .conftest import create_account, post_form

SESSION_DAY = datetime(2021, 5, 17, 0, 45, tzinfo=UTC)  # 07:45 in Vietnam


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
    return "\n".join(parts)


def _world(came: int = 3, absent: int = 2) -> list[User]:
    seminar = seminars.current_seminar()
    people = [create_account(f"d{i}@example.org", f"Đại Biểu Số {i}", position="Trưởng phòng",
                             unit="Thanh tra Sở") for i in range(came + absent)]
    registrations = [attendance.register(seminar, person) for person in people]
    clock.set_now(SESSION_DAY)
    for registration in registrations[:came]:
        checkin.check_in_registration(seminar, registration.id)
    clock.set_now(None)
    return people


def test_the_draft_in_the_decree_format(app_ctx):
    _world(came=3, absent=2)
    seminar = seminars.current_seminar()
    details = minutes.MinutesDetails(chair="Ông Nguyễn Văn Chủ Trì, Giám đốc Sở",
                                     secretary="Bà Lê Thị Thư Ký", number="12",
                                     place="Hội trường Sở Khoa học và Công nghệ")
    document = Document(io.BytesIO(minutes.draft_docx(seminar, details)))
    text = _text(document)

    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297
    assert 20 <= round(section.top_margin.mm) <= 25 and 20 <= round(section.bottom_margin.mm) <= 25
    assert 30 <= round(section.left_margin.mm) <= 35
    assert 15 <= round(section.right_margin.mm) <= 20
    words = [run for p in document.paragraphs for run in p.runs
             if run.text.strip("_ ")]  # not the short rules under the headings
    sizes = {run.font.size.pt for run in words}
    names = {run.font.name for run in words}
    assert names == {"Times New Roman"} and sizes <= {13.0, 14.0}

    heading = document.tables[0]
    left, right = heading.rows[0].cells
    assert "SỞ KHOA HỌC VÀ CÔNG NGHỆ" in left.text and "Số: 12/BB-SKHCN" in left.text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in right.text
    assert "Độc lập - Tự do - Hạnh phúc" in right.text
    assert "Quảng Ngãi, ngày 17 tháng 5 năm 2021" in right.text
    borders = heading._tbl.tblPr.xml
    assert 'w:val="nil"' in borders  # the heading table has no borders
    assert left.width == Mm(72) or left.width > right.width / 2

    titles = [p.text for p in document.paragraphs]
    assert "BIÊN BẢN" in titles
    assert seminar.title in titles
    assert "Thời gian: bắt đầu lúc 08 giờ 00 phút, ngày 17 tháng 5 năm 2021." in text
    assert "Địa điểm: Hội trường Sở Khoa học và Công nghệ." in text
    assert "Chủ trì: Ông Nguyễn Văn Chủ Trì, Giám đốc Sở" in text
    assert "Thư ký: Bà Lê Thị Thư Ký" in text
    assert "có mặt 3/5 đại biểu được triệu tập; vắng mặt 2." in text
    assert "1. Đại Biểu Số 0 – Trưởng phòng, Thanh tra Sở (đến lúc 07:45)" in text
    assert "Vắng mặt: Đại Biểu Số 3, Đại Biểu Số 4." in text
    # Every paper's exact title, in a run of its own, each with a discussion section.
    runs = [run.text for p in document.paragraphs for run in p.runs]
    for assignment in seminar.assignments:
        assert assignment.title in runs, assignment.title
    assert text.count("Ý kiến thảo luận:") == len(seminar.assignments) == 7
    assert "08:15–08:40" in text and "Khai mạc tọa đàm" in text
    assert "IV. KẾT LUẬN" in text
    signatures = document.tables[-1].rows[0].cells
    assert "THƯ KÝ" in signatures[0].text and "Bà Lê Thị Thư Ký" in signatures[0].text
    assert "CHỦ TRÌ" in signatures[1].text and "Giám đốc Sở" in signatures[1].text


def test_an_empty_form_leaves_lines_to_fill(app_ctx):
    seminar = seminars.current_seminar()
    text = _text(Document(io.BytesIO(minutes.draft_docx(seminar, minutes.MinutesDetails()))))
    assert "Số:        /BB-SKHCN" in text
    assert "Chủ trì: ....." in text
    assert "có mặt 0/0" in text
    with pytest.raises(minutes.InvalidInput):
        minutes.draft_docx(seminar, minutes.MinutesDetails(chair="x" * 201))


def test_the_page_streams_docx_and_pdf(app, people, client_as):
    with app.app_context():
        _world(came=1, absent=1)
    office = client_as("office")
    page = office.get("/office/minutes").get_data(as_text=True)
    assert "đã đến 1/2" in page
    response = post_form(office, "/office/minutes",
                         {"chair": "Nguyễn Văn Chủ Trì", "secretary": "Lê Thư Ký",
                          "number": "7", "place": "Phòng họp số 1", "docx": "1"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Content-Disposition"].endswith("bien-ban-toa-dam-2021-05-17.docx")
    text = _text(Document(io.BytesIO(response.data)))
    assert "Số: 7/BB-SKHCN" in text and "có mặt 1/2" in text

    pdf = post_form(office, "/office/minutes", {"chair": "Nguyễn Văn Chủ Trì", "pdf": "1"},
                    page_url="/office/minutes")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    from pypdf import PdfReader

    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "BIÊN BẢN" in pdf_text and "Nguyễn Văn Chủ Trì" in pdf_text
    too_long = post_form(office, "/office/minutes", {"chair": "x" * 300, "docx": "1"},
                         page_url="/office/minutes")
    assert too_long.status_code == 400
    assert "minutes-form" in too_long.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, people["office"]) is not None


def test_a_converter_failure_is_a_clear_message(app, people, client_as, monkeypatch):
    def broken(src, file_type, dst):
        raise RuntimeError("converter down")

    monkeypatch.setattr(minutes.convert, "normalise", broken)
    response = post_form(client_as("office"), "/office/minutes", {"pdf": "1"},
                         page_url="/office/minutes")
    assert response.status_code == 503
    assert "Hiện chưa tạo được bản PDF của biên bản" in response.get_data(as_text=True)


def test_command_line(app, tmp_path):
    with app.app_context():
        _world(came=2, absent=0)
    out = tmp_path / "bien-ban.docx"
    runner = FlaskCliRunner(app)
    result = runner.invoke(args=["minutes", "draft", "--out", str(out), "--chair",
                                 "Nguyễn Văn Chủ Trì", "--secretary", "Lê Thư Ký"])
    assert result.exit_code == 0, result.output
    assert "có mặt 2/2" in result.output
    text = _text(Document(str(out)))
    assert "Chủ trì: Nguyễn Văn Chủ Trì" in text and "có mặt 2/2" in text
    assert not list(tmp_path.glob(".bien-ban.docx.*"))  # no temporary file left
    missing = runner.invoke(args=["minutes", "draft"])
    assert missing.exit_code != 0
    too_long = runner.invoke(args=["minutes", "draft", "--out", str(tmp_path / "x.docx"),
                                   "--chair", "x" * 300])
    assert too_long.exit_code == 1 and "Lỗi" in too_long.output
    assert not (tmp_path / "x.docx").exists()
