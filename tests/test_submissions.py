"""Uploads: ownership, formats, the deadline as an instant, revisions, downloads, the Office."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Submission
from portal.services import seminars

from .conftest import csrf_from, make_app, upload
from .docmaker import A4, LETTER, docx_bytes, pdf_bytes

DEADLINE = datetime(2021, 5, 14, 17, 0, tzinfo=UTC)  # 15/05/2021 00:00 Vietnam
BEFORE = DEADLINE - timedelta(seconds=1)


def rows(app) -> list[Submission]:
    with app.app_context():
        items = db.session.scalars(select(Submission).order_by(Submission.id)).all()
        db.session.expunge_all()
        return items


def stored_files(app) -> list[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_presenter_sees_their_papers_only(client_as):
    client = client_as("presenter")
    listing = client.get("/papers").get_data(as_text=True)
    assert "Giải pháp duy trì và đẩy mạnh việc nộp hồ sơ TTHC" in listing
    assert "cải cách tài chính công" not in listing
    with clock.frozen(BEFORE - timedelta(days=2, hours=3)):
        page = client.get("/papers/2")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "còn 2 ngày 3 giờ" in text
    assert "trước 00:00 ngày 15/05/2021 (giờ Việt Nam)" in text
    assert 'type="file"' in text
    assert client.get("/papers/3").status_code == 403
    assert client.get("/papers/9").status_code == 404


def test_upload_replace_history_and_download(app, client_as):
    client = client_as("presenter")
    with clock.frozen(BEFORE - timedelta(days=2)):
        first = upload(client, 2, docx_bytes(["Giải pháp nâng cao điểm số"]),
                       "Tham luận Phòng QLCN đợt 1.docx")
        assert first.status_code == 302, first.get_data(as_text=True)[:2000]
        pdf = pdf_bytes(3, marker="REVISION-TWO")
        second = upload(client, 2, pdf, "Tham luận Đổi mới.pdf")
        assert second.status_code == 302
    revisions = rows(app)
    assert [(r.number, r.file_type) for r in revisions] == [(1, "docx"), (2, "pdf")]
    two = revisions[1]
    assert two.original_filename == "Tham luận Đổi mới.pdf"
    assert two.pages == 3 and two.size == len(pdf) and not two.late
    assert "Đổi" not in two.stored_path and two.stored_path.startswith("papers/")
    assert revisions[0].pages and revisions[0].pages >= 1  # counted on the converted PDF
    page = client.get("/papers/2").get_data(as_text=True)
    assert "Tham luận Đổi mới.pdf" in page and "Tham luận Phòng QLCN đợt 1.docx" in page
    download = client.get("/papers/2/revisions/2/download")
    assert download.status_code == 200
    assert download.data == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    disposition = download.headers["Content-Disposition"]
    assert 'filename="Tham luan Doi moi.pdf"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Tham luận Đổi mới.pdf"
    assert client_as("other_presenter").get("/papers/2/revisions/2/download").status_code == 403


def test_identical_reupload_is_not_stored_twice(app, client_as):
    client = client_as("presenter")
    data = pdf_bytes(1)
    with clock.frozen(BEFORE):
        assert upload(client, 2, data, "a.pdf").status_code == 302
        files = stored_files(app)
        again = upload(client, 2, data, "same-again.pdf")
        assert again.status_code == 302
    assert len(rows(app)) == 1
    assert stored_files(app) == files
    assert "giống hệt" in client.get("/papers/2").get_data(as_text=True)


@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles"])
def test_deadline_is_an_instant_whatever_the_server_zone(app, client_as, monkeypatch, zone):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        client = client_as("presenter")
        with clock.frozen(BEFORE):
            assert upload(client, 2, pdf_bytes(1, marker="ON-TIME"), "on-time.pdf")\
                .status_code == 302
        with clock.frozen(DEADLINE):
            page = client.get("/papers/2").get_data(as_text=True)
            assert 'type="file"' not in page
            assert "Đã hết hạn nộp" in page or "đã hết hạn" in page
            late = upload(client, 2, pdf_bytes(1, marker="LATE"), "late.pdf")
        assert late.status_code == 403
        assert "hết hạn" in late.get_data(as_text=True)
        assert len(rows(app)) == 1
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_office_uploads_on_behalf_after_the_deadline(app, client_as):
    office = client_as("office")
    with clock.frozen(DEADLINE + timedelta(hours=5)):
        response = upload(office, 4, pdf_bytes(2), "Phòng QLKH.pdf", url="/office/papers/4")
        assert response.status_code == 302, response.get_data(as_text=True)[:3000]
        overview = office.get("/office").get_data(as_text=True)
    (row,) = rows(app)
    assert row.late and row.on_behalf
    assert "1/7 đã nộp" in overview
    assert "nộp trễ" in overview


def test_extension_lets_the_presenter_upload_and_shows_the_reason(app, client_as):
    office = client_as("office")
    page = office.get("/office/papers/2")
    response = office.post("/office/papers/2/extend", data={
        "csrf_token": csrf_from(page.data), "ext-deadline": "20/05/2021 17:00",
        "ext-reason": "Đơn vị đi công tác <b>đột xuất</b>",
        # after the session's start (17/05/2021 08:00): the Office confirms it
        "ext-confirm": "1"})
    assert response.status_code == 302
    presenter = client_as("presenter")
    with clock.frozen(DEADLINE + timedelta(days=2)):
        text = presenter.get("/papers/2").get_data(as_text=True)
        assert "trước 17:00 ngày 20/05/2021 (giờ Việt Nam)" in text
        assert "Đơn vị đi công tác &lt;b&gt;đột xuất&lt;/b&gt;" in text
        assert upload(presenter, 2, pdf_bytes(1), "x.pdf").status_code == 302
    with clock.frozen(datetime(2021, 5, 20, 10, 0, tzinfo=UTC)):
        assert upload(presenter, 2, pdf_bytes(2), "y.pdf").status_code == 403
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(AuditEvent))]
    assert "assignment.extend" in actions and "submission.upload" in actions


def test_office_marks_received_and_reads_the_audit_log(app, client_as):
    presenter = client_as("presenter")
    with clock.frozen(BEFORE):
        upload(presenter, 2, pdf_bytes(1), "a.pdf")
    office = client_as("office")
    page = office.get("/office/papers/2")
    response = office.post("/office/papers/2/revisions/1/receive",
                           data={"csrf_token": csrf_from(page.data)})
    assert response.status_code == 302
    assert rows(app)[0].received_at is not None
    assert "đã tiếp nhận" in office.get("/office").get_data(as_text=True)
    audit = office.get("/office/audit").get_data(as_text=True)
    assert "submission.receive" in audit and "submission.upload" in audit
    assert client_as("presenter").get("/office/audit").status_code == 403


@pytest.mark.parametrize("data, filename, words", [
    (pdf_bytes(1, password="secret"), "locked.pdf", "mật khẩu"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "picture.pdf", ".docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000, "old.doc", ".docx"),
    (pdf_bytes(4)[:700], "truncated.pdf", "hỏng"),
    (b"", "empty.pdf", "rỗng"),
])
def test_refused_uploads_say_why_and_store_nothing(app, client_as, data, filename, words):
    client = client_as("presenter")
    with clock.frozen(BEFORE):
        response = upload(client, 2, data, filename)
    assert response.status_code in (400, 422)
    text = response.get_data(as_text=True)
    assert words in text
    assert 'type="file"' in text  # the page is re-rendered with the form
    assert rows(app) == []
    assert [f for f in stored_files(app) if not f.startswith(".tmp/")] == []
    assert [f for f in stored_files(app) if f.startswith(".tmp/")] == []


def test_too_large_gets_a_friendly_413(tmp_path, backend):
    app = make_app(tmp_path, backend, MAX_UPLOAD_MB=1)
    from .conftest import create_account, login

    with app.app_context():
        create_account("p@example.org", unit="Thanh tra Sở")
    client = app.test_client()
    login(client, "p@example.org")
    with clock.frozen(BEFORE):
        response = upload(client, 5, b"%PDF-1.4\n" + os.urandom(2 * 1024 * 1024), "big.pdf")
    assert response.status_code == 413
    assert "1 MB" in response.get_data(as_text=True)
    assert rows(app) == []


def test_a_failed_write_leaves_the_previous_revision_intact(app, client_as, monkeypatch):
    client = client_as("presenter")
    first = pdf_bytes(1, marker="FIRST")
    with clock.frozen(BEFORE):
        assert upload(client, 2, first, "first.pdf").status_code == 302
    before_files = stored_files(app)

    from portal.storage import Storage, StorageError

    original = Storage.place
    calls = {"n": 0}

    def failing_place(self, temp, relative):
        calls["n"] += 1
        if calls["n"] == 2:  # the paper is in place, the converted PDF fails: disk full
            raise StorageError("No space left on device")
        return original(self, temp, relative)

    monkeypatch.setattr(Storage, "place", failing_place)
    with clock.frozen(BEFORE):
        response = upload(client, 2, pdf_bytes(2, marker="SECOND"), "second.pdf")
    assert response.status_code == 503
    assert "Chưa có gì được lưu" in response.get_data(as_text=True)
    assert [r.number for r in rows(app)] == [1]
    assert stored_files(app) == before_files
    monkeypatch.setattr(Storage, "place", original)
    assert client.get("/papers/2/revisions/1/download").data == first


def test_a_failed_commit_leaves_no_file(app, client_as, monkeypatch):
    client = client_as("presenter")
    from sqlalchemy.orm import Session

    def broken_commit(self):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Session, "commit", broken_commit)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False
    with clock.frozen(BEFORE):
        response = upload(client, 2, pdf_bytes(1), "a.pdf")
    assert response.status_code == 500
    monkeypatch.undo()
    assert rows(app) == []
    assert stored_files(app) == []


def test_cli_add_list_and_storage_check(app, people, tmp_path):
    runner = app.test_cli_runner()
    paper = tmp_path / "Báo cáo đề dẫn.pdf"
    paper.write_bytes(pdf_bytes(2, size=LETTER))
    with clock.frozen(DEADLINE + timedelta(days=1)):
        result = runner.invoke(args=["submissions", "add", "1", str(paper)])
    assert result.exit_code == 0, result.output
    assert "revision 1 (late)" in result.output
    bad = tmp_path / "notes.txt"
    bad.write_text("just text")
    refused = runner.invoke(args=["submissions", "add", "2", str(bad)])
    assert refused.exit_code != 0 and ".docx" in refused.output
    listed = json.loads(runner.invoke(args=["submissions", "list", "--json"]).output)
    assert [r["position"] for r in listed] == list(range(1, 8))
    one = listed[0]
    assert one["status"] == "late" and one["unit"] == "Văn phòng Sở"
    rev = one["revisions"][0]
    assert rev["filename"] == "Báo cáo đề dẫn.pdf" and rev["pages"] == 2 and rev["late"] is True
    assert set(rev) >= {"number", "filename", "size", "sha256", "pages", "uploaded_at", "late"}
    assert one["deadline"] == "2021-05-15T00:00:00+07:00"

    assert runner.invoke(args=["storage", "check"]).exit_code == 0
    stray = Path(app.config["UPLOAD_DIR"]) / "papers" / "stray.bin"
    stray.write_bytes(b"x")
    dirty = runner.invoke(args=["storage", "check"])
    assert dirty.exit_code == 1 and "papers/stray.bin" in dirty.output
    assert runner.invoke(args=["storage", "check", "--fix"]).exit_code == 0
    assert not stray.exists()
    with app.app_context():
        stored = db.session.scalars(select(Submission)).one().stored_path
    target = Path(app.config["UPLOAD_DIR"]) / stored
    target.write_bytes(b"tampered")
    tampered = runner.invoke(args=["storage", "check"])
    assert tampered.exit_code == 1 and "sha256" in tampered.output
    target.unlink()
    missing = runner.invoke(args=["storage", "check"])
    assert missing.exit_code == 1 and "missing" in missing.output


def test_mixed_sizes_are_recorded(app, client_as):
    client = client_as("presenter")
    with clock.frozen(BEFORE):
        upload(client, 2, pdf_bytes(2, size=(A4[1], A4[0]), rotate=90), "landscape.pdf")
    (row,) = rows(app)
    sizes = json.loads(row.page_sizes)
    assert len(sizes) == 2


def test_seminar_deadline_change_applies(app, client_as):
    with app.app_context():
        seminars.set_deadline(seminars.current_seminar(), "01/06/2021 00:00")
    client = client_as("presenter")
    with clock.frozen(DEADLINE + timedelta(days=3)):
        assert upload(client, 2, pdf_bytes(1), "a.pdf").status_code == 302


def test_a_file_name_that_is_not_utf8_gets_its_own_message(app, client_as):
    client = client_as("presenter")
    token = csrf_from(client.get("/papers/2").data)
    body = (b'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            + token.encode() + b'\r\n--x\r\nContent-Disposition: form-data; name="file"; '
            b'filename="b\xe1o c\xe1o.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            + pdf_bytes() + b"\r\n--x--\r\n")
    with clock.frozen(BEFORE):
        response = client.post("/papers/2", data=body,
                               content_type="multipart/form-data; boundary=x")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "UTF-8" in text and "đổi tên tệp" in text
    assert "hết hạn" not in text  # not "the form has expired"
    assert rows(app) == [] and stored_files(app) == []
