"""The seminar portal: create_app() builds the Flask application."""

from __future__ import annotations

# Imports live inside the functions: the document worker (``python -m
# portal.services.documents.worker``) imports this package in a fresh child process for every
# upload, and must not pay for Flask's extensions it never uses.
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from config import Config

PROJECT_DIR = Path(__file__).resolve().parent.parent


def select_locale() -> str:
    """The chosen language: the session's choice, then the user's, then Vietnamese."""
    from flask import request, session

    from .settings import DEFAULT_LANGUAGE, LANGUAGES

    chosen = session.get("lang") if request else None
    if chosen in LANGUAGES:
        return chosen
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    return DEFAULT_LANGUAGE


def create_app(config: type[Config] | str | None = None, **overrides: Any) -> Flask:
    from flask import Flask

    from config import DEFAULT_SECRET_KEY, config_for

    from .extensions import babel, csrf, db, migrate

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_DIR / "templates"),
        static_folder="static",
    )
    config_class = config if isinstance(config, type) else config_for(config)
    app.config.from_object(config_class)
    app.config.update(overrides)

    if app.config.get("MAX_UPLOAD_MB") and "MAX_CONTENT_LENGTH" not in overrides:
        app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024

    if app.config["PORTAL_ENV"] == "production":
        key = app.config.get("SECRET_KEY")
        if not key or key == DEFAULT_SECRET_KEY or len(key) < 16:
            raise RuntimeError(
                "SECRET_KEY is missing or is the development default; production refuses to "
                "start. Set SECRET_KEY to a long random value (python -c 'import secrets; "
                "print(secrets.token_hex(32))')."
            )

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "portal.sqlite3"
        )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    Path(app.config["UPLOAD_DIR"]).mkdir(parents=True, exist_ok=True)

    from . import content_version, database  # noqa: F401  (register their events)
    from .settings import TIME_ZONE_NAME

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: TIME_ZONE_NAME)
    _init_login(app)

    from .storage import Storage

    app.extensions["storage"] = Storage(app.config["UPLOAD_DIR"])
    # What a killed worker left in .tmp/ (its process has gone) is removed as we start, with
    # any file it placed without committing its row.
    from .services.integrity import sweep_at_start

    sweep_at_start(app, app.extensions["storage"])

    from .attendee import bp as attendee_bp
    from .auth import bp as auth_bp
    from .office import bp as office_bp
    from .presenter import bp as presenter_bp
    from .public import bp as public_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(presenter_bp)
    app.register_blueprint(attendee_bp)
    app.register_blueprint(office_bp, url_prefix="/office")

    from .errors import register_error_handlers
    from .security import init_security

    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    register_error_handlers(app)
    init_security(app)
    from .formdata import init_formdata

    init_formdata(app)
    _init_templates(app)

    from .cli import register_cli

    register_cli(app)

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    for noisy in ("weasyprint", "fontTools"):  # their INFO is a step-by-step trace
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return app


def _init_login(app: Flask) -> None:
    from .extensions import db, login_manager
    from .models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        # "<id>:<session version>": a session or remember cookie from before a logout, a
        # password change or reset, or a deactivation carries an older version and is refused.
        try:
            raw_id, _, raw_version = (user_id or "").partition(":")
            user = db.session.get(User, int(raw_id))
            version = int(raw_version)
        except (TypeError, ValueError):
            return None
        if user is None or not user.active or version != (user.session_version or 1):
            return None
        return user


def _init_templates(app: Flask) -> None:
    from flask_babel import get_locale
    from flask_wtf.csrf import generate_csrf

    from . import clock

    app.jinja_env.filters["vn_datetime"] = clock.format_datetime
    app.jinja_env.filters["vn_date"] = clock.format_date
    app.jinja_env.filters["vn_time"] = clock.format_time
    app.jinja_env.filters["kind_label"] = lambda kind: kind.label if kind else ""
    app.jinja_env.filters["filesize"] = format_size
    from .services.documents.notes import note_text, read_stored

    app.jinja_env.filters["note_text"] = note_text
    app.jinja_env.filters["stored_notes"] = read_stored
    app.jinja_env.globals["csrf_token"] = generate_csrf
    from . import policy

    app.jinja_env.globals["policy"] = policy

    @app.context_processor
    def inject_common():
        return {
            "current_locale": str(get_locale() or "vi"),
            "now_utc": clock.now(),
        }


def format_size(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
