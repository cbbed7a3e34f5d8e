"""The limits on credential forms: /account/password is limited like the login, and the
counts are kept in the database, so two processes of the portal share them."""

from __future__ import annotations

from config import TestingConfig
from portal import create_app
from portal.extensions import db

from .conftest import PASSWORD, create_account, login, make_app, post_form


def test_wrong_current_passwords_are_limited(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        create_account("member@example.org")
    client = app.test_client()
    assert login(client, "member@example.org").status_code == 302
    statuses = []
    for i in range(8):
        response = post_form(client, "/account/password",
                             {"current": f"wrong-{i}", "new": "new-password-1",
                              "confirm": "new-password-1"})
        statuses.append(response.status_code)
    assert statuses[:5] == [400] * 5
    assert statuses[5:] == [429] * 3
    assert int(response.headers["Retry-After"]) >= 1
    assert "Bạn đã thử quá nhiều lần" in response.get_data(as_text=True)
    # even the right current password waits now: the guesser cannot tell
    response = post_form(client, "/account/password",
                         {"current": PASSWORD, "new": "new-password-1",
                          "confirm": "new-password-1"})
    assert response.status_code == 429


def test_right_attempts_are_not_counted(tmp_path):
    app = make_app(tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        create_account("member@example.org")
    client = app.test_client()
    for _ in range(4):
        assert login(client, "member@example.org", "wrong").status_code == 401
    for _ in range(6):  # successes in between give the slot back
        assert login(app.test_client(), "member@example.org").status_code == 302
    assert login(client, "member@example.org", "wrong").status_code == 401
    assert login(client, "member@example.org", "wrong").status_code == 429


def test_two_processes_share_the_counts(tmp_path):
    first = make_app(tmp_path, RATELIMIT_ENABLED=True)
    with first.app_context():
        create_account("member@example.org")
        url = db.engine.url.render_as_string(hide_password=False)
    # a second application on the same database, as another worker process would be
    second = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=True,
                        UPLOAD_DIR=str(tmp_path / "uploads"))
    statuses = [login(first.test_client(), "member@example.org", "x").status_code
                for _ in range(3)]
    statuses += [login(second.test_client(), "member@example.org", "x").status_code
                 for _ in range(3)]
    assert statuses == [401] * 5 + [429]
    for app in (first, second):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_limits_off_when_disabled(tmp_path):
    app = make_app(tmp_path)  # RATELIMIT_ENABLED=False in tests by default
    client = app.test_client()
    statuses = {login(client, "someone@example.org", "x").status_code for _ in range(25)}
    assert statuses == {401}
