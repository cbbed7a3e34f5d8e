"""Production refuses demo data: the demo accounts have a published password."""

from __future__ import annotations

from sqlalchemy import func, select

from config import ProductionConfig
from portal import create_app
from portal.extensions import db
from portal.models import Seminar, User

from .conftest import PASSWORD, create_account, make_app


def _production_app(tmp_path):
    app = create_app(ProductionConfig, SECRET_KEY="a-real-production-secret-0123456789",
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
                     UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        db.create_all()
    return app


def test_load_plan_demo_is_refused_in_production(tmp_path):
    app = _production_app(tmp_path)
    for args in (["seminar", "load-plan", "--demo"],
                 ["seminar", "load-plan", "--demo", "--if-empty"]):  # what `make run` calls
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code != 0, args
        assert "PORTAL_ENV=production" in result.output
        assert "từ chối" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(Seminar)) == 0


def test_load_plan_without_demo_works_in_production(tmp_path):
    app = _production_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["seminar", "load-plan"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_deactivate(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        create_account("leaver@example.org")
    result = app.test_cli_runner().invoke(args=["users", "deactivate", "leaver@example.org"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "leaver@example.org"))
        assert not user.active and user.session_version == 2
        assert not user.check_password("x") and user.check_password(PASSWORD)
    missing = app.test_cli_runner().invoke(args=["users", "deactivate", "nobody@example.org"])
    assert missing.exit_code != 0
