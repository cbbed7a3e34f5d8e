"""tools/audit.py (``make audit``): an audit that did not happen is never "no known
vulnerabilities"; CI can let it pass as a notice but still fails on a vulnerability."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SKIPPED = {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be "
                                           "audited: flask (3.1.3)"}
CLEAN = {"name": "flask", "version": "3.1.3", "vulns": []}
VULNERABLE = {"name": "jinja2", "version": "3.1.0", "vulns": [
    {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": [], "description": ""}]}


def _audit(tmp_path: Path, dependencies: list[dict], *extra: str):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    return subprocess.run([sys.executable, str(ROOT / "tools" / "audit.py"), "--from-json",
                           str(report), *extra], capture_output=True, text=True, timeout=60)


def test_nothing_audited_fails_and_says_so(tmp_path):
    result = _audit(tmp_path, [SKIPPED, dict(SKIPPED, name="flask-login")])
    assert result.returncode == 2
    assert "could not audit 2 packages" in result.stdout
    assert "no known vulnerabilities" not in result.stdout.lower()


def test_an_empty_report_is_not_a_clean_one(tmp_path):
    result = _audit(tmp_path, [])
    assert result.returncode == 2
    assert "could not audit" in result.stdout


def test_ci_takes_an_impossible_audit_as_a_notice(tmp_path):
    result = _audit(tmp_path, [SKIPPED], "--unaudited-ok")
    assert result.returncode == 0
    assert "could not audit 1 packages" in result.stdout and "notice" in result.stdout


@pytest.mark.parametrize("extra", [(), ("--unaudited-ok",)])
def test_a_vulnerability_always_fails(tmp_path, extra):
    result = _audit(tmp_path, [CLEAN, VULNERABLE, SKIPPED], *extra)
    assert result.returncode == 1
    assert "VULNERABLE jinja2 3.1.0: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in result.stdout
    assert "could not audit 1 packages" in result.stdout


def test_a_full_clean_audit_passes(tmp_path):
    result = _audit(tmp_path, [CLEAN, dict(CLEAN, name="gunicorn")])
    assert result.returncode == 0
    assert "audited 2 packages: no known vulnerabilities" in result.stdout


def test_pip_audit_failing_without_a_report(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import audit
    finally:
        sys.path.remove(str(ROOT / "tools"))
    status, lines = audit.judge(None, ["flask", "gunicorn", "pikepdf"], "connection refused")
    assert status == 2
    assert lines[0].startswith("could not audit 3 packages")
