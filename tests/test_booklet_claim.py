"""One booklet build at a time across processes: real worker processes claim the build in the
database; a killed builder is noticed within seconds; a failed build says why on the page."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Booklet
from portal.services import seminars
from portal.services.booklet import build as booklet_service
from portal.services.booklet import merge
from portal.services.booklet import progress as build_progress

from .conftest import build_finished, csrf_from, wait_until
from .test_booklet import add_papers

ROOT = Path(__file__).resolve().parents[1]
BUSY_VI = "Đang có một lần tổng hợp tài liệu khác. Vui lòng thử lại sau giây lát."

# A worker process: says "ready", waits for "go", asks for the build's claim and says
# "claimed" or "refused <message>"; holding the claim, it waits for "build" and builds a
# draft ("built <id>"), or for nothing at all (to be killed).
WORKER = """
import sys
from config import TestingConfig
from portal import create_app
from portal.extensions import db
from portal.services import seminars
from portal.services.booklet import build as booklet_service
from portal.services.booklet import progress as build_progress

app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1], UPLOAD_DIR=sys.argv[2],
                 RATELIMIT_ENABLED=False)
with app.app_context():
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        claim = build_progress.claim(draft=True)
    except build_progress.BuildRunning as refused:
        print("refused", refused, flush=True)
        sys.exit(3)
    print("claimed", flush=True)
    if sys.stdin.readline().strip() == "build":
        booklet = booklet_service.build(seminars.current_seminar(), None, True, claim=claim)
        print("built", booklet.id, flush=True)
"""


def start_worker(app) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, app.config["SQLALCHEMY_DATABASE_URI"],
         app.config["UPLOAD_DIR"]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert worker.stdout.readline().strip() == "ready"
    return worker


def say(worker: subprocess.Popen, line: str) -> None:
    worker.stdin.write(line + "\n")
    worker.stdin.flush()


def test_two_workers_asking_at_once_one_builds_the_other_is_refused(app, people):
    add_papers(app, [1, 2], pages=1)
    workers = [start_worker(app), start_worker(app)]
    try:
        for worker in workers:
            say(worker, "go")
        answers = [worker.stdout.readline().strip() for worker in workers]
        assert sorted(answer.split(" ", 1)[0] for answer in answers) == ["claimed", "refused"]
        builder = workers[answers.index("claimed")]
        refused = workers[1 - answers.index("claimed")]
        assert answers[workers.index(refused)] == f"refused {BUSY_VI}"
        assert refused.wait(timeout=60) == 3
        say(builder, "build")
        built = builder.stdout.readline().split()
        assert built[0] == "built", built
        assert builder.wait(timeout=120) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    with app.app_context():
        assert [b.id for b in db.session.scalars(select(Booklet))] == [int(built[1])]


def test_a_killed_builder_is_noticed_within_seconds(app, client_as, people):
    office = client_as("office")
    worker = start_worker(app)
    try:
        say(worker, "go")
        assert worker.stdout.readline().strip() == "claimed"
        assert office.get("/office/booklet/progress").json["state"] == "running"
        page = office.get("/office/booklet")
        refused = office.post("/office/booklet/build",
                              data={"csrf_token": csrf_from(page.data), "kind": "draft"},
                              follow_redirects=True)
        assert "Tài liệu đang được tổng hợp; vui lòng chờ hoàn tất." in \
            refused.get_data(as_text=True)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    killed_at = time.monotonic()
    with app.app_context():
        while True:
            try:
                claim = build_progress.claim(draft=True)
                break
            except build_progress.BuildRunning:
                assert time.monotonic() - killed_at < build_progress.STALE_AFTER.seconds + 5
                time.sleep(0.05)
        assert time.monotonic() - killed_at < build_progress.STALE_AFTER.seconds + 5
        claim.fail("crashed")


def test_a_builder_whose_heartbeat_stopped_is_taken_over(app, client_as, people):
    """A builder that stops without dying (a frozen machine: its pid still exists) is known
    by its heartbeat: within seconds the page says the build stopped, and a build may start."""
    office = client_as("office")
    worker = start_worker(app)
    try:
        say(worker, "go")
        assert worker.stdout.readline().strip() == "claimed"
        os.kill(worker.pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        deadline = stopped_at + build_progress.STALE_AFTER.seconds + 5
        while (state := office.get("/office/booklet/progress").json)["state"] == "running":
            assert time.monotonic() < deadline, state
            time.sleep(0.1)
        assert state["state"] == "failed" and state["reason"] == "died", state
        assert "khởi động lại" in office.get("/office/booklet").get_data(as_text=True)
        with app.app_context():
            build_progress.claim(draft=True).fail("crashed")
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()


def test_a_failed_build_shows_on_the_page_with_its_reason_until_the_next(app, client_as,
                                                                         people, monkeypatch):
    add_papers(app, [1, 2], pages=1)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(merge, "build_booklet", full_disk)
    office = client_as("office")
    page = office.get("/office/booklet")
    assert office.post("/office/booklet/build", data={"csrf_token": csrf_from(page.data),
                                                      "kind": "draft"}).status_code == 302
    state = build_finished(office)
    assert state["state"] == "failed" and state["reason"] == "storage_full"
    text = office.get("/office/booklet").get_data(as_text=True)
    assert state["message"] in text and "đầy" in state["message"]
    monkeypatch.undo()
    with app.app_context():
        booklet_service.build(seminars.current_seminar(), None, draft=True)
    state = office.get("/office/booklet/progress").json
    assert state["state"] == "done"
    assert state["message"] not in office.get("/office/booklet").get_data(as_text=True) \
        if "message" in state else True


def test_every_worker_sees_the_stage_a_build_has_reached(app, client_as, people,
                                                           monkeypatch):
    """A build that stays in a stage shows it on every worker's page, however quickly it got
    there (stages reached within a moment of each other are written together)."""
    add_papers(app, [1, 2], pages=1)
    seen = threading.Event()

    def slow_merge(*args, progress, **kwargs):
        progress("front matter", 0.05)
        progress("merging", 0.4)
        seen.wait(60)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(merge, "build_booklet", slow_merge)
    office = client_as("office")
    page = office.get("/office/booklet")
    assert office.post("/office/booklet/build", data={"csrf_token": csrf_from(page.data),
                                                      "kind": "draft"}).status_code == 302
    try:
        def merging() -> dict | None:
            state = office.get("/office/booklet/progress").json
            return state if state.get("stage") == "merging" else None

        state = wait_until(merging, timeout=15, message="the stage 'merging' was never shown")
        assert state["state"] == "running"
        assert state["stage_label"] == "ghép các tham luận"
    finally:
        seen.set()
    assert build_finished(office)["reason"] == "storage_full"


def test_the_command_line_build_respects_the_claim(app, people):
    add_papers(app, [1, 2], pages=1)
    with app.app_context():
        held = build_progress.claim(draft=True)
    try:
        result = app.test_cli_runner().invoke(args=["booklet", "build", "--draft"])
        assert result.exit_code != 0
        assert BUSY_VI in result.output
        with app.app_context():
            assert db.session.scalars(select(Booklet)).all() == []
    finally:
        held.fail("crashed")
    result = app.test_cli_runner().invoke(args=["booklet", "build", "--draft"])
    assert result.exit_code == 0, result.output


def test_the_booklet_pages_load_no_pdf_library(app):
    """The office and materials pages import the booklet's service, never its PDF modules
    (pikepdf, WeasyPrint): those load when a build runs."""
    code = ("import sys; from config import TestingConfig; from portal import create_app; "
            "create_app(TestingConfig); "
            "print(sorted(m for m in sys.modules if m.startswith('portal.services.booklet.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True, timeout=120).stdout
    assert "portal.services.booklet.build" in loaded
    for module in ("merge", "front", "stamp", "places", "fonts", "impose"):
        assert f"portal.services.booklet.{module}'" not in loaded


@pytest.fixture(autouse=True)
def _no_claim_left(app):
    yield
    with app.app_context():
        state = build_progress.read()
    assert state["state"] != "running", "a test left a build running"
