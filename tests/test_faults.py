"""Faults: a worker killed in the middle of an upload, a full or read-only upload folder, a
locked or unreachable database, a booklet build that crashes. Each leaves the portal as it
was — no revision row, no stray file, the previous booklet served — and the user reads a
page that says what to do, never a traceback."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import select

from config import TestingConfig
from portal import clock, create_app
from portal import database as database_module
from portal import storage as storage_module
from portal.extensions import db
from portal.models import Booklet, Registration, Submission
from portal.services import integrity, seminars
from portal.services.booklet import build as booklet_service
from portal.services.booklet import merge as assemble
from portal.storage import LEFTOVER_AGE, get_storage

from .conftest import (
    add_papers,
    build_finished,
    create_account,
    csrf_from,
    login,
    make_app,
    upload,
    wait_until,
)
from .docmaker import A4, docx_bytes, pdf_bytes
from .liveserver import GUNICORN, LiveServer, children_of, command_line, free_port
from .scenarios import run_in_tmpfs
from .test_submissions import BEFORE

requests = pytest.importorskip("requests")

RETRY_VI = "Vui lòng thử lại"
STORAGE_VI = "Hệ thống chưa thể lưu tệp của bạn lúc này"
PRESENTER = "trinh.bay@example.org"
PASSWORD = "giet-giua-chung-2021"
UNIT_OF_3 = "Phòng Kế hoạch - Tài chính"


def files_under(root: Path) -> dict[str, bytes]:
    """Every file in the upload folder (temporary ones included) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def big_pdf(size: int) -> bytes:
    """A valid one-page PDF of about ``size`` bytes (an incompressible stream inside)."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=A4)
    pdf.Root.Padding = pdf.make_stream(os.urandom(size))
    out = io.BytesIO()
    pdf.save(out, compress_streams=False)
    return out.getvalue()


def big_docx(size: int, paragraphs: int = 800) -> bytes:
    """A Word paper of about ``size`` bytes (an incompressible picture inside) whose
    conversion takes the checking child a few seconds (some 140 pages of text)."""
    sentence = ("Cải cách hành chính là nhiệm vụ trọng tâm của Sở Khoa học và Công nghệ tỉnh "
                "Quảng Ngãi. ") * 6
    buffer = io.BytesIO(docx_bytes([sentence] * paragraphs, heading="Tham luận"))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(zipfile.ZipInfo("word/media/image1.bin"),
                         os.urandom(max(size - len(buffer.getvalue()), 0)))
    return buffer.getvalue()


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid``: its children, theirs, and so on."""
    found = children_of(pid)
    for child in list(found):
        found.extend(_descendants(child))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


# -- 1. a worker killed with SIGKILL in the middle of an upload ------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One sync gunicorn worker (so the upload's worker is known) on a prepared SQLite DB."""
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the virtual environment")
    server = LiveServer(tmp_path_factory.mktemp("killed"), workers=1)
    server.flask("db", "upgrade")
    server.flask("seminar", "load-plan")
    server.flask("seminar", "set-deadline", "01/01/2100 00:00")
    server.flask("users", "create", "--email", PRESENTER, "--name", "Trần Văn Trình Bày",
                 "--unit", UNIT_OF_3, "--password", PASSWORD)
    try:
        server.start()
        yield server
    finally:
        server.stop()


class RawUpload:
    """A multipart upload sent by hand over a socket, so that it can stop half way."""

    def __init__(self, live: LiveServer, position: int, data: bytes, filename: str):
        self.live = live
        http = requests.Session()
        token = csrf_from(http.get(live.url + "/login", timeout=30).text)
        answer = http.post(live.url + "/login", timeout=30, allow_redirects=False,
                           data={"email": PRESENTER, "password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 302, answer.text[:500]
        page = http.get(f"{live.url}/papers/{position}", timeout=30)
        assert page.status_code == 200 and 'type="file"' in page.text
        boundary = uuid.uuid4().hex
        self.body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf_from(page.text)}\r\n"
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
        cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
        # The same User-Agent as the login: the session is bound to it ("strong" protection).
        self.head = (
            f"POST /papers/{position} HTTP/1.1\r\nHost: 127.0.0.1:{live.port}\r\n"
            f"User-Agent: {http.headers['User-Agent']}\r\nCookie: {cookies}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self.sent = 0
        self.sock = socket.create_connection(("127.0.0.1", live.port), timeout=30)
        self.sock.sendall(self.head)

    def send(self, size: int, chunk: int = 64 * 1024, pause: float = 0.002) -> None:
        """Send the next ``size`` bytes of the body, slowly."""
        end = min(self.sent + size, len(self.body))
        while self.sent < end:
            piece = self.body[self.sent:min(self.sent + chunk, end)]
            self.sock.sendall(piece)
            self.sent += len(piece)
            time.sleep(pause)  # the behaviour under test: a client that sends slowly

    def answer(self) -> bytes:
        data = b""
        try:
            while True:
                piece = self.sock.recv(65536)
                if not piece:
                    break
                data += piece
        except (ConnectionResetError, TimeoutError):
            pass
        finally:
            self.sock.close()
        return data


def _bytes_written(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def _revisions(live: LiveServer, position: int) -> list[dict]:
    rows = json.loads(live.flask("submissions", "list", "--json"))
    return next(row for row in rows if row["position"] == position)["revisions"]


def _back_up(live: LiveServer, killed: int) -> None:
    """Wait for gunicorn's new worker, and for it to answer (it has started the portal)."""
    live.wait_for_workers(1, exclude=(killed,))

    def answers() -> bool:
        try:
            return requests.get(live.url + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    wait_until(answers, timeout=30, message=lambda: f"no new worker answered:\n{live.log()}",
               interval=0.1)


def _assert_nothing_left(live: LiveServer, before: dict[str, bytes], position: int) -> None:
    assert files_under(live.upload_dir) == before, "a file was left behind"
    assert _revisions(live, position) == []
    check = live.run_flask("storage", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("ok:") and "left by" not in check.stdout


def test_worker_killed_while_the_body_arrives(live):
    before = files_under(live.upload_dir)
    (worker,) = live.wait_for_workers(1)
    sending = RawUpload(live, 3, big_pdf(8 * 1024 * 1024), "Tham luận 8 MB.pdf")
    start = _bytes_written(worker)
    sending.send(3 * 1024 * 1024)
    # The worker reads the body and Werkzeug spools it (beyond 500 KB) to a temporary file
    # outside the upload folder, unnamed: nothing is in the upload folder yet.
    wait_until(lambda: _bytes_written(worker) - start >= 1024 * 1024, timeout=10,
               message="the worker did not read the body", interval=0.01)
    assert files_under(live.upload_dir) == before
    os.kill(worker, signal.SIGKILL)
    assert sending.answer() == b""  # the connection closes without an answer
    _back_up(live, worker)
    _assert_nothing_left(live, before, 3)


def test_worker_killed_while_the_file_is_checked(live):
    before = files_under(live.upload_dir)
    (worker,) = live.wait_for_workers(1)
    sending = RawUpload(live, 3, big_docx(8 * 1024 * 1024), "Tham luận 8 MB.docx")
    sending.send(len(sending.body), chunk=256 * 1024, pause=0.001)
    checker = wait_until(
        lambda: next((pid for pid in children_of(worker)
                      if "portal.services.documents.worker" in command_line(pid)), None),
        timeout=30, message=lambda: f"no checking child appeared:\n{live.log()}", interval=0.005)
    # The whole file arrived and sits in the worker's temporary folder while it is checked.
    temporary = [name for name in files_under(live.upload_dir) if name not in before]
    assert any(name.startswith(f".tmp/{worker}/upload-") for name in temporary), temporary
    assert _alive(checker)
    # Hold the master (so that no new worker starts yet), kill the worker: its checker dies
    # with it at once — left running (its conversion takes seconds) it would go on writing the
    # converted PDF into the folder.
    master = live.process.pid
    os.kill(master, signal.SIGSTOP)
    try:
        family = _descendants(worker)
        os.kill(worker, signal.SIGKILL)
        wait_until(lambda: not _alive(checker), timeout=1,
                   message="the checking child outlived its worker", interval=0.01)
        # Whatever the checker had started (a converter) is gone too: nobody is left to write.
        wait_until(lambda: not any(_alive(pid) for pid in family), timeout=10,
                   message="a process started by the worker outlived it", interval=0.01)
        left = files_under(live.upload_dir)
        assert [name for name in left if name not in before and left[name]] == \
            [name for name in temporary if name.startswith(f".tmp/{worker}/upload-")]
    finally:
        os.kill(master, signal.SIGCONT)
    assert sending.answer() == b""
    _back_up(live, worker)  # the new worker removes what the killed one left in .tmp/
    _assert_nothing_left(live, before, 3)


def test_uploads_work_again_after_the_kills(live):
    http = requests.Session()
    token = csrf_from(http.get(live.url + "/login", timeout=30).text)
    http.post(live.url + "/login", timeout=30,
              data={"email": PRESENTER, "password": PASSWORD, "csrf_token": token})
    token = csrf_from(http.get(live.url + "/papers/3", timeout=30).text)
    data = pdf_bytes(2, marker="AFTER-THE-KILLS")
    answer = http.post(live.url + "/papers/3", data={"csrf_token": token}, timeout=60,
                       files={"file": ("Tham luận.pdf", data, "application/pdf")},
                       allow_redirects=False)
    assert answer.status_code == 302, answer.text[:2000]
    (revision,) = _revisions(live, 3)
    assert revision["size"] == len(data)
    check = live.run_flask("storage", "check")
    assert check.returncode == 0 and check.stdout.startswith("ok: 2 file(s)"), check.stdout


def test_check_reports_and_fixes_what_a_gone_process_left(app):
    """Temporary files of a process that has gone are leftovers (reported, removed by
    ``--fix``); those of a running process are an upload in progress, unless very old."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with app.app_context():
        storage = get_storage()
        tmp = storage.root / ".tmp"
        (tmp / str(gone.pid)).mkdir(parents=True)
        (tmp / str(gone.pid) / "upload-abc.part").write_bytes(b"half an upload")
        (tmp / str(os.getpid())).mkdir(exist_ok=True)
        (tmp / str(os.getpid()) / "upload-live.part").write_bytes(b"arriving")
        report = integrity.check(storage)
        assert report.leftover_files == [f".tmp/{gone.pid}/upload-abc.part"]
        assert report.in_progress == [f".tmp/{os.getpid()}/upload-live.part"]
        assert not report.clean and report.stray == []

    result = app.test_cli_runner().invoke(args=["storage", "check", "--fix"])
    assert result.exit_code == 0, result.output
    assert f"left by an interrupted upload or build: .tmp/{gone.pid}/upload-abc.part" \
        in result.output
    assert "in progress (a running process)" in result.output
    assert not (tmp / str(gone.pid)).exists()
    assert (tmp / str(os.getpid()) / "upload-live.part").exists()

    old = time.time() - LEFTOVER_AGE - 60
    os.utime(tmp / str(os.getpid()) / "upload-live.part", (old, old))
    os.utime(tmp / str(os.getpid()), (old, old))
    with app.app_context():
        report = integrity.check(get_storage())
        assert report.leftover_files == [f".tmp/{os.getpid()}/upload-live.part"]
        # The portal sweeps leftovers itself when it starts.
        assert get_storage().sweep_leftovers() == 1
        assert integrity.check(get_storage()).clean


# -- 2. a full or read-only upload folder -----------------------------------------------------

def _inside(path, root: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(root)
    except (TypeError, ValueError):
        return False


class _FullDisk:
    """A file object whose writes fail with ENOSPC after ``room`` bytes."""

    def __init__(self, handle, room: int):
        self.handle = handle
        self.room = room

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def _inject(monkeypatch, root: Path, fault: str) -> None:
    """Make the upload folder fail the way ``fault`` says (tests run as root, where chmod
    does not stop writes, so the failures are injected at the system calls)."""
    real_mkstemp, real_replace, real_fdopen = tempfile.mkstemp, os.replace, os.fdopen
    real_link = os.link

    def error(code: int) -> OSError:
        return OSError(code, os.strerror(code))

    if fault in ("read-only", "full-at-start"):
        code = errno.EROFS if fault == "read-only" else errno.ENOSPC

        def mkstemp(*args, **kwargs):
            if _inside(kwargs.get("dir"), root):
                raise error(code)
            return real_mkstemp(*args, **kwargs)

        monkeypatch.setattr(storage_module.tempfile, "mkstemp", mkstemp)
    elif fault == "full-while-receiving":
        def fdopen(fd, *args, **kwargs):
            handle = real_fdopen(fd, *args, **kwargs)
            if _inside(os.readlink(f"/proc/self/fd/{fd}"), root):
                return _FullDisk(handle, room=100)
            return handle

        monkeypatch.setattr(storage_module.os, "fdopen", fdopen)
    elif fault == "full-before-checking":
        def mkstemp(*args, **kwargs):
            if _inside(kwargs.get("dir"), root) and kwargs.get("prefix") == "work-":
                raise error(errno.ENOSPC)
            return real_mkstemp(*args, **kwargs)

        monkeypatch.setattr(storage_module.tempfile, "mkstemp", mkstemp)
    elif fault in ("full-when-placing", "read-only-when-placing"):
        code = errno.ENOSPC if fault == "full-when-placing" else errno.EROFS

        def replace(src, dst, *args, **kwargs):
            if _inside(dst, root):
                raise error(code)
            return real_replace(src, dst, *args, **kwargs)

        def link(src, dst, *args, **kwargs):  # Storage.place takes the name with a link
            if _inside(dst, root):
                raise error(code)
            return real_link(src, dst, *args, **kwargs)

        monkeypatch.setattr(storage_module.os, "replace", replace)
        monkeypatch.setattr(storage_module.os, "link", link)
    else:  # pragma: no cover
        raise ValueError(fault)


FAULTS = ["read-only", "full-at-start", "full-while-receiving", "full-before-checking",
          "full-when-placing", "read-only-when-placing"]


@pytest.mark.parametrize("fault", FAULTS)
def test_full_or_read_only_folder_stores_nothing(app, client_as, monkeypatch, fault):
    client = client_as("presenter")
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    first = pdf_bytes(1, marker="FIRST")
    with clock.frozen(BEFORE):
        assert upload(client, 2, first, "Lần 1.pdf").status_code == 302
    before = files_under(root)

    _inject(monkeypatch, root, fault)
    with clock.frozen(BEFORE):
        answer = upload(client, 2, pdf_bytes(3, marker="SECOND"), "Lần 2.pdf")
    monkeypatch.undo()

    assert answer.status_code == 503
    text = answer.get_data(as_text=True)
    assert STORAGE_VI in text and "Chưa có gì được lưu" in text
    assert 'type="file"' in text and "Lần 1.pdf" in text  # the form, re-rendered
    assert "Traceback" not in text
    assert files_under(root) == before  # nothing new, not even a temporary file
    with app.app_context():
        rows = db.session.scalars(select(Submission)).all()
        assert [(r.number, r.original_filename) for r in rows] == [(1, "Lần 1.pdf")]
        assert integrity.check(get_storage()).clean

    with clock.frozen(BEFORE):  # the folder is writable again: the same upload works
        assert upload(client, 2, pdf_bytes(3, marker="SECOND"), "Lần 2.pdf").status_code == 302


REAL_SCENARIO = r"""
import json, subprocess, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from portal.extensions import db
from portal.models import Submission
from tests.conftest import upload
from tests.docmaker import pdf_bytes
from tests.scenarios import fill_up, presenter_with_a_paper

app, client, root = presenter_with_a_paper(Path(sys.argv[1]))

def files():
    return {p.relative_to(root).as_posix(): p.read_bytes().hex()[:64] + str(p.stat().st_size)
            for p in sorted(root.rglob("*")) if p.is_file()}

def folders():
    return [root] + sorted(p for p in root.rglob("*") if p.is_dir())

def attempt(case):
    answer = upload(client, 3, pdf_bytes(40, marker=case), case + ".pdf")
    with app.app_context():
        rows = len(db.session.scalars(db.select(Submission)).all())
    results[case] = {"status": answer.status_code, "text": answer.get_data(as_text=True),
                     "files": files() == before, "rows": rows}

results = {}
before = files()
for path in folders():          # chmod 0500: nothing in the folder is writable
    path.chmod(0o500)
attempt("chmod-all")
for path in folders():
    path.chmod(0o700)
papers = [p for p in folders() if "papers" in p.parts or "converted" in p.parts]
for path in papers:             # the temporary folder writable, the final places not
    path.chmod(0o500)
attempt("chmod-papers")
for path in papers:
    path.chmod(0o700)
subprocess.run(["mount", "-o", "remount,ro", str(root)], check=True)
attempt("read-only-fs")         # EROFS
subprocess.run(["mount", "-o", "remount,rw", str(root)], check=True)
filler = fill_up(root)          # ENOSPC: the file system is full
before = files()
attempt("full-fs")
filler.unlink()
before = files()
answer = upload(client, 3, pdf_bytes(40, marker="AGAIN"), "again.pdf")
results["again"] = answer.status_code
print(json.dumps(results))
"""


def test_really_read_only_or_full_folder(tmp_path):
    """The same with real failures: the upload folder is a small tmpfs in a private mount
    namespace, made read-only by chmod 0500, then remounted read-only, then filled up.
    The scenario runs without the capabilities that let root ignore file permissions."""
    answer = run_in_tmpfs(tmp_path, REAL_SCENARIO, size="4m", without_root_powers=True)
    for case in ("chmod-all", "chmod-papers", "read-only-fs", "full-fs"):
        assert answer[case]["status"] == 503, (case, answer[case]["text"][:3000])
        assert STORAGE_VI in answer[case]["text"], case
        assert answer[case]["rows"] == 1, case
        assert answer[case]["files"], f"{case}: a file was left behind"
    assert answer["again"] == 302


# -- 3. a database that is locked or unreachable ----------------------------------------------

def _assert_retry_page(response) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == 503, text[:2000]
    assert response.headers["Retry-After"] == "5"
    assert RETRY_VI in text and "Traceback" not in text and "OperationalError" not in text


@pytest.fixture
def short_locks(monkeypatch):
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 200)
    return {"pool_pre_ping": True, "connect_args": {"timeout": 0.2, "check_same_thread": False}}


def _presenter_app(tmp_path, **overrides):
    app = make_app(tmp_path, "sqlite", **overrides)
    with app.app_context():
        create_account("p@example.org", "Trình Bày", unit=UNIT_OF_3)
    client = app.test_client()
    assert login(client, "p@example.org").status_code == 302
    return app, client


def test_sqlite_write_lock_held_elsewhere(tmp_path, short_locks):
    """Another connection holds the write lock: pages still read (WAL), a POST that writes
    gets the retry page and changes nothing; once the lock is gone it works."""
    app, client = _presenter_app(tmp_path, SQLALCHEMY_ENGINE_OPTIONS=short_locks)
    token = csrf_from(client.get("/register").data)
    other = sqlite3.connect(tmp_path / "portal.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE seminar SET capacity = capacity")
        for url in ("/", "/papers", "/register"):
            assert client.get(url).status_code == 200
        _assert_retry_page(client.post("/register", data={"csrf_token": token}))
    finally:
        other.rollback()
        other.close()
    with app.app_context():
        assert db.session.scalars(select(Registration)).all() == []
    assert client.post("/register", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert len(db.session.scalars(select(Registration)).all()) == 1


def test_sqlite_locked_exclusively(tmp_path, short_locks):
    """Another process has the database to itself: every page is the retry page (with
    Retry-After, in Vietnamese, no traceback), and the portal recovers when it is released."""
    app, client = _presenter_app(tmp_path, SQLALCHEMY_ENGINE_OPTIONS=short_locks)
    token = csrf_from(client.get("/register").data)
    with app.app_context():
        db.engine.dispose()  # the pool's open connections would keep the lock from us
    other = sqlite3.connect(tmp_path / "portal.sqlite3", isolation_level=None)
    try:
        other.execute("PRAGMA locking_mode=EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")
        other.execute("UPDATE seminar SET capacity = capacity")
        for url in ("/", "/papers", "/papers/3", "/register", "/healthz"):
            _assert_retry_page(client.get(url))
        _assert_retry_page(client.post("/register", data={"csrf_token": token}))
        anonymous = app.test_client()
        _assert_retry_page(anonymous.get("/"))
        english = app.test_client()
        with english.session_transaction() as session:
            session["lang"] = "en"
        page = english.get("/")
        assert page.status_code == 503 and "Please try again" in page.get_data(as_text=True)
    finally:
        other.rollback()
        other.close()
    assert client.get("/papers").status_code == 200
    assert client.post("/register", data={"csrf_token": token}).status_code == 302


def test_postgresql_unreachable(tmp_path):
    """DATABASE_URL points at a port where nothing listens (the server is down)."""
    working, client = _presenter_app(tmp_path / "working")
    token = csrf_from(client.get("/register").data)
    down = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://portal:portal@127.0.0.1:{free_port()}"
                                "/portal?connect_timeout=3",
        UPLOAD_DIR=str(tmp_path / "uploads"), RATELIMIT_ENABLED=False,
    )
    visitor = down.test_client()
    # The same signed session (the same SECRET_KEY): a logged-in presenter.
    visitor.set_cookie("session", client.get_cookie("session").value)
    for url in ("/", "/papers", "/papers/3", "/register", "/healthz", "/login"):
        _assert_retry_page(visitor.get(url))
    _assert_retry_page(visitor.post("/register", data={"csrf_token": token}))
    _assert_retry_page(visitor.post("/login", data={"csrf_token": token, "email": "p@example.org",
                                                    "password": "x"}))
    _assert_retry_page(down.test_client().get("/"))
    with down.app_context():
        db.engine.dispose()


# -- 4. a booklet build that crashes -----------------------------------------------------------

def test_crashed_build_keeps_the_previous_booklet_served(app, client_as, people, monkeypatch):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        seminar = seminars.current_seminar()
        first = booklet_service.build(seminar, None, draft=False)
        first_id, first_path = first.id, first.stored_path
    root = Path(app.config["UPLOAD_DIR"])
    before = files_under(root)
    served = client_as("office").get(f"/office/booklet/{first_id}.pdf").data
    assert served == before[first_path]

    def crash(*args, **kwargs):
        raise Exception("simulated crash inside the merge")  # noqa: TRY002 - not a BookletError

    monkeypatch.setattr(assemble, "build_booklet", crash)
    with app.app_context():
        with pytest.raises(Exception, match="simulated crash"):
            booklet_service.build(seminars.current_seminar(), None, draft=False)

    # The same through the Office's page (the build runs in a background thread).
    office = client_as("office")
    page = office.get("/office/booklet")
    answer = office.post("/office/booklet/build",
                         data={"csrf_token": csrf_from(page.data), "kind": "final",
                               "confirm": "1"})
    assert answer.status_code == 302
    progress = build_finished(office)
    assert progress["state"] == "failed"
    assert "Tài liệu trước đó vẫn giữ nguyên" in progress["message"]

    with app.app_context():
        seminar = seminars.current_seminar()
        assert booklet_service.latest(seminar).id == first_id
        assert [b.id for b in db.session.scalars(select(Booklet))] == [first_id]
    after = files_under(root)
    assert {k: v for k, v in after.items() if not k.startswith("cache/")} == \
        {k: v for k, v in before.items() if not k.startswith("cache/")}
    assert office.get(f"/office/booklet/{first_id}.pdf").data == before[first_path]
    assert "Traceback" not in office.get("/office/booklet").get_data(as_text=True)
    if "attendee.materials_booklet" in app.view_functions:
        with app.app_context():
            from portal.models import User
            from portal.services import attendance

            member = db.session.scalar(select(User).where(User.email == "member@example.org"))
            attendance.register(seminars.current_seminar(), member)
        download = client_as("member").get("/materials/booklet.pdf")
        assert download.status_code == 200 and download.data == before[first_path]
