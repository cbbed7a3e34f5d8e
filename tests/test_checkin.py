"""Check-in at the door: the personal code (shown, mailed, changed on re-registration, none
for the waiting list), checking in once by code or by name, refusals with their reason,
walk-ins within the cap, and the attendance exports (CSV, Excel, PDF with times)."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import MailLog, Registration, User
from portal.services import attendance, checkin, checkin_code, seminars
from portal.services.errors import SeminarFull

from .conftest import create_account, post_form

SESSION_DAY = datetime(2021, 5, 18, 0, 30, tzinfo=UTC)  # 07:30 in Vietnam


def _people(n: int, prefix: str = "p") -> list[User]:
    return [create_account(f"{prefix}{i:02d}@example.org", f"Người Số {i:02d}",
                           position="Chuyên viên") for i in range(n)]


def _token(registration) -> str:
    token = checkin_code.token_for(registration)
    assert token
    return token


# -- the code -----------------------------------------------------------------------------


def test_confirmed_people_get_a_code_the_waitlisted_none(app_ctx):
    seminar = seminars.current_seminar()
    attendance.set_capacity(seminar, 1)
    first, second = _people(2)
    confirmed = attendance.register(seminar, first)
    waiting = attendance.register(seminar, second)
    assert checkin_code.token_for(waiting) is None
    token = _token(confirmed)
    assert "<svg" in checkin_code.qr_svg(token)
    assert checkin_code.qr_png(token).startswith(b"\x89PNG")
    with pytest.raises(checkin.CheckInRefused, match="danh sách chờ|waiting list"):
        checkin.check_in_token(seminar, checkin_code.serializer().dumps(
            [seminar.id, waiting.id, waiting.checkin_nonce]))


def test_code_changes_when_the_person_cancels_and_registers_again(app_ctx):
    seminar = seminars.current_seminar()
    (person,) = _people(1)
    old = _token(attendance.register(seminar, person))
    attendance.cancel(seminar, person)
    with pytest.raises(checkin.CheckInRefused) as refused:
        checkin.check_in_token(seminar, old)
    assert "hủy" in str(refused.value)  # "…đã bị hủy…": the registration was cancelled
    new = _token(attendance.register(seminar, person))
    assert new != old
    assert checkin.check_in_token(seminar, new).name == person.full_name
    with pytest.raises(checkin.CheckInRefused):
        checkin.check_in_token(seminar, old)


def test_forged_and_foreign_codes_are_refused(app_ctx):
    seminar = seminars.current_seminar()
    (person,) = _people(1)
    registration = attendance.register(seminar, person)
    token = _token(registration)
    with pytest.raises(checkin.CheckInRefused, match="không phải mã điểm danh"):
        checkin.check_in_token(seminar, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(checkin.CheckInRefused, match="không phải mã điểm danh"):
        checkin.check_in_token(seminar, "https://example.org/not-a-code")
    other = checkin_code.serializer().dumps([seminar.id + 1, registration.id,
                                          registration.checkin_nonce])
    with pytest.raises(checkin.CheckInRefused, match="tọa đàm khác"):
        checkin.check_in_token(seminar, other)
    stale = checkin_code.serializer().dumps([seminar.id, registration.id, "0" * 16])
    with pytest.raises(checkin.CheckInRefused, match="không còn hiệu lực"):
        checkin.check_in_token(seminar, stale)
    assert checkin.arrived_count(seminar) == 0


def test_checked_in_once_and_the_earliest_time_wins(app_ctx):
    seminar = seminars.current_seminar()
    office = create_account("office@example.org", "Văn Phòng", office=True)
    (person,) = _people(1)
    registration = attendance.register(seminar, person)
    clock.set_now(SESSION_DAY)
    first = checkin.check_in_token(seminar, _token(registration), office)
    assert not first.already and first.checked_in_at == SESSION_DAY
    clock.set_now(SESSION_DAY + timedelta(minutes=5))
    again = checkin.check_in_registration(seminar, registration.id, office)
    assert again.already and again.checked_in_at == SESSION_DAY
    # A phone that was offline sends a check made before the first one: the earliest wins.
    earlier = SESSION_DAY - timedelta(minutes=2)
    late_sync = checkin.check_in_token(seminar, _token(registration), office, client_at=earlier)
    assert late_sync.already and late_sync.checked_in_at == earlier
    # A client clock far off is not believed.
    checkin.check_in_token(seminar, _token(registration), office,
                           client_at=SESSION_DAY - timedelta(days=3))
    assert db.session.get(Registration, registration.id).checked_in_at == earlier
    assert checkin.arrived_count(seminar) == 1


def test_walk_in_only_while_a_seat_is_free(app_ctx):
    seminar = seminars.current_seminar()
    attendance.set_capacity(seminar, 2)
    office = create_account("office@example.org", "Văn Phòng", office=True)
    (person,) = _people(1)
    attendance.register(seminar, person)
    walk_in = checkin.add_walk_in(seminar, "  Hoàng   Khách ", "Phóng viên", "Báo Quảng Ngãi",
                                  office)
    assert walk_in.user.full_name == "Hoàng Khách"
    assert walk_in.user.walk_in and walk_in.checked_in_at is not None
    assert not walk_in.user.check_password("")
    with pytest.raises(SeminarFull, match="2"):
        checkin.add_walk_in(seminar, "Người Thứ Ba", "", "", office)
    with pytest.raises(checkin.InvalidInput):
        checkin.add_walk_in(seminar, "   ", "", "", office)
    assert [row["name"] for row in checkin.state(seminar)["people"]] == [
        "Người Số 00", "Hoàng Khách"]  # by given name, diacritics folded: "00" < "Khách"
    assert seminar.confirmed_count() == 2
    assert checkin.state(seminar)["arrived"] == 1
    assert db.session.scalar(select(User).where(User.full_name == "Người Thứ Ba")) is None


# -- the pages ----------------------------------------------------------------------------


def test_register_page_shows_the_code_mail_attaches_it(app, people, client_as):
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 1)
        presenter = db.session.get(User, people["presenter"])
        attendance.register(seminar, presenter)
    member = client_as("member")
    assert post_form(member, "/register").status_code == 302
    page = member.get("/register").get_data(as_text=True)
    assert 'id="checkin-code"' not in page  # waiting: no code
    assert "danh sách chờ" in page
    presenter_page = client_as("presenter").get("/register").get_data(as_text=True)
    assert 'id="checkin-code"' in presenter_page and "<svg" in presenter_page
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.cancel(seminar, db.session.get(User, people["presenter"]))
        (row,) = db.session.scalars(select(MailLog).where(MailLog.kind == "promoted"))
        assert row.recipient == "member@example.org"
        (attachment,) = json.loads(row.attachments)
        assert attachment["filename"] == "ma-diem-danh.png"
        assert attachment["mimetype"] == "image/png"
        assert base64.b64decode(attachment["data"]).startswith(b"\x89PNG")


def _json_post(client, url, payload, token):
    return client.post(url, data=json.dumps(payload), content_type="application/json",
                       headers={"X-CSRFToken": token})


def test_door_json_endpoints(app, people, client_as):
    with app.app_context():
        seminar = seminars.current_seminar()
        presenter = db.session.get(User, people["presenter"])
        registration = attendance.register(seminar, presenter)
        token, registration_id = _token(registration), registration.id
        expected = seminar.confirmed_count()
    office = client_as("office")
    page = office.get("/office/checkin")
    assert page.status_code == 200
    assert "camera=(self)" in page.headers["Permissions-Policy"]
    html = page.get_data(as_text=True)
    assert f"đã đến 0/{expected}" in html and "Trần Văn Trình Bày" in html
    assert "vendor/jsqr/jsQR.js" in html and "<script>" not in html
    csrf = re.search(r'data-csrf="([^"]+)"', html).group(1)

    clock.set_now(SESSION_DAY + timedelta(minutes=5))  # 07:35: the phone's 07:31 is believed
    first = _json_post(office, "/office/checkin/check",
                       {"token": token, "client_id": "a1", "at": "2021-05-18T07:31:00+07:00"},
                       csrf)
    assert first.status_code == 200
    body = first.get_json()
    assert body["status"] == "checked_in" and body["client_id"] == "a1"
    assert body["arrived"] == 1
    again = _json_post(office, "/office/checkin/check",
                       {"registration_id": registration_id, "client_id": "a2"}, csrf)
    assert again.get_json()["status"] == "already"
    assert again.get_json()["message"] == "Trần Văn Trình Bày: đã điểm danh lúc 07:31."
    refused = _json_post(office, "/office/checkin/check", {"token": "rác", "client_id": "a3"},
                         csrf)
    assert refused.status_code == 422
    assert refused.get_json()["message"] == "Đây không phải mã điểm danh của cổng thông tin."
    empty = _json_post(office, "/office/checkin/check", {"client_id": "a4"}, csrf)
    assert empty.status_code == 400
    garbage = office.post("/office/checkin/check", data=b"\xff\x00",
                          content_type="application/json", headers={"X-CSRFToken": csrf})
    assert garbage.status_code == 400
    unknown = _json_post(office, "/office/checkin/check", {"registration_id": 99999}, csrf)
    assert unknown.status_code == 422
    for bad in (10**20, -1, True, "12", None, [1]):
        answer = _json_post(office, "/office/checkin/check", {"registration_id": bad}, csrf)
        assert answer.status_code == 400, bad
        assert answer.get_json()["message"] == "Hãy quét mã hoặc chọn một tên."
    state = office.get("/office/checkin/state.json").get_json()
    assert state["arrived"] == 1 and state["expected"] == expected and state["csrf"]
    assert [p["checked_in_at"] for p in state["people"] if p["id"] == registration_id] \
        == ["07:31"]
    # No CSRF header: refused, nothing changes.
    no_csrf = office.post("/office/checkin/check", json={"registration_id": registration_id})
    assert no_csrf.status_code == 400
    # Not the Office: forbidden.
    assert client_as("member").get("/office/checkin/state.json").status_code == 403


def test_walk_in_form(app, people, client_as):
    with app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 1)
    office = client_as("office")
    response = post_form(office, "/office/checkin/walk-in",
                         {"name": "Đặng Văn Khách", "position": "Phóng viên",
                          "unit": "Đài Phát thanh - Truyền hình Quảng Ngãi"},
                         page_url="/office/checkin", follow_redirects=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Đã thêm và điểm danh Đặng Văn Khách." in page and "đã đến 1/1" in page
    full = post_form(office, "/office/checkin/walk-in", {"name": "Người Thêm"},
                     page_url="/office/checkin")
    assert full.status_code == 409
    assert "Đã hết 1 chỗ" in full.get_data(as_text=True)
    empty = post_form(office, "/office/checkin/walk-in", {"name": ""},
                      page_url="/office/checkin")
    assert empty.status_code == 400
    with app.app_context():
        assert seminars.current_seminar().confirmed_count() == 1
    csv_rows = _csv_rows(office.get("/office/attendees.csv").data)
    (walk_in,) = [row for row in csv_rows if "Đặng Văn Khách" in row]
    assert walk_in[4] == ""  # no made-up address in the export


# -- attendance afterwards ----------------------------------------------------------------


def _csv_rows(data: bytes) -> list[list[str]]:
    """The export read as a spreadsheet reads it (every cell is quoted)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_exports_show_who_came_and_when(app, people, client_as):
    with app.app_context():
        seminar = seminars.current_seminar()
        came = db.session.get(User, people["presenter"])
        absent = db.session.get(User, people["other_presenter"])
        registration = attendance.register(seminar, came)
        attendance.register(seminar, absent)
        clock.set_now(SESSION_DAY + timedelta(minutes=12))  # 07:42 in Vietnam
        checkin.check_in_registration(seminar, registration.id)
        clock.set_now(None)
    office = client_as("office")
    page = office.get("/office/attendees").get_data(as_text=True)
    assert 'data-checked-in="07:42"' in page
    assert page.count('class="badge badge-received arrival"') == 1

    rows = _csv_rows(office.get("/office/attendees.csv").data)
    assert rows[0][-1] == "Giờ đến (giờ Việt Nam)"
    assert [row for row in rows if "Trần Văn Trình Bày" in row][0][-1] == "18/05/2021 07:42"
    assert [row for row in rows if "Lê Thị Khác" in row][0][-1] == ""

    from openpyxl import load_workbook

    response = office.get("/office/attendees.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-1] == "Giờ đến (giờ Việt Nam)"
    by_name = {row[1]: row for row in rows[1:] if row and row[1]}
    assert by_name["Trần Văn Trình Bày"][-1] == "18/05/2021 07:42"
    assert by_name["Lê Thị Khác"][-1] in ("", None)
    assert any(row[1] == "đã đến 1/2" for row in rows if row and len(row) > 1)

    pdf = office.get("/office/attendees/arrivals.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    text = _pdf_text(pdf.data)
    assert "Giờ đến" in text and "07:42" in text and "Có mặt: 1/2" in text
    plain = _pdf_text(office.get("/office/attendees.pdf").data)
    assert "Giờ đến" not in plain


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_door_list_is_in_vietnamese_order(app_ctx):
    seminar = seminars.current_seminar()
    names = ["Lê Văn Zũng", "Đỗ Đức Đạt", "Trần Thị Bảo", "Nguyễn Văn Ánh", "Phạm Văn Anh"]
    for number, name in enumerate(names):
        attendance.register(seminar, create_account(f"door{number}@example.org", name))
    assert [row["name"] for row in checkin.state(seminar)["people"]] == [
        "Nguyễn Văn Ánh", "Phạm Văn Anh", "Trần Thị Bảo", "Đỗ Đức Đạt", "Lê Văn Zũng"]
