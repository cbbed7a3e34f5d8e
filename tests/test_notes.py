"""Conversion notes, written in English by the checking process, read in Vietnamese."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from portal.notes import translate


@pytest.mark.parametrize("note, vietnamese", [
    ("font substituted: Arial, Tahoma → Liberation Serif",
     "thay phông chữ: Arial, Tahoma → Liberation Serif"),
    ("2 charts left out", "đã bỏ biểu đồ: 2"),
    ("1 external or unreadable picture left out",
     "đã bỏ hình ảnh liên kết hoặc không đọc được: 1"),
    ("JavaScript removed (3)", "đã gỡ bỏ: JavaScript (3)"),
    ("encryption removed", "đã bỏ mã hóa"),
    ("The PDF was slightly damaged and has been repaired.",
     "Tệp PDF bị hỏng nhẹ và đã được sửa."),
    ("unsafe links removed (2)",
     "đã gỡ bỏ: liên kết không phải http, https hoặc mailto (2)"),
    ("fonts not embedded in the PDF (Helvetica, Times-Roman) were embedded",
     "phông chữ chưa được nhúng trong PDF (Helvetica, Times-Roman) đã được nhúng vào, để bản in "
     "giống hệt bản xem"),
    ("font substituted: Calibri → Carlito",
     "phông chữ không có trên máy chủ, đã thay bằng phông gần nhất: Calibri → Carlito"),
    ("something new and unknown", "something new and unknown"),
])
def test_notes_are_translated(app, note, vietnamese):
    with app.test_request_context(), force_locale("vi"):
        assert translate(note) == vietnamese
    with app.test_request_context(), force_locale("en"):
        english = translate(note)
    assert english.isascii() or "→" in english  # no Vietnamese in the English page
