"""Backups: ``flask backup create`` then ``flask backup restore`` into a fresh installation
brings back every file byte for byte and every row; a damaged or tampered archive is refused
before anything changes; an installation in use is not overwritten without --force. On SQLite
always, on PostgreSQL (pg_dump / pg_restore) when TEST_DATABASE_URL is set."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from config import TestingConfig
from portal import clock, create_app
from portal.extensions import db
from portal.models import User
from portal.services import attendance, backup, papers, seminars, submissions
from portal.services.backup import database as backup_database
from portal.services.booklet import build as booklet_service

from .conftest import PG_URL, add_papers, login, make_app
from .docmaker import pdf_bytes
from .scenarios import run_in_tmpfs

TABLES = ["seminar", "unit", "user_account", "assignment", "submission", "registration",
          "booklet", "audit_event"]


def rows_of(app) -> dict[str, list[tuple]]:
    with app.app_context():
        with db.engine.connect() as conn:
            return {table: [tuple(row) for row in conn.execute(
                text(f"SELECT * FROM {table} ORDER BY id"))] for table in TABLES}


def files_of(app) -> dict[str, bytes]:
    root = Path(app.config["UPLOAD_DIR"])
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.relative_to(root).as_posix().startswith((".tmp/",
                                                                              "cache/"))}


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def populated(app, people):
    """Seven papers (a second revision of paper 2), an attendee, and a final booklet."""
    add_papers(app, range(1, 8), pages=1)
    with app.app_context(), clock.frozen(datetime(2021, 5, 11, 2, 0, tzinfo=UTC)):
        seminar = seminars.current_seminar()
        presenter = db.session.get(User, people["presenter"])
        submissions.upload(papers.get_assignment(seminar, 2), presenter,
                           io.BytesIO(pdf_bytes(2, marker="SECOND-REVISION")), "Lần 2.pdf")
        attendance.register(seminar, db.session.get(User, people["member"]))
        booklet_service.build(seminar, None, draft=False)
    return app


def fresh_installation(tmp_path: Path, backend: str, old_app):
    """A new installation: new folders and a new, empty database (on PostgreSQL the test
    database, emptied: the old installation is gone)."""
    _dispose(old_app)
    folder = tmp_path / "fresh"
    folder.mkdir()
    if backend == "postgresql":
        with old_app.app_context(), db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        _dispose(old_app)
        url = PG_URL
    else:
        url = f"sqlite:///{folder / 'portal.sqlite3'}"
    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url,
                      UPLOAD_DIR=str(folder / "uploads"), WTF_CSRF_ENABLED=True,
                      RATELIMIT_ENABLED=False)


def make_backup(app, out: Path):
    result = app.test_cli_runner().invoke(args=["backup", "create", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("fresh_database", ["empty", "migrated by newer code"])
def test_backup_and_restore_into_a_fresh_installation(populated, backend, tmp_path,
                                                      fresh_database):
    app = populated
    rows, files = rows_of(app), files_of(app)
    assert any(name.startswith("booklets/") for name in files)
    assert any(name.startswith("converted/") for name in files)
    out = tmp_path / "backups" / "portal-2021-05-18.tar.gz"
    created = make_backup(app, out)
    assert f"Backup written: {out}" in created.output
    assert out.stat().st_mode & 0o777 == 0o600  # internal documents
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left

    with tarfile.open(out) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "manifest.json"
    assert manifest["format"] == backup.FORMAT and manifest["version"] == 1
    assert manifest["database"]["kind"] == backend
    assert manifest["database"]["tables"]["submission"] == len(rows["submission"])
    assert {item["path"] for item in manifest["files"]} == set(files)
    assert {("files/" + name) for name in files} <= set(names)

    fresh = fresh_installation(tmp_path, backend, app)
    if fresh_database != "empty":  # `flask db upgrade` of a newer version made its tables
        with fresh.app_context():
            db.create_all()
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE newer_feature (id integer PRIMARY KEY)"))
    restored = fresh.test_cli_runner().invoke(args=["backup", "restore", str(out)])
    assert restored.exit_code == 0, restored.output
    assert f"Restored {len(files)} file(s)" in restored.output
    assert "storage check: ok" in restored.output
    with fresh.app_context():
        assert "newer_feature" not in backup_database.table_counts(db.engine)

    assert files_of(fresh) == files  # byte for byte
    assert rows_of(fresh) == rows  # seminar, accounts with password hashes, papers, …
    check = fresh.test_cli_runner().invoke(args=["storage", "check"])
    assert check.exit_code == 0 and check.output.startswith("ok:"), check.output
    client = fresh.test_client()
    assert login(client, "presenter@example.org").status_code == 302  # the password hash
    with fresh.app_context():
        seminar = seminars.current_seminar()
        latest = booklet_service.latest(seminar)
        assert latest is not None and not latest.is_draft
        assert [len(a.submissions) for a in seminar.assignments] == [1, 2, 1, 1, 1, 1, 1]
    _dispose(fresh)


def test_restore_refuses_an_installation_in_use(populated, tmp_path):
    app = populated
    out = tmp_path / "portal.tar.gz"
    make_backup(app, out)
    rows, files = rows_of(app), files_of(app)
    refused = app.test_cli_runner().invoke(args=["backup", "restore", str(out)])
    assert refused.exit_code == 1
    assert "in use" in refused.output and "--force" in refused.output
    assert "seminar" in refused.output and "file(s)" in refused.output
    assert rows_of(app) == rows and files_of(app) == files

    # Something changes after the backup; --force takes the installation back to it.
    with app.app_context():
        attendance.set_capacity(seminars.current_seminar(), 33)
    forced = app.test_cli_runner().invoke(args=["backup", "restore", str(out), "--force"])
    assert forced.exit_code == 0, forced.output
    assert rows_of(app) == rows and files_of(app) == files


def _rewrite(source: Path, target: Path, change) -> None:
    """Copy the archive member by member through ``change(info, data)`` → list of
    (info, data) to write instead (empty: drop the member)."""
    with tarfile.open(source) as tar, tarfile.open(target, "w:gz") as out:
        for info in tar.getmembers():
            data = tar.extractfile(info).read() if info.isreg() else b""
            for new_info, new_data in change(info, data):
                new_info.size = len(new_data) if new_info.isreg() else 0
                out.addfile(new_info, io.BytesIO(new_data) if new_info.isreg() else None)


def _first_paper(info) -> bool:
    return info.name.startswith("files/papers/")


def _tamper_content(info, data):
    if _first_paper(info) and not getattr(_tamper_content, "done", False):
        _tamper_content.done = True
        data = data[:-10] + b"0123456789"  # the same size, other bytes
    return [(info, data)]


def _drop_paper(info, data):
    return [] if _first_paper(info) else [(info, data)]


def _add_traversal(info, data):
    items = [(info, data)]
    if info.name == "manifest.json":
        evil = tarfile.TarInfo("files/../../evil.txt")
        items.append((evil, b"outside"))
    return items


def _add_symlink(info, data):
    items = [(info, data)]
    if info.name == "manifest.json":
        link = tarfile.TarInfo("files/papers/link.pdf")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        items.append((link, b""))
    return items


def _absolute_in_manifest(info, data):
    if info.name == "manifest.json":
        manifest = json.loads(data)
        manifest["files"][0]["path"] = "/etc/cron.d/evil"
        data = json.dumps(manifest).encode()
    return [(info, data)]


def _unlisted_member(info, data):
    items = [(info, data)]
    if info.name == "manifest.json":
        items.append((tarfile.TarInfo("files/papers/1/999-extra.pdf"), b"%PDF-1.4 extra"))
    return items


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage, words", [
    (_tamper_content, "sha256 differs"),
    (_drop_paper, "missing from the archive"),
    (_add_traversal, "unsafe path"),
    (_add_symlink, "link"),
    (_absolute_in_manifest, "unsafe path"),
    (_unlisted_member, "does not list"),
    ("truncated", "damaged"),
    ("not-an-archive", "damaged"),
])
def test_damaged_or_tampered_archive_is_refused_and_changes_nothing(populated, backend,
                                                                    tmp_path, damage, words):
    app = populated
    good = tmp_path / "good.tar.gz"
    make_backup(app, good)
    bad = tmp_path / "bad.tar.gz"
    if damage == "truncated":
        shutil.copy(good, bad)
        _truncate(bad)
    elif damage == "not-an-archive":
        bad.write_bytes(gzip.compress(b"just some text, not a tar"))
    else:
        if hasattr(_tamper_content, "done"):
            del _tamper_content.done
        _rewrite(good, bad, damage)
    fresh = fresh_installation(tmp_path, backend, app)
    with fresh.app_context():
        db.create_all()  # `flask db upgrade` was run: empty tables
    before_rows = rows_of(fresh)
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(bad)])
    assert result.exit_code == 1, result.output
    assert words in result.output
    assert "Database restored" not in result.output
    assert rows_of(fresh) == before_rows and before_rows["seminar"] == []
    assert files_of(fresh) == {}
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "fresh" / "evil.txt").exists()
    leftovers = [p for p in (Path(fresh.config["UPLOAD_DIR"]) / ".tmp").rglob("*") if p.is_file()]
    assert leftovers == []  # the staging folder is gone
    # The good archive restores into the same installation afterwards.
    restored = fresh.test_cli_runner().invoke(args=["backup", "restore", str(good)])
    assert restored.exit_code == 0, restored.output
    _dispose(fresh)


def test_backup_takes_exactly_the_files_the_snapshot_references(app, people, tmp_path):
    add_papers(app, [1, 2])
    root = Path(app.config["UPLOAD_DIR"])
    (root / "papers" / "9").mkdir(parents=True)
    (root / "papers" / "9" / "no-row.pdf").write_bytes(b"%PDF-1.4 a file without a row")
    (root / "cache" / "front").mkdir(parents=True, exist_ok=True)
    (root / "cache" / "front" / "derived.pdf").write_bytes(b"derived")
    out = tmp_path / "portal.tar.gz"
    result = make_backup(app, out)
    assert "not taken: 1 file(s)" in result.output
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = tar.getnames()
    assert manifest["skipped"] == ["papers/9/no-row.pdf"]
    assert not any("no-row" in name or "cache/" in name or ".tmp/" in name for name in names)

    with app.app_context():
        path = db.session.scalars(select(submissions.Submission)).first().stored_path
    (root / path).unlink()
    missing = app.test_cli_runner().invoke(args=["backup", "create", "--out",
                                                 str(tmp_path / "second.tar.gz")])
    assert missing.exit_code == 1  # written, but somebody must look
    assert f"missing (a row points at it, the file is gone): {path}" in missing.output
    assert (tmp_path / "second.tar.gz").exists()


FULL_DISK_BACKUP = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tests.conftest import add_papers, create_account, make_app
from tests.scenarios import fill_up

folder = Path(sys.argv[1])
app = make_app(folder)
with app.app_context():
    create_account("office@example.org", "Văn Phòng", unit="Văn phòng Sở", office=True)
add_papers(app, [1, 2, 3])
backups = folder / "backups"
fill_up(backups, leave=4 * 1024)  # room for the start of the archive, not for all of it
result = app.test_cli_runner().invoke(args=["backup", "create", "--out",
                                            str(backups / "portal.tar.gz")])
print(json.dumps({"exit": result.exit_code, "output": result.output,
                  "left": sorted(p.name for p in backups.iterdir())}))
"""


def test_a_failed_backup_leaves_no_partial_archive(tmp_path):
    """A real full disk under the backup folder: the command says so and leaves nothing."""
    answer = run_in_tmpfs(tmp_path, FULL_DISK_BACKUP, mount="backups", size="1m")
    assert answer["exit"] == 1, answer["output"]
    assert "No space left on device" in answer["output"]
    assert answer["left"] == ["filler"]


def test_clear_message_when_the_postgresql_tools_are_missing(monkeypatch):
    monkeypatch.setenv("PATH", str(Path(__file__).parent))  # no PostgreSQL tools there
    with pytest.raises(backup.BackupError, match="pg_dump is not installed.*postgresql-client"):
        backup_database.tool("pg_dump")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL tests need TEST_DATABASE_URL")
def test_pg_dump_matches_the_server_version(tmp_path):
    app = make_app(tmp_path, "postgresql")
    with app.app_context():
        with db.engine.connect() as conn:
            server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
        for tool in ("pg_dump", "pg_restore"):
            assert backup_database.tool_major(backup_database.tool(tool)) >= server
        url, env = backup_database.libpq_target(db.engine)
    assert url.startswith("postgresql://") and "+psycopg" not in url
    assert ":portal_test@" not in url and env.get("PGPASSWORD")  # not in the process list
    _dispose(app)


def _tamper_with_matching_manifest(good: Path, bad: Path) -> str:
    """Change one paper and edit the manifest to match it: the archive is consistent with
    itself, but not with the database rows it carries."""
    import hashlib

    with tarfile.open(good) as tar:
        paper = next(info for info in tar.getmembers() if _first_paper(info))
        data = tar.extractfile(paper).read()
    changed = data[:-10] + b"0123456789"
    relative = paper.name[len("files/"):]

    def change(info, content):
        if info.name == paper.name:
            content = changed
        elif info.name == "manifest.json":
            manifest = json.loads(content)
            for item in manifest["files"]:
                if item["path"] == relative:
                    item["sha256"] = hashlib.sha256(changed).hexdigest()
            content = json.dumps(manifest).encode()
        return [(info, content)]

    _rewrite(good, bad, change)
    return relative


def test_a_restore_whose_final_check_differs_fails_and_says_what(populated, backend, tmp_path):
    app = populated
    good = tmp_path / "good.tar.gz"
    make_backup(app, good)
    bad = tmp_path / "edited.tar.gz"
    relative = _tamper_with_matching_manifest(good, bad)
    fresh = fresh_installation(tmp_path, backend, app)
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(bad)])
    assert result.exit_code != 0, result.output
    assert f"differs: {relative}" in result.output
    assert "NOT verified" in result.output
    assert "all verified" not in result.output
    _dispose(fresh)


def test_a_refused_restore_leaves_the_installation_as_found(populated, tmp_path):
    app = populated
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(gzip.compress(b"just some text, not a tar"))
    fresh = fresh_installation(tmp_path, "sqlite", app)  # no database file yet
    folder = tmp_path / "fresh"
    before = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(bad)])
    assert result.exit_code == 1 and "damaged" in result.output
    after = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
    assert after == before  # no empty SQLite file, no .tmp/<pid> folder
    assert not (folder / "portal.sqlite3").exists()
    _dispose(fresh)
