"""The migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import text

from config import TestingConfig
from portal import create_app
from portal.extensions import db
from portal.services import seminars

from .conftest import PG_URL


def test_upgrade_matches_models(tmp_path, backend):
    url = PG_URL if backend == "postgresql" else f"sqlite:///{tmp_path}/m.db"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url,
                     UPLOAD_DIR=str(tmp_path / "u"))
    with app.app_context():
        if backend == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn)
            diff = compare_metadata(context, db.metadata)
        assert diff == []
        assert seminars.load_plan().created
        upgrade()  # a second upgrade is a no-op
        assert seminars.current_seminar().capacity == 20
        db.session.remove()
        db.engine.dispose()
