"""Start-up: the app is built without the heavy imports the web never uses (or uses only for one
download, one form, one database), and still offers every command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from portal.services import accounts

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from config import TestingConfig
from portal import create_app
from portal.services import accounts
app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite:///{db}", UPLOAD_DIR="{uploads}")
heavy = ["alembic", "flask_migrate", "weasyprint", "email_validator", "openpyxl", "docx", "segno",
         "PIL", "limits", "sqlalchemy.dialects.postgresql"]
print(json.dumps({{"loaded": [name for name in heavy if name in sys.modules],
                  "hashed": accounts._dummy_user.cache_info().currsize}}))
"""


def test_creating_the_app_loads_no_heavy_library_and_hashes_nothing(tmp_path):
    code = PROBE.format(db=tmp_path / "p.sqlite3", uploads=tmp_path / "uploads")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"loaded": [], "hashed": 0}


def test_the_migration_commands_are_still_there(tmp_path):
    # A real `flask` process: alembic binds its output stream when first imported, which an
    # in-process runner cannot capture reliably.
    env = {**os.environ, "FLASK_APP": "wsgi.py", "PORTAL_ENV": "development",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'heads.sqlite3'}",
           "UPLOAD_DIR": str(tmp_path / "uploads")}
    flask = [sys.executable, "-m", "flask"]
    heads = subprocess.run([*flask, "db", "heads"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120)
    assert heads.returncode == 0, heads.stderr[-2000:]
    assert heads.stdout.count("(head)") == 1, heads.stdout  # one chain of migrations
    helped = subprocess.run([*flask, "db", "--help"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert helped.returncode == 0 and "upgrade" in helped.stdout


def test_an_unknown_email_is_still_checked_against_a_real_hash(app_ctx):
    assert accounts.authenticate("nobody@example.org", "whatever-123") is None
    dummy = accounts._dummy_user()
    assert dummy.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert accounts._dummy_user() is dummy  # computed once
