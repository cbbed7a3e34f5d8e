"""Security: headers, CSRF everywhere, login rate limits, escaping of hostile strings."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest

from portal import clock
from portal.services import attendance, seminars

from .conftest import EMAILS, PASSWORD, create_account, csrf_from, login, make_app, post_form
from .docmaker import pdf_bytes

HOSTILE = '<script>alert("x")</script>'
HOSTILE_FILE = "<img src=x onerror=alert(1)>.pdf"


def test_security_headers_on_every_kind_of_response(app, client_as):
    client = client_as("office")
    for url in ("/", "/login", "/office", "/nope", "/static/css/portal.css", "/healthz"):
        response = client.get(url)
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, url
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"


def test_no_inline_script_in_any_page(app, client_as):
    client = client_as("office")
    for url in ("/", "/login", "/office", "/office/seminar", "/office/booklet", "/papers",
                "/office/audit"):
        text = client.get(url).get_data(as_text=True)
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, (url, tag)
        assert not re.search(r"\son[a-z]+=", text), url
        assert "style=" not in text, url


def test_every_post_route_refuses_a_missing_csrf_token(app, client_as):
    client = client_as("office")
    posted = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1]
        response = client.post(url, data={"anything": "x"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        posted += 1
    assert posted >= 10


def test_login_is_rate_limited_per_account_and_address(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        create_account("victim@example.org")
        create_account("bystander@example.org")
    client = app.test_client()
    statuses = [login(client, "victim@example.org", f"wrong-{i}").status_code for i in range(25)]
    assert statuses[0] == 401
    assert 429 in statuses
    limited = login(client, "victim@example.org", PASSWORD)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert "Bạn đã thử quá nhiều lần" in limited.get_data(as_text=True)
    # a stranger hammering the account cannot lock its owner out: the right password from
    # another address still works, and so does another account from there
    other_address = app.test_client()
    other_address.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    assert login(other_address, "victim@example.org", PASSWORD).status_code == 302
    third = app.test_client()
    third.environ_base["REMOTE_ADDR"] = "127.0.0.3"
    assert login(third, "bystander@example.org").status_code == 302


def test_login_is_rate_limited_per_address(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [login(client, f"nobody{i}@example.org", "x").status_code for i in range(30)]
    assert statuses[0] == 401 and statuses[-1] == 429


def test_successful_logins_do_not_count(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        create_account("often@example.org")
    for _ in range(8):
        client = app.test_client()
        assert login(client, "often@example.org").status_code == 302


def test_hostile_strings_are_escaped_everywhere(app, people):
    with app.app_context():
        villain = create_account("villain@example.org", name=HOSTILE, position=HOSTILE,
                                 unit="Phòng Quản lý Công nghệ, Thị trường công nghệ và "
                                      "Chuyên ngành")
        attendance.register(seminars.current_seminar(), villain)
    client = app.test_client()
    login(client, "villain@example.org")
    with clock.frozen(datetime(2021, 5, 1, tzinfo=UTC)):
        page = client.get("/papers/2")
        client.post("/papers/2", data={"csrf_token": csrf_from(page.data),
                                       "file": (io.BytesIO(pdf_bytes(1)), HOSTILE_FILE)},
                    content_type="multipart/form-data")
    office = app.test_client()
    login(office, EMAILS["office"])
    post_form(office, "/office/papers/2/extend", {"ext-deadline": "20/05/2021 00:00",
                                                  "ext-reason": HOSTILE,
                                                  "ext-confirm": "1"},  # after the session
              page_url="/office/papers/2")
    pages = ["/papers/2", "/register", "/materials"]
    office_pages = ["/office", "/office/papers/2", "/office/attendees", "/office/audit",
                    "/office/mail", "/office/booklet"]
    for who, urls in ((client, pages), (office, office_pages)):
        for url in urls:
            text = who.get(url).get_data(as_text=True)
            assert HOSTILE not in text, url
            assert "<img src=x onerror" not in text, url
            if url in ("/papers/2", "/office/papers/2", "/materials"):
                assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in text, url
            if url not in ("/office", "/materials", "/office/booklet", "/office/mail"):
                assert "&lt;script&gt;" in text, url
    download = client.get("/papers/2/revisions/1/download")
    disposition = download.headers["Content-Disposition"]
    assert "<img" not in disposition
    assert "%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.pdf" in disposition


@pytest.mark.parametrize("email", ["a@example.org\r\nBcc: x@evil.example", "x" * 300])
def test_bad_login_input_is_handled(app, email):
    client = app.test_client()
    response = login(client, email, "whatever")
    assert response.status_code in (400, 401)
