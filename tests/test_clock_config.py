"""Vietnam time whatever the server's zone; configuration from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from config import config_for, normalise_database_url
from portal import clock, create_app

from .conftest import ROOT


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Tokyo"])
def test_formatting_ignores_the_server_zone(monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        instant = datetime(2021, 5, 14, 17, 0, tzinfo=UTC)
        assert clock.format_datetime(instant) == "15/05/2021 00:00"
        assert clock.isoformat_local(instant) == "2021-05-15T00:00:00+07:00"
        assert clock.parse_local("15/05/2021 00:00") == instant
        assert clock.parse_local("14/05/2021 23:59:59") == datetime(
            2021, 5, 14, 16, 59, 59, tzinfo=UTC)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_frozen_clock():
    instant = datetime(2021, 5, 14, 16, 59, 59, tzinfo=UTC)
    with clock.frozen(instant):
        assert clock.now() == instant
    assert clock.now() != instant


def test_production_refuses_default_secret():
    script = "from portal import create_app; create_app('production')"
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["PORTAL_ENV"] = "production"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_starts_with_a_real_secret(tmp_path):
    from config import ProductionConfig

    app = create_app(ProductionConfig, SECRET_KEY="x" * 64,
                     SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/p.db",
                     UPLOAD_DIR=str(tmp_path / "u"))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_config_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MAX_UPLOAD_MB", "7")
    import importlib

    import config

    importlib.reload(config)
    try:
        assert config.Config.MAX_UPLOAD_MB == 7
        assert config_for("testing").__name__ == "TestingConfig"
        with pytest.raises(RuntimeError):
            config_for("staging")
    finally:
        monkeypatch.delenv("MAX_UPLOAD_MB")
        importlib.reload(config)


def test_database_url_normalised():
    assert normalise_database_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
