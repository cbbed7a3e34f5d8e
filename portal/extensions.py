"""Flask extensions, created unbound and initialised in create_app()."""

from __future__ import annotations

import click
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class _PendingMigrateConfig:
    """Stands in ``app.extensions["migrate"]`` until Flask-Migrate is needed. Flask-Migrate
    imports alembic (~0.3 s) that the web never uses: it is imported, and initialised on the
    app, the first time a migration command or ``flask_migrate.upgrade()`` asks for more than
    the migrations' directory."""

    def __init__(self, app, database, directory: str) -> None:
        self.directory = directory
        self._app = app
        self._db = database
        self._real = None

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if self._real is None:
            from flask_migrate import Migrate

            Migrate().init_app(self._app, self._db, directory=self.directory)
            self._real = self._app.extensions["migrate"]
        return getattr(self._real, name)


class _LazyDbGroup(click.Group):
    """``flask db …``: Flask-Migrate's command group, imported when it is run."""

    @staticmethod
    def _real() -> click.Group:
        from flask_migrate.cli import db as db_group

        return db_group

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        # The real group parses its own options (--directory) and runs its callback.
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)


class LazyMigrate:
    """Flask-Migrate registered without importing it (see ``_PendingMigrateConfig``)."""

    def init_app(self, app, database, directory: str) -> None:
        app.extensions["migrate"] = _PendingMigrateConfig(app, database, directory)
        app.cli.add_command(_LazyDbGroup("db", help="Perform database migrations."))


migrate = LazyMigrate()
