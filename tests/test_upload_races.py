"""Revisions by their bytes, and uploads at the same moment.

Going back to an earlier file (A, then B, then A again) makes a new current revision that
shares A's stored file and normalised PDF; only the bytes of the current revision are "nothing
new". Two identical uploads at the same moment (a double click) store one revision and answer
both with a redirect; two different ones get two numbers. ``Storage.place`` never replaces a
file, even when two processes place the same name at once; a revision whose file has gone from
the disk answers 404, not 500.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import os
import tarfile
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import clock
from portal import storage as storage_module
from portal.extensions import db
from portal.models import AuditEvent, Submission
from portal.services.documents import checker
from portal.services.papers import get_assignment
from portal.storage import AlreadyExists, Storage, StorageError

from .conftest import PG_URL, csrf_from, login, upload
from .docmaker import docx_bytes, pdf_bytes
from .liveserver import GUNICORN, LiveServer
from .test_submissions import BEFORE, DEADLINE, rows, stored_files

IDENTICAL_VI = "giống hệt lần nộp thứ"
RECEIVED_VI = "Đã nhận:"
NOT_FOUND_VI = "Không tìm thấy trang"


def under(app, folder: str) -> list[str]:
    return [name for name in stored_files(app) if name.startswith(f"{folder}/")]


def storage_check(app):
    return app.test_cli_runner().invoke(args=["storage", "check"])


def flash_of(client, url: str = "/papers/2") -> str:
    return client.get(url).get_data(as_text=True)


# -- 1. going back to an earlier file --------------------------------------------------------

def test_going_back_to_an_earlier_file_makes_it_current_without_a_copy(app, client_as):
    client = client_as("presenter")
    a = docx_bytes(["Bản thứ nhất của tham luận"], heading="Tham luận A")
    b = pdf_bytes(2, marker="B")
    with clock.frozen(BEFORE - timedelta(days=3)):
        assert upload(client, 2, a, "Tham luận A.docx").status_code == 302
    with clock.frozen(BEFORE - timedelta(days=2)):
        assert upload(client, 2, b, "Tham luận B.pdf").status_code == 302
    papers, converted = under(app, "papers"), under(app, "converted")
    assert len(papers) == 2 and len(converted) == 2

    third_at = BEFORE - timedelta(days=1)
    with clock.frozen(third_at):
        again = upload(client, 2, a, "Tham luận A (gửi lại).docx")
    assert again.status_code == 302
    assert "Tham luận A (gửi lại).docx (lần nộp thứ 3)" in flash_of(client)

    one, two, three = rows(app)
    assert [r.number for r in (one, two, three)] == [1, 2, 3]
    assert three.sha256 == one.sha256 == hashlib.sha256(a).hexdigest()
    assert three.stored_path == one.stored_path  # the same file, not a copy
    assert three.normalised_path == one.normalised_path is not None
    assert (three.file_type, three.size, three.pages, three.normalised_pages) == \
        (one.file_type, one.size, one.pages, one.normalised_pages)
    assert three.original_filename == "Tham luận A (gửi lại).docx"
    assert three.uploaded_at == third_at
    assert not three.late and three.received_at is None
    assert under(app, "papers") == papers and under(app, "converted") == converted

    with app.app_context():
        assignment = get_assignment(
            db.session.get(Submission, three.id).assignment.seminar, 2)
        assert assignment.current_submission.number == 3
        uploads = [json.loads(e.detail) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "submission.upload")
            .order_by(AuditEvent.id))]
    assert uploads[-1]["number"] == 3 and uploads[-1]["same_as"] == 1

    download = client.get("/papers/2/revisions/3/download")
    assert download.status_code == 200 and download.data == a
    assert "Tham luan A (gui lai).docx" in download.headers["Content-Disposition"]
    assert client.get("/papers/2/revisions/2/download").data == b
    result = storage_check(app)
    assert result.exit_code == 0 and result.output.startswith("ok:"), result.output

    # The current revision's bytes again: nothing new, whatever the name.
    with clock.frozen(third_at + timedelta(hours=1)):
        same = upload(client, 2, a, "A lần nữa.docx")
    assert same.status_code == 302
    assert f"{IDENTICAL_VI} 3" in flash_of(client)
    assert len(rows(app)) == 3
    assert under(app, "papers") == papers and under(app, "converted") == converted
    assert [f for f in stored_files(app) if f.startswith(".tmp/") and not f.endswith("/")] == []

    # B again (revision 2's bytes): revision 4, B's file.
    with clock.frozen(third_at + timedelta(hours=2)):
        assert upload(client, 2, b, "B.pdf").status_code == 302
    four = rows(app)[-1]
    assert (four.number, four.stored_path) == (4, two.stored_path)
    assert client.get("/papers/2/revisions/4/download").data == b
    assert under(app, "papers") == papers


def test_going_back_after_the_deadline_is_late_as_usual(app, client_as):
    presenter = client_as("presenter")
    a, b = pdf_bytes(1, marker="A"), pdf_bytes(1, marker="B")
    with clock.frozen(BEFORE):
        assert upload(presenter, 2, a, "a.pdf").status_code == 302
        assert upload(presenter, 2, b, "b.pdf").status_code == 302
    with clock.frozen(DEADLINE + timedelta(hours=1)):
        refused = upload(presenter, 2, a, "a.pdf")
        assert refused.status_code == 403  # the presenter's deadline holds for old bytes too
        office = client_as("office")
        answer = upload(office, 2, a, "a-by-office.pdf", url="/office/papers/2")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    three = rows(app)[-1]
    assert three.number == 3 and three.late and three.on_behalf
    assert three.stored_path == rows(app)[0].stored_path


def test_an_earlier_revision_whose_file_has_gone_is_stored_again(app, client_as):
    client = client_as("presenter")
    a, b = pdf_bytes(1, marker="A"), pdf_bytes(1, marker="B")
    with clock.frozen(BEFORE):
        upload(client, 2, a, "a.pdf")
        upload(client, 2, b, "b.pdf")
    first = rows(app)[0]
    (Path(app.config["UPLOAD_DIR"]) / first.stored_path).unlink()
    with clock.frozen(BEFORE):
        assert upload(client, 2, a, "a.pdf").status_code == 302
    three = rows(app)[-1]
    assert three.number == 3 and three.stored_path != first.stored_path
    assert client.get("/papers/2/revisions/3/download").data == a


def test_a_file_gone_between_the_first_look_and_the_lock(app, client_as, monkeypatch):
    """The first look (no lock) finds revision 1's bytes on disk, so no check runs; the file
    is removed right after that look (by someone else), so under the lock it has gone: the
    upload is checked after all and stored as a new file."""
    client = client_as("presenter")
    a, b = pdf_bytes(1, marker="A"), pdf_bytes(1, marker="B")
    with clock.frozen(BEFORE):
        upload(client, 2, a, "a.pdf")
        upload(client, 2, b, "b.pdf")
    first = rows(app)[0]
    storage = app.extensions["storage"]
    looked = storage.exists

    def removed_once_seen(relative: str) -> bool:
        found = looked(relative)
        if found and relative == first.stored_path:
            storage.path(relative).unlink()  # gone the moment after it was seen
        return found

    monkeypatch.setattr(storage, "exists", removed_once_seen)
    checks = []
    real = checker.run_checked
    monkeypatch.setattr(checker, "run_checked",
                        lambda *args, **kw: checks.append(args) or real(*args, **kw))
    with clock.frozen(BEFORE):
        assert upload(client, 2, a, "a.pdf").status_code == 302
    assert len(checks) == 1
    three = rows(app)[-1]
    assert three.number == 3 and three.stored_path != first.stored_path
    assert client.get("/papers/2/revisions/3/download").data == a


def test_the_same_file_for_two_papers_shares_its_normalised_pdf(app, client_as):
    data = docx_bytes(["Cùng một tệp cho hai tham luận"])
    with clock.frozen(BEFORE):
        assert upload(client_as("presenter"), 2, data, "x.docx").status_code == 302
        assert upload(client_as("office"), 4, data, "x.docx",
                      url="/office/papers/4").status_code == 302
    one, two = rows(app)
    assert one.stored_path != two.stored_path
    assert one.normalised_path == two.normalised_path is not None
    assert len(under(app, "converted")) == 1
    assert storage_check(app).exit_code == 0


def test_backup_and_restore_with_revisions_sharing_a_file(app, client_as, backend, tmp_path):
    from .test_backup import files_of, fresh_installation, make_backup, rows_of

    client = client_as("presenter")
    a, b = docx_bytes(["A"]), pdf_bytes(1, marker="B")
    with clock.frozen(BEFORE):
        for data, name in ((a, "a.docx"), (b, "b.pdf"), (a, "a-again.docx")):
            assert upload(client, 2, data, name).status_code == 302
    rows_before, files = rows_of(app), files_of(app)
    out = tmp_path / "shared.tar.gz"
    created = make_backup(app, out)
    assert "missing" not in created.output and "differs" not in created.output
    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert len(names) == len(set(names))  # a shared file is taken once
    assert sorted(item["path"] for item in manifest["files"]) == sorted(files)

    fresh = fresh_installation(tmp_path, backend, app)
    restored = fresh.test_cli_runner().invoke(args=["backup", "restore", str(out)])
    assert restored.exit_code == 0, restored.output
    assert files_of(fresh) == files and rows_of(fresh) == rows_before
    assert storage_check(fresh).exit_code == 0
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


# -- 2. Storage.place: atomic, never replaces -----------------------------------------------

def _temp_with(storage: Storage, data: bytes) -> Path:
    return storage.receive(io.BytesIO(data)).path


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
def test_place_never_replaces_a_file(tmp_path, monkeypatch, links):
    if not links:
        def no_link(src, dst, *args, **kwargs):
            raise OSError(errno.EPERM, os.strerror(errno.EPERM))

        monkeypatch.setattr(storage_module.os, "link", no_link)
    storage = Storage(tmp_path)
    first = _temp_with(storage, b"first")
    target = storage.place(first, "papers/1/001.pdf")
    assert target.read_bytes() == b"first" and not first.exists()

    second = _temp_with(storage, b"second")
    with pytest.raises(AlreadyExists) as raised:
        storage.place(second, "papers/1/001.pdf")
    assert isinstance(raised.value, StorageError)
    assert raised.value.relative == "papers/1/001.pdf"
    assert target.read_bytes() == b"first"
    assert second.read_bytes() == b"second"  # the caller discards its own temporary file


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
def test_place_at_the_same_moment_has_one_winner(tmp_path, monkeypatch, links):
    if not links:
        def no_link(src, dst, *args, **kwargs):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

        monkeypatch.setattr(storage_module.os, "link", no_link)
    storage = Storage(tmp_path)
    for round_ in range(20):
        _race_once(storage, f"converted/v/{round_}.pdf", racers=12)
    assert not [f for f in storage.iter_files() if f.startswith(".tmp/")]


def _race_once(storage: Storage, relative: str, racers: int) -> None:
    temps = [_temp_with(storage, f"racer {i}".encode() * 1000) for i in range(racers)]
    barrier = threading.Barrier(racers)
    outcome: dict[int, str] = {}

    def race(i: int) -> None:
        barrier.wait(10)
        try:
            storage.place(temps[i], relative)
            outcome[i] = "won"
        except AlreadyExists:
            outcome[i] = "exists"
            temps[i].unlink()  # what a loser does: discard its own temporary file
        except Exception as error:  # noqa: BLE001 - reported below
            outcome[i] = repr(error)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [i for i, result in outcome.items() if result == "won"]
    assert len(winners) == 1, outcome
    assert sorted(outcome.values()) == ["exists"] * (racers - 1) + ["won"]
    assert storage.path(relative).read_bytes() == f"racer {winners[0]}".encode() * 1000


def test_place_fails_cleanly_when_the_link_fails(tmp_path, monkeypatch):
    def full(src, dst, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage_module.os, "link", full)
    storage = Storage(tmp_path)
    temp = _temp_with(storage, b"data")
    with pytest.raises(StorageError) as raised:
        storage.place(temp, "papers/1/001.pdf")
    assert not isinstance(raised.value, AlreadyExists)
    assert not storage.exists("papers/1/001.pdf") and temp.exists()


# -- 3. uploads at the same moment, in one process (deterministic) ---------------------------

def _hold_checks_together(monkeypatch, count: int = 2) -> None:
    """Every check waits for the others to finish theirs: the uploads then race for the lock."""
    barrier = threading.Barrier(count)
    real = checker.run_checked

    def together(*args, **kwargs):
        answer = real(*args, **kwargs)
        barrier.wait(30)
        return answer

    monkeypatch.setattr(checker, "run_checked", together)


def _at_once(app, jobs: list[tuple[bytes, str]]) -> list:
    """Upload each (data, name) to paper 2 from its own thread and logged-in client."""
    clients = []
    for _ in jobs:
        client = app.test_client()
        assert login(client, "presenter@example.org").status_code == 302
        clients.append(client)
    answers: list = [None] * len(jobs)

    def send(i: int) -> None:
        try:
            with clock.frozen(BEFORE):
                answers[i] = upload(clients[i], 2, *jobs[i])
        except Exception as error:  # noqa: BLE001 - reported below
            answers[i] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return list(zip(answers, clients, strict=True))


def test_double_click_stores_one_revision(app, client_as, monkeypatch):
    client = client_as("presenter")
    with clock.frozen(BEFORE):
        assert upload(client, 2, pdf_bytes(1, marker="FIRST"), "first.pdf").status_code == 302
    before = under(app, "papers")
    data = docx_bytes(["Nhấp đúp"])
    _hold_checks_together(monkeypatch)
    answers = _at_once(app, [(data, "double.docx"), (data, "double.docx")])
    assert [getattr(a, "status_code", a) for a, _ in answers] == [302, 302]
    flashes = sorted(flash_of(c) for _, c in answers)
    assert sum(f"{IDENTICAL_VI} 2" in page for page in flashes) == 1
    assert sum("double.docx (lần nộp thứ 2)" in page for page in flashes) == 1
    assert [r.number for r in rows(app)] == [1, 2]
    assert len(under(app, "papers")) == len(before) + 1
    assert client.get("/papers/2/revisions/2/download").data == data
    result = storage_check(app)
    assert result.exit_code == 0 and result.output.startswith("ok:"), result.output


def test_two_different_files_at_once_get_two_numbers(app, people, monkeypatch):
    one, two = pdf_bytes(1, marker="ONE"), pdf_bytes(2, marker="TWO")
    _hold_checks_together(monkeypatch)
    answers = _at_once(app, [(one, "one.pdf"), (two, "two.pdf")])
    assert [getattr(a, "status_code", a) for a, _ in answers] == [302, 302]
    revisions = rows(app)
    assert sorted(r.number for r in revisions) == [1, 2]
    by_name = {r.original_filename: r.number for r in revisions}
    client = answers[0][1]
    assert client.get(f"/papers/2/revisions/{by_name['one.pdf']}/download").data == one
    assert client.get(f"/papers/2/revisions/{by_name['two.pdf']}/download").data == two
    assert storage_check(app).exit_code == 0


# -- 4. a file gone from the disk --------------------------------------------------------------

def test_download_of_a_missing_file_is_a_404(app, client_as, caplog, monkeypatch):
    # alembic's fileConfig (test_migrations runs it) disables the loggers that exist then
    monkeypatch.setattr(logging.getLogger("portal.storage"), "disabled", False)
    client = client_as("presenter")
    with clock.frozen(BEFORE):
        upload(client, 2, pdf_bytes(1), "a.pdf")
    (row,) = rows(app)
    (Path(app.config["UPLOAD_DIR"]) / row.stored_path).unlink()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR, logger="portal.storage"):
        answer = client.get("/papers/2/revisions/1/download")
    assert answer.status_code == 404
    text = answer.get_data(as_text=True)
    assert NOT_FOUND_VI in text and "Traceback" not in text
    assert any(row.stored_path in record.getMessage() for record in caplog.records)


# -- 5. against a real server: gunicorn workers, SQLite file and PostgreSQL -------------------

requests = pytest.importorskip("requests")

PRESENTER = "nhap.dup@example.org"
PASSWORD = "nhap-dup-cung-luc-2021"
UNIT_OF_3 = "Phòng Kế hoạch - Tài chính"
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not PG_URL, reason="PostgreSQL tests need TEST_DATABASE_URL")),
]


@pytest.fixture(params=BACKENDS)
def live(request, tmp_path):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the virtual environment")
    server = LiveServer(tmp_path / "live", PG_URL if request.param == "postgresql" else None,
                        workers=3)
    server.flask("db", "upgrade")
    server.flask("seminar", "load-plan")
    server.flask("seminar", "set-deadline", "01/01/2100 00:00")
    server.flask("users", "create", "--email", PRESENTER, "--name", "Trần Nhấp Đúp",
                 "--unit", UNIT_OF_3, "--password", PASSWORD)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _browser(live: LiveServer) -> requests.Session:
    http = requests.Session()
    token = csrf_from(http.get(live.url + "/login", timeout=30).text)
    answer = http.post(live.url + "/login", timeout=30, allow_redirects=False,
                       data={"email": PRESENTER, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.text[:500]
    return http


def _tab(http: requests.Session) -> requests.Session:
    """A second request from the same browser: the same cookies, the same User-Agent."""
    other = requests.Session()
    other.headers.update(http.headers)
    other.cookies.update(http.cookies)
    return other


def _live_at_once(live: LiveServer, sessions, files: list[tuple[bytes, str]]) -> list:
    token = csrf_from(sessions[0].get(f"{live.url}/papers/3", timeout=30).text)
    barrier = threading.Barrier(len(files))
    answers: list = [None] * len(files)

    def press(i: int) -> None:
        barrier.wait(30)
        try:
            answers[i] = sessions[i].post(
                f"{live.url}/papers/3", data={"csrf_token": token},
                files={"file": (files[i][1], files[i][0], "application/octet-stream")},
                allow_redirects=False, timeout=120)
        except Exception as error:  # noqa: BLE001 - reported below
            answers[i] = error

    threads = [threading.Thread(target=press, args=(i,)) for i in range(len(files))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(150)
    return answers


def _live_revisions(live: LiveServer) -> list[dict]:
    listed = json.loads(live.flask("submissions", "list", "--json"))
    return next(row for row in listed if row["position"] == 3)["revisions"]


def _assert_check_clean(live: LiveServer) -> None:
    check = live.run_flask("storage", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("ok:") and "left by" not in check.stdout


def test_live_double_click_and_two_files_at_once(live):
    http = _browser(live)
    first = pdf_bytes(1, marker="LIVE-FIRST")
    token = csrf_from(http.get(f"{live.url}/papers/3", timeout=30).text)
    answer = http.post(f"{live.url}/papers/3", data={"csrf_token": token},
                       files={"file": ("first.pdf", first)}, allow_redirects=False, timeout=60)
    assert answer.status_code == 302, answer.text[:2000]
    assert "first.pdf" in http.get(f"{live.url}/papers/3", timeout=30).text  # its message read

    # A double click: the same file twice at the same moment, from the same browser.
    same = docx_bytes(["Nhấp đúp vào nút Gửi"] * 40, heading="Tham luận")
    tabs = [http, _tab(http)]
    answers = _live_at_once(live, tabs, [(same, "double.docx"), (same, "double.docx")])
    assert [getattr(a, "status_code", a) for a in answers] == [302, 302], live.log()
    pages = [tab.get(f"{live.url}/papers/3", timeout=30).text for tab in tabs]
    assert sum(f"{IDENTICAL_VI} 2" in page for page in pages) == 1, live.log()
    assert sum(f"{RECEIVED_VI} double.docx (lần nộp thứ 2)" in page for page in pages) == 1
    revisions = _live_revisions(live)
    assert [r["number"] for r in revisions] == [1, 2]
    assert revisions[1]["sha256"] == hashlib.sha256(same).hexdigest()
    papers = [p for p in (live.upload_dir / "papers").rglob("*") if p.is_file()]
    assert len(papers) == 2
    assert http.get(f"{live.url}/papers/3/revisions/2/download", timeout=30).content == same
    _assert_check_clean(live)

    # Two different files at the same moment: two revisions, both files intact.
    one = pdf_bytes(2, marker="LIVE-ONE")
    two = docx_bytes(["Tệp thứ hai"] * 40)
    answers = _live_at_once(live, [http, _tab(http)], [(one, "one.pdf"), (two, "two.docx")])
    assert [getattr(a, "status_code", a) for a in answers] == [302, 302], live.log()
    revisions = _live_revisions(live)
    assert sorted(r["number"] for r in revisions) == [1, 2, 3, 4]
    by_name = {r["filename"]: r["number"] for r in revisions}
    for name, data in (("one.pdf", one), ("two.docx", two)):
        download = http.get(f"{live.url}/papers/3/revisions/{by_name[name]}/download",
                            timeout=30)
        assert download.status_code == 200 and download.content == data
    _assert_check_clean(live)
    assert "Traceback" not in live.log()
