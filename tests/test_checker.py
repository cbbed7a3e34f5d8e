"""The warm checker: one process per web process, a forked child per file, with the limits
applied in the child and none of the portal's secrets in its environment."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from portal.services.documents.checker import _Checker, forget_checker, run_checked
from portal.services.documents.results import DocumentRefused

from . import docmaker
from .docmaker import A4
from .liveserver import children_of

SECRETS = {"SECRET_KEY": "do-not-leak-1", "DATABASE_URL": "postgresql://u:do-not-leak-2@x/db",
           "MAIL_PASSWORD": "do-not-leak-3"}


@pytest.fixture
def fresh(monkeypatch):
    """No idle checker from an earlier test, secrets in this process's environment, and every
    checker started here killed at the end."""
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    forget_checker()
    yield
    for checker in _Checker._idle:
        checker.close()
    forget_checker()


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(part.decode().split("=", 1) for part in raw.split(b"\0") if b"=" in part)


def _limit(pid: int, name: str) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith(name):
            return line.split()[-3]
    raise AssertionError(f"no {name} in /proc/{pid}/limits")


def test_one_warm_checker_forks_a_child_per_file(tmp_path, fresh):
    first = docmaker.make_pdf(tmp_path / "a.pdf", [A4])
    second = docmaker.make_pdf(tmp_path / "b.pdf", [A4, A4])
    assert run_checked(first).pages == 1
    (checker,) = _Checker._idle
    assert run_checked(second).pages == 2
    assert _Checker._idle == [checker]  # the same process served both
    assert checker.process.poll() is None
    # Its environment holds none of the portal's secrets.
    environment = _environ(checker.process.pid)
    assert not set(SECRETS) & set(environment)
    assert not any("do-not-leak" in value for value in environment.values())
    # Between checks it has no child left.
    assert children_of(checker.process.pid) == []


def test_the_child_has_its_own_group_limits_and_clean_environment(tmp_path, fresh):
    slow = docmaker.make_pdf_with_large_content(tmp_path / "huge-page.pdf", 200)
    checker = _Checker()
    try:
        checker.send({"src": str(slow), "convert_to": None, "memory_mb": 900,
                      "cpu_seconds": 7})
        started = checker.receive(time.monotonic() + 60)
        assert started is not None
        child = int(started["pid"])
        assert os.getpgid(child) == child  # killed with whatever it starts
        environment = _environ(child)
        assert not set(SECRETS) & set(environment)
        # The limits are those of the request, applied by the child just after the fork and
        # before the checker names it (the checker itself has none).
        assert _limit(child, "Max address space") == str(900 * 1024 * 1024)
        assert _limit(child, "Max cpu time") == "7"
        assert _limit(checker.process.pid, "Max address space") == "unlimited"
    finally:
        checker.close()
    assert checker.process.poll() is not None


def test_timeout_kills_the_child_and_the_next_check_works(tmp_path, fresh):
    slow = docmaker.make_pdf_with_large_content(tmp_path / "huge-page.pdf", 200)
    with pytest.raises(DocumentRefused) as caught:
        run_checked(slow, timeout=0.8)
    assert caught.value.code == "timeout"
    assert _Checker._idle == []  # the checker of a stopped check is not reused
    paper = docmaker.make_pdf(tmp_path / "paper.pdf", [A4])
    assert run_checked(paper).file_type == "pdf"


def test_a_checker_killed_between_uploads_is_replaced(tmp_path, fresh):
    paper = docmaker.make_pdf(tmp_path / "paper.pdf", [A4])
    run_checked(paper)
    (checker,) = _Checker._idle
    os.kill(checker.process.pid, 9)
    checker.process.wait()
    assert run_checked(paper).pages == 1
    (replacement,) = _Checker._idle
    assert replacement is not checker
