"""Real faults for the tests: a small tmpfs in a private mount namespace (that can be filled up,
made read-only or remounted), and the prologue the scenarios run there share.

A scenario is a Python program (a string) run by ``run_in_tmpfs`` as
``python -c SCENARIO <folder> <project root>``; it prints its findings as JSON on its last line.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def mount_namespace() -> list[str] | None:
    """The command that runs a program in a private mount namespace where we may mount."""
    command = ["unshare", "--mount"] if os.geteuid() == 0 else \
        ["unshare", "--user", "--map-root-user", "--mount"]
    try:
        probe = subprocess.run([*command, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return command if probe.returncode == 0 else None


def run_in_tmpfs(folder: Path, scenario: str, *, mount: str = "uploads", size: str = "4m",
                 without_root_powers: bool = False) -> dict[str, Any]:
    """Run ``scenario`` with ``folder/mount`` a fresh tmpfs of ``size``; return its JSON answer.

    ``without_root_powers`` drops the capabilities that let root ignore file permissions (the
    namespace makes us root in it). Skips the test where the machine cannot do this."""
    namespace = mount_namespace()
    if namespace is None or (without_root_powers and not shutil.which("setpriv")):
        pytest.skip("needs unshare (a private mount namespace) and setpriv (util-linux)")
    target = folder / mount
    target.mkdir(exist_ok=True)
    python = shlex.quote(sys.executable)
    if without_root_powers:
        python = ("setpriv --bounding-set -dac_override,-dac_read_search,-fowner " + python)
    script = (f"mount -t tmpfs -o size={size},mode=0700 tmpfs {shlex.quote(str(target))} && "
              f"exec {python} -c {shlex.quote(scenario)} "
              f"{shlex.quote(str(folder))} {shlex.quote(str(ROOT))}")
    result = subprocess.run([*namespace, "sh", "-c", script], cwd=folder,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def presenter_with_a_paper(folder: Path):
    """In a scenario: the portal in ``folder``, the presenter of paper 3 logged in through the
    form, the clock before the deadline and a first paper stored. Returns the app, the
    client and the upload folder."""
    from portal import clock

    from .conftest import create_account, login, make_app, upload
    from .docmaker import pdf_bytes
    from .test_submissions import BEFORE

    app = make_app(folder)
    with app.app_context():
        create_account("p@example.org", "Trình Bày", unit="Phòng Kế hoạch - Tài chính")
    client = app.test_client()
    assert login(client, "p@example.org").status_code == 302
    clock.set_now(BEFORE)
    assert upload(client, 3, pdf_bytes(1, marker="FIRST"), "first.pdf").status_code == 302
    return app, client, Path(app.config["UPLOAD_DIR"])


def fill_up(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of ``folder`` with the file ``filler`` (until it says "no space
    left"), then give back ``leave`` bytes. Returns the filler, to delete for room again."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    if leave:
        size = filler.stat().st_size
        with open(filler, "r+b") as handle:
            handle.truncate(max(size - leave, 0))
    return filler
