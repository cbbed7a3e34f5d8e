"""The public page and the error pages."""

from __future__ import annotations

import html

from portal import plan


def test_home_shows_the_seminar_and_its_agenda(app):
    page = app.test_client().get("/")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert plan.SEMINAR["title"] in text
    assert "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi" in text
    assert plan.SEMINAR["purpose"] in text and plan.SEMINAR["content"] in text
    assert "17/05/2021" in text and "08:00" in text
    assert "15/05/2021 00:00" in text
    positions = [text.index(a["title"]) for a in plan.ASSIGNMENTS]
    assert positions == sorted(positions)
    for unit in {a["unit"] for a in plan.ASSIGNMENTS}:
        assert unit in text


def test_stylesheet_is_served_locally(app):
    page = app.test_client().get("/").get_data(as_text=True)
    assert "/static/css/portal.css" in page
    assert "http://" not in page.replace("http://localhost", "")
    assert "https://" not in page
    assert app.test_client().get("/static/css/portal.css").status_code == 200


def test_not_found_is_friendly_in_vietnamese(app):
    response = app.test_client().get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)


def test_server_error_page_has_no_traceback(app):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("secret internals")

    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom-for-test")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in text and "Traceback" not in text
    assert "Đã có lỗi xảy ra" in text


def test_healthz_checks_the_database(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
