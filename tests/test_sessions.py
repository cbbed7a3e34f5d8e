"""Sessions can be revoked: an old session cookie or remember cookie replayed after a logout,
a password change, a reset or a deactivation gets the login page; login renews the session
and its CSRF token; the remember cookie lasts 30 days at most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import User
from portal.services import accounts

from .conftest import EMAILS, PASSWORD, create_account, csrf_from, post_form

PAGE = "/office"  # a page only a logged-in Office account may see


def _second_office() -> None:
    """The last active Office account cannot be deactivated: give the Office a second one."""
    create_account("vanphong2@skhcn.example", "Lê Thị Văn Phòng", office=True)


def _login(client, remember: bool = True):
    page = client.get("/login")
    data = {"email": EMAILS["office"], "password": PASSWORD, "csrf_token": csrf_from(page.data)}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.data[:300]
    return response


def _cookies(client) -> tuple[str, str]:
    session = client.get_cookie("session")
    remember = client.get_cookie("remember_token")
    assert session is not None and remember is not None
    return session.value, remember.value


def _replay(app, name: str, value: str):
    """A browser that has only this one stolen cookie."""
    thief = app.test_client()
    thief.set_cookie(name, value)
    return thief.get(PAGE)


def _assert_refused(app, session_cookie: str, remember_cookie: str) -> None:
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        response = _replay(app, name, value)
        assert response.status_code == 302, name
        assert response.headers["Location"].startswith("/login"), name


def _assert_accepted(app, session_cookie: str, remember_cookie: str) -> None:
    for name, value in (("session", session_cookie), ("remember_token", remember_cookie)):
        assert _replay(app, name, value).status_code == 200, name


def _office(app) -> User:
    return db.session.scalar(select(User).where(User.email == EMAILS["office"]))


def test_copied_cookies_work_until_something_revokes_them(app, people):
    client = app.test_client()
    _login(client)
    _assert_accepted(app, *_cookies(client))


def test_logout_ends_every_session_of_the_account(app, people):
    client, other_browser = app.test_client(), app.test_client()
    _login(client)
    _login(other_browser)
    old = _cookies(client)
    response = post_form(client, "/logout", page_url="/")
    assert response.status_code == 302
    _assert_refused(app, *old)
    # the account's other browser is logged out too
    assert other_browser.get(PAGE).headers["Location"].startswith("/login")
    # and logging in again works
    _login(client)
    assert client.get(PAGE).status_code == 200


def test_password_change_ends_other_sessions_and_keeps_this_one(app, people):
    client = app.test_client()
    _login(client)
    old = _cookies(client)
    response = post_form(client, "/account/password", {
        "current": PASSWORD, "new": "another-password-9", "confirm": "another-password-9"})
    assert response.status_code == 302
    _assert_refused(app, *old)
    assert client.get(PAGE).status_code == 200  # the browser that changed it stays in
    _assert_accepted(app, *_cookies(client))


@pytest.mark.parametrize("event", ["reset", "deactivation"])
def test_reset_and_deactivation_end_every_session(app, people, event):
    client = app.test_client()
    _login(client)
    old = _cookies(client)
    with app.app_context():
        user = _office(app)
        if event == "reset":  # what the reset page does with a new password
            accounts.set_password(user, "reset-password-77")
            db.session.commit()
        else:
            _second_office()
            accounts.set_active(user, False)
    _assert_refused(app, *old)
    assert client.get(PAGE).headers["Location"].startswith("/login")


def test_reactivated_account_does_not_bring_old_cookies_back(app, people):
    client = app.test_client()
    _login(client)
    old = _cookies(client)
    with app.app_context():
        _second_office()
        accounts.set_active(_office(app), False)
        accounts.set_active(_office(app), True)
    _assert_refused(app, *old)


def test_login_renews_the_session_and_the_csrf_token(app, people):
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as session:
        before = session["csrf_token"]
        session["planted"] = "by an attacker"  # session fixation: must not survive login
    _login(client)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.get("csrf_token") != before
    page = client.get("/account/password")
    assert page.status_code == 200
    with client.session_transaction() as session:
        assert session["csrf_token"] != before


def test_login_keeps_the_chosen_language(app, people):
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "en"
    _login(client)
    with client.session_transaction() as session:
        assert session["lang"] == "en"


def test_remember_cookie_lasts_thirty_days_at_most(app, people):
    client = app.test_client()
    response = _login(client)
    cookie = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith("remember_token="))
    expires = next(part.split("=", 1)[1] for part in cookie.split("; ")
                   if part.lower().startswith("expires="))
    lifetime = parsedate_to_datetime(expires) - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30, minutes=1)


def test_a_forged_or_old_style_user_id_is_refused(app, people):
    client = app.test_client()
    _login(client, remember=False)
    with client.session_transaction() as session:
        user_id = session["_user_id"]
        assert ":" in user_id
        session["_user_id"] = user_id.split(":")[0]  # a cookie from before versions
    assert client.get(PAGE).headers["Location"].startswith("/login")
