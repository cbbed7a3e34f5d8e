"""Faults called by their name: a nearly full disk is "storage full" (503 with Retry-After),
never "damaged"; a booklet build that fails shows as failed with its reason; a process
killed between placing a paper and committing its row leaves nothing the next start does not
clean; no ``.part`` file survives its check. ``flask storage check`` is clean after each."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from config import TestingConfig
from portal import clock, create_app
from portal.extensions import db
from portal.models import AuditEvent, Booklet, Submission
from portal.services import integrity, seminars
from portal.services.booklet import build as booklet_service
from portal.services.booklet import merge as assemble
from portal.services.documents import checker
from portal.storage import get_storage

from .conftest import ROOT, add_papers, build_finished, csrf_from, upload
from .docmaker import pdf_bytes
from .scenarios import run_in_tmpfs
from .test_faults import STORAGE_VI, _inject, big_docx
from .test_submissions import BEFORE

NEARLY_FULL = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from portal.extensions import db
from portal.models import Submission
from portal.services import integrity
from portal.storage import get_storage
from tests.conftest import upload
from tests.scenarios import fill_up, presenter_with_a_paper
from tests.test_faults import big_pdf

app, client, root = presenter_with_a_paper(Path(sys.argv[1]))

def files():
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

filler = fill_up(root, leave=16 * 1024)  # fill the file system, then give back 16 KB
before = files()
answer = upload(client, 3, big_pdf(12 * 1024), "gan-day.pdf")  # a valid 12 KB PDF
after = files()
with app.app_context():
    rows = len(db.session.scalars(db.select(Submission)).all())
    report = integrity.check(get_storage())
    clean = not (report.missing or report.corrupt or report.leftover_files)
    stray = [name for name in report.stray if name != "filler"]
filler.unlink()
again = upload(client, 3, big_pdf(12 * 1024), "gan-day.pdf").status_code
print(json.dumps({"status": answer.status_code, "text": answer.get_data(as_text=True),
                  "retry_after": answer.headers.get("Retry-After"), "new_files":
                  sorted(set(after) - set(before)), "rows": rows, "clean": clean,
                  "stray": stray, "again": again}))
"""


def test_a_nearly_full_disk_is_storage_full_not_a_damaged_file(tmp_path):
    answer = run_in_tmpfs(tmp_path, NEARLY_FULL, size="2m")
    assert answer["status"] == 503, answer["text"][-3000:]
    assert STORAGE_VI in answer["text"]
    assert "hỏng" not in answer["text"]  # not "Tệp bị hỏng"
    assert int(answer["retry_after"]) > 0
    assert answer["new_files"] == []  # nothing left in .tmp/<pid>/, no .part
    assert answer["rows"] == 1
    assert answer["clean"] and answer["stray"] == []
    assert answer["again"] == 302  # with room again, the same upload works


def test_no_space_in_a_checking_error_is_storage_full():
    for detail in ("QPDFSystemError: No space left on device", "[Errno 28] No space left on "
                   "device: '/x/.tmp/1/.work-a.pdf.b.part'"):
        with pytest.raises(checker.DocumentRefused) as caught:
            checker._read_answer(0, json.dumps({"ok": False, "code": "damaged",
                                                  "detail": detail}).encode(), b"")
        assert caught.value.code == "storage_full"
    with pytest.raises(checker.DocumentRefused) as caught:
        checker._read_answer(1, b"", b"OSError: [Errno 28] No space left on device")
    assert caught.value.code == "storage_full"
    with pytest.raises(checker.DocumentRefused) as caught:  # a damaged file stays damaged
        checker._read_answer(0, json.dumps({"ok": False, "code": "damaged",
                                              "detail": "PdfError: bad xref"}).encode(), b"")
    assert caught.value.code == "damaged"
    assert checker.is_no_space(OSError(errno.ENOSPC, "x"))


def test_no_part_file_survives_a_check_that_times_out(tmp_path):
    source = tmp_path / "long.docx"
    source.write_bytes(big_docx(200_000, paragraphs=3000))
    target = tmp_path / ".work-abc.pdf"
    # what a killed converter leaves beside its target
    (tmp_path / f".{target.name}.x1y2.part").write_bytes(b"")
    with pytest.raises(checker.DocumentRefused) as caught:
        checker.run_checked(source, convert_to=target, timeout=1.5)
    assert caught.value.code == "timeout"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.docx"]


KILL_BEFORE_COMMIT = r"""
import io, os, signal, sys
from pathlib import Path
folder, root_dir = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, root_dir)
from portal.services import submissions
from tests.conftest import upload
from tests.docmaker import pdf_bytes
from tests.scenarios import presenter_with_a_paper

app, client, uploads = presenter_with_a_paper(folder)
print("first stored", flush=True)

def killed(*args, **kwargs):  # the files are in place, the row is not committed yet
    os.kill(os.getpid(), signal.SIGKILL)

submissions.audit.record = killed
upload(client, 3, pdf_bytes(2, marker="SECOND"), "second.pdf")
"""


def test_a_kill_between_storing_and_committing_is_cleaned_at_the_next_start(tmp_path):
    result = subprocess.run([sys.executable, "-c", KILL_BEFORE_COMMIT, str(tmp_path),
                             str(ROOT)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == -9 and "first stored" in result.stdout, result.stderr[-2000:]
    uploads = tmp_path / "uploads"
    papers = sorted(p.relative_to(uploads).as_posix() for p in uploads.glob("papers/*/*"))
    assert len(papers) == 2  # the killed upload's paper, with no row

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/"
                     "portal.sqlite3", UPLOAD_DIR=str(uploads))  # the next start
    with app.app_context():
        rows = db.session.scalars(select(Submission)).all()
        assert [r.stored_path for r in rows] == papers[:1]
        assert sorted(p.relative_to(uploads).as_posix()
                      for p in uploads.glob("papers/*/*")) == papers[:1]
        report = integrity.check(get_storage())
        assert report.clean, (report.stray, report.leftover_files)
        assert not list(uploads.rglob("*.part"))
        db.session.remove()
        db.engine.dispose()
    check = app.test_cli_runner().invoke(args=["storage", "check"])
    assert check.exit_code == 0, check.output


def test_files_placed_by_a_running_process_are_left_alone(app, people):
    storage = app.extensions["storage"]
    temp = storage.new_temp_path(".pdf")
    temp.write_bytes(b"%PDF-1.4 in flight")
    storage.place(temp, "papers/9/001-inflight.pdf")  # this process: alive, not committed
    create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
               UPLOAD_DIR=app.config["UPLOAD_DIR"])  # another worker starts meanwhile
    assert storage.exists("papers/9/001-inflight.pdf")
    storage.settle("papers/9/001-inflight.pdf")
    assert not [name for name in storage.iter_files() if "/placed-" in name]


def test_a_booklet_build_on_a_full_disk_shows_as_failed_with_its_reason(app, client_as, people,
                                                                        monkeypatch):
    add_papers(app, range(1, 8), pages=1)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(assemble, "build_booklet", full_disk)
    office = client_as("office")
    page = office.get("/office/booklet")
    answer = office.post("/office/booklet/build",
                         data={"csrf_token": csrf_from(page.data), "kind": "draft"})
    assert answer.status_code == 302
    progress = build_finished(office)
    assert progress["state"] == "failed"  # not "idle"
    assert "bộ nhớ" in progress["message"] or "đầy" in progress["message"], progress
    text = office.get("/office/booklet").get_data(as_text=True)
    assert progress["message"] in text
    with app.app_context():
        assert db.session.scalars(select(Booklet)).all() == []
        event = db.session.scalar(select(AuditEvent)
                                  .where(AuditEvent.action == "booklet.build_failed"))
        assert event is not None
        assert integrity.check(get_storage()).clean
    # a later successful build replaces the failure
    monkeypatch.undo()
    with app.app_context():
        booklet_service.build(seminars.current_seminar(), None, draft=True)
    assert office.get("/office/booklet/progress").json["state"] == "done"


def test_storage_full_on_upload_carries_retry_after(app, client_as, monkeypatch):
    client = client_as("presenter")
    _inject(monkeypatch, Path(app.config["UPLOAD_DIR"]).resolve(), "full-at-start")
    with clock.frozen(BEFORE):
        answer = upload(client, 2, pdf_bytes(1), "a.pdf")
    assert answer.status_code == 503
    assert STORAGE_VI in answer.get_data(as_text=True)
    assert int(answer.headers["Retry-After"]) > 0
