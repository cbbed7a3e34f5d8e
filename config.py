"""Configuration classes, read from the environment.

``PORTAL_ENV`` chooses the class (development, production or testing); every other setting
has an environment variable of the same name.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from portal.settings import DEFAULT_LANGUAGE, TIME_ZONE_NAME

BASE_DIR = Path(__file__).resolve().parent

# The placeholder used when SECRET_KEY is not set. Production refuses to start with it.
DEFAULT_SECRET_KEY = "dev-only-not-secret"


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return int(value)


def normalise_database_url(url: str | None) -> str | None:
    """Make plain ``postgres://`` and ``postgresql://`` URLs use the psycopg 3 driver."""
    if not url:
        return None
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Config:
    PORTAL_ENV = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or DEFAULT_SECRET_KEY
    # None means: SQLite in the instance folder (decided in create_app, where the folder is known)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or str(BASE_DIR / "uploads")
    MAX_UPLOAD_MB = _int("MAX_UPLOAD_MB", 20)
    # The whole request may carry the file plus a few small form fields.
    MAX_CONTENT_LENGTH = MAX_UPLOAD_MB * 1024 * 1024 + 64 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024

    BABEL_DEFAULT_LOCALE = DEFAULT_LANGUAGE
    BABEL_DEFAULT_TIMEZONE = TIME_ZONE_NAME
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "portal" / "translations")

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)  # at most; a logout ends it at once

    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER") or "no-reply@localhost"
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)  # seconds; a mail server that hangs never holds a page
    MAIL_DEADLINE = _int("MAIL_DEADLINE", 60)  # seconds one message may take in all
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 5)  # tries of `flask mail send` per mail
    # Absolute links in mail and calendar files (may carry a path prefix).
    PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL") or "http://127.0.0.1:5000"

    # How many reverse proxies stand in front (their X-Forwarded-For/-Proto/-Host are trusted).
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    # Wrong credentials (login, password change, reset): per account and address, per address.
    RATELIMIT_PER_ACCOUNT_ADDRESS = (os.environ.get("RATELIMIT_PER_ACCOUNT_ADDRESS")
                                     or "5 per minute; 20 per hour")
    RATELIMIT_PER_ADDRESS = os.environ.get("RATELIMIT_PER_ADDRESS") or "20 per minute; 200 per hour"


class DevelopmentConfig(Config):
    PORTAL_ENV = "development"


class TestingConfig(Config):
    PORTAL_ENV = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"


class ProductionConfig(Config):
    PORTAL_ENV = "production"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    name = (name or os.environ.get("PORTAL_ENV") or "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"PORTAL_ENV={name!r} is not one of: {', '.join(sorted(CONFIGS))}"
        ) from None
