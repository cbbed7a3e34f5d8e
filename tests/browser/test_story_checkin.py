"""The door, on a phone (390x844) in Chromium: the Office starts the camera and a person's QR
code, fed to Chromium as its fake camera, is decoded by the bundled jsQR and checks them in; the
same code again says "đã điểm danh lúc …"; a stale code (the person cancelled and registered
again), decoded from a photo, is refused with its reason; a name is found and tapped; with the
connection down a tap is queued on the phone and sent when it returns, counted once; a walk-in
is added; the count "đã đến …" follows without a reload, also for a check made elsewhere."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import Registration, User
from portal.services import attendance, checkin, checkin_code, seminars

from ..conftest import PASSWORD, create_account
from .conftest import CHROMIUM, create_office, log_in, screenshot

expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"width": 390, "height": 844}


def _y4m_from_png(png: bytes, path) -> None:
    """A one-frame YUV4MPEG2 video of the code on white, for Chromium's fake camera."""
    code = Image.open(io.BytesIO(png)).convert("RGB")
    frame = Image.new("RGB", (640, 480), "white")
    frame.paste(code, ((640 - code.width) // 2, (480 - code.height) // 2))
    y, u, v = frame.convert("YCbCr").split()
    half = (320, 240)
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        out.write(b"FRAME\n")
        out.write(y.tobytes())
        out.write(u.resize(half, Image.BILINEAR).tobytes())
        out.write(v.resize(half, Image.BILINEAR).tobytes())


def _checked_in(app, email: str):
    with app.app_context():
        registration = db.session.scalar(
            select(Registration).join(User, Registration.user_id == User.id)
            .where(User.email == email))
        return registration.checked_in_at if registration else None


def test_the_door_on_a_phone(live_app, live_server, browser, tmp_path):
    with live_app.app_context():
        seminar = seminars.current_seminar()
        attendance.set_capacity(seminar, 6)
        create_office()
        people = {key: create_account(f"{key}@example.org", name, position="Chuyên viên",
                                      unit="Thanh tra Sở")
                  for key, name in [("anh", "Nguyễn Văn Ánh"), ("bao", "Trần Thị Bảo"),
                                    ("cuong", "Lê Văn Cường"), ("dung", "Phạm Thị Dung"),
                                    ("em", "Võ Văn Em")]}
        registrations = {key: attendance.register(seminar, user)
                         for key, user in people.items()}
        scanned_token = checkin_code.token_for(registrations["anh"])
        stale_token = checkin_code.token_for(registrations["bao"])
        attendance.cancel(seminar, people["bao"])
        attendance.register(seminar, people["bao"])  # a new code: the old one is stale
        _y4m_from_png(checkin_code.qr_png(scanned_token), tmp_path / "camera.y4m")
        (tmp_path / "stale.png").write_bytes(checkin_code.qr_png(stale_token))
        em_id = registrations["em"].id

    phone_browser = browser.browser_type.launch(
        executable_path=CHROMIUM,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={tmp_path / 'camera.y4m'}"],
    )
    base = live_server.url
    context = phone_browser.new_context(locale="vi-VN", viewport=PHONE, is_mobile=True,
                                        has_touch=True, device_scale_factor=2)
    context.grant_permissions(["camera"], origin=base)
    page = context.new_page()
    page.set_default_timeout(20000)
    try:
        log_in(page, base, "office@example.org", PASSWORD, "/office/checkin")
        page.wait_for_url("**/office/checkin")
        count = page.locator("#checkin-count")
        result = page.locator("#checkin-result")
        assert count.inner_text() == "đã đến 0/5"
        page.evaluate("window.__sameDocument = true")

        # 1. The camera sees Ánh's code: checked in, and the count follows.
        page.get_by_role("button", name="Bật camera").click()
        expect(result).to_contain_text("thành công")
        assert result.inner_text().startswith("Nguyễn Văn Ánh: điểm danh thành công lúc ")
        expect(count).to_have_text("đã đến 1/5")
        screenshot(page, "checkin-scanned")
        assert _checked_in(live_app, "anh@example.org") is not None
        first_time = _checked_in(live_app, "anh@example.org")
        # 2. The same code again (the camera keeps looking at it): already checked in.
        expect(result).to_contain_text("đã điểm danh lúc")
        assert result.inner_text().startswith("Nguyễn Văn Ánh: đã điểm danh lúc ")
        assert _checked_in(live_app, "anh@example.org") == first_time
        assert count.inner_text() == "đã đến 1/5"
        page.get_by_role("button", name="Tắt camera").click()
        expect(page.locator("#camera")).to_be_hidden()
        assert page.locator("#checkin").get_attribute("data-camera") == "off"
        page.reload()
        page.evaluate("window.__sameDocument = true")

        # 3. A photo of Bảo's old code: decoded, refused with the reason.
        page.locator("#code-photo").set_input_files(str(tmp_path / "stale.png"))
        expect(result).to_have_attribute("data-kind", "error")
        assert result.inner_text() == ("Đăng ký này đã bị hủy: người này không còn trong "
                                       "danh sách.")
        assert page.evaluate("document.getElementById('checkin').dataset.lastCode") \
            == stale_token
        assert _checked_in(live_app, "bao@example.org") is None

        # 4. A name found (without diacritics) and tapped.
        page.locator("#people-search").fill("cuong")
        visible = page.locator("#people li:not([hidden])")
        assert visible.count() == 1
        visible.get_by_role("button").click()
        expect(count).to_have_text("đã đến 2/5")
        assert result.inner_text().startswith("Lê Văn Cường: điểm danh thành công lúc ")
        assert _checked_in(live_app, "cuong@example.org") is not None

        # 5. The Wi-Fi drops: a tap is kept on the phone, then sent when it returns.
        context.set_offline(True)
        page.locator("#people-search").fill("dung")
        page.locator("#people li:not([hidden]) button").click()
        queue = page.locator("#checkin-queue")
        expect(queue).to_have_attribute("data-count", "1")
        assert queue.inner_text() == "1 lượt điểm danh đang chờ gửi"
        assert "Mất kết nối" in result.inner_text()
        stored = page.evaluate("JSON.parse(localStorage.getItem('portal.checkin.queue.v1'))")
        assert len(stored) == 1 and stored[0]["client_id"]
        assert _checked_in(live_app, "dung@example.org") is None
        screenshot(page, "checkin-offline")
        context.set_offline(False)
        expect(queue).to_be_hidden()
        expect(count).to_have_text("đã đến 3/5")
        assert _checked_in(live_app, "dung@example.org") is not None
        assert page.evaluate("localStorage.getItem('portal.checkin.queue.v1')") == "[]"

        # 6. Someone else checks Em in (another phone): the count follows by polling.
        with live_app.app_context():
            checkin.check_in_registration(seminars.current_seminar(), em_id)
        expect(count).to_have_text("đã đến 4/5")
        assert page.evaluate("window.__sameDocument") is True  # never reloaded

        # 7. A walk-in, while a seat is free.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_label("Họ và tên").fill("Đặng Văn Khách")
        page.get_by_label("Chức vụ").fill("Phóng viên")
        page.get_by_label("Đơn vị").fill("Báo Quảng Ngãi")
        with page.expect_navigation():
            page.get_by_role("button", name="Thêm và điểm danh").click()
        page.wait_for_url("**/office/checkin")
        assert "Đã thêm và điểm danh Đặng Văn Khách." in page.content()
        assert count.inner_text() == "đã đến 5/6"
        screenshot(page, "checkin-walk-in")
    finally:
        context.close()
        phone_browser.close()
    with live_app.app_context():
        seminar = seminars.current_seminar()
        assert checkin.arrived_count(seminar) == 5
        assert seminar.confirmed_count() == 6
