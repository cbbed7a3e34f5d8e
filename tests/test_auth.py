"""Logging in and out, roles, the language switch, redirects that stay on the site."""

from __future__ import annotations

import pytest

from .conftest import EMAILS, PASSWORD, csrf_from, login, post_form


def test_login_with_csrf_and_logout(app, people):
    client = app.test_client()
    response = login(client, EMAILS["office"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/office"
    page = client.get("/office")
    assert page.status_code == 200
    assert "Nguyễn Thị Văn Phòng" in page.get_data(as_text=True)
    response = post_form(client, "/logout", page_url="/")
    assert response.status_code == 302
    assert client.get("/office").status_code == 302


def test_login_without_csrf_token_is_refused(app, people):
    client = app.test_client()
    response = client.post("/login", data={"email": EMAILS["office"], "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/office").status_code == 302


def test_wrong_password_says_so_in_vietnamese(app, people):
    client = app.test_client()
    response = login(client, EMAILS["office"], "wrong-password")
    assert response.status_code == 401
    assert "Sai email hoặc mật khẩu" in response.get_data(as_text=True)


def test_login_email_is_case_insensitive(app, people):
    client = app.test_client()
    assert login(client, "OFFICE@Example.org").status_code == 302


def test_inactive_user_cannot_log_in(app, people):
    from portal.extensions import db
    from portal.models import User

    with app.app_context():
        db.session.get(User, people["member"]).active = False
        db.session.commit()
    assert login(app.test_client(), EMAILS["member"]).status_code == 401


@pytest.mark.parametrize(
    "kind, expected",
    [(None, 302), ("member", 403), ("presenter", 403), ("other_presenter", 403), ("office", 200)],
)
def test_office_matrix(client_as, kind, expected):
    client = client_as(kind)
    for url in ("/office", "/office/seminar"):
        response = client.get(url)
        assert response.status_code == expected, (url, kind)
        if expected == 302:
            assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("kind, expected", [(None, 302), ("member", 403), ("presenter", 200),
                                            ("office", 200)])
def test_papers_needs_login(client_as, kind, expected):
    assert client_as(kind).get("/papers").status_code == expected


def test_forbidden_page_is_friendly(client_as):
    response = client_as("member").get("/office")
    text = response.get_data(as_text=True)
    assert "Không có quyền truy cập" in text
    assert "Traceback" not in text


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "http:/evil.example", "javascript:alert(1)", "/%0d%0aSet-Cookie:x=1",
])
def test_next_never_leaves_the_site(app, people, target):
    client = app.test_client()
    page = client.get("/login", query_string={"next": target})
    response = client.post("/login", query_string={"next": target}, data={
        "email": EMAILS["office"], "password": PASSWORD, "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "evil" not in location and "javascript" not in location


def test_next_on_site_is_followed(app, people):
    client = app.test_client()
    page = client.get("/login?next=/office/seminar")
    response = client.post("/login?next=/office/seminar", data={
        "email": EMAILS["office"], "password": PASSWORD, "csrf_token": csrf_from(page.data)})
    assert response.headers["Location"] == "/office/seminar"


def test_change_password(client_as, app):
    client = client_as("member")
    wrong = post_form(client, "/account/password", {"current": "nope", "new": "new-password-1",
                                                    "confirm": "new-password-1"})
    assert wrong.status_code == 400
    ok = post_form(client, "/account/password", {"current": PASSWORD, "new": "new-password-1",
                                                 "confirm": "new-password-1"})
    assert ok.status_code == 302
    fresh = app.test_client()
    assert login(fresh, EMAILS["member"]).status_code == 401
    assert login(fresh, EMAILS["member"], "new-password-1").status_code == 302


def test_language_switch(app):
    client = app.test_client()
    vi = client.get("/").get_data(as_text=True)
    assert 'lang="vi"' in vi and "Chương trình" in vi and "Báo cáo đề dẫn" in vi
    response = post_form(client, "/language", {"lang": "en", "next": "/"}, page_url="/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    en = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in en and "Agenda" in en and "Introductory report" in en
    # the seminar's own strings stay Vietnamese in both languages
    assert "Tọa đàm nội bộ về cải cách hành chính năm 2021" in en
    off_site = post_form(client, "/language", {"lang": "vi", "next": "https://evil.example/"},
                         page_url="/")
    assert off_site.headers["Location"] == "/"
