"""The booklet through the portal: the agenda from the programme, the preflight, print
editions from the command line and from /office/booklet, the same bytes for the same
revisions, the refusal of fonts that are not embedded."""

from __future__ import annotations

import re
import subprocess

import pikepdf
import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Booklet, MailLog
from portal.services import papers, programme, seminars
from portal.services.booklet import build as booklet_service
from portal.services.booklet import editions as editions_service
from portal.services.booklet import progress as build_progress
from portal.services.booklet.preflight import preflight
from portal.services.errors import BookletNotReady
from portal.storage import get_storage

from . import docmaker
from .conftest import add_papers, csrf_from
from .test_booklet import text_of

UNCHANGED_VI = ("Không có gì thay đổi kể từ lần tổng hợp trước: tài liệu đã công bố giữ nguyên "
                "(không gửi thư lại cho ai).")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_cli_prints_preflight_and_makes_both_print_editions(app, people):
    add_papers(app, range(1, 8), pages=1)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["booklet", "build", "--print", "a4", "--print", "a5-booklet"])
    assert result.exit_code == 0, result.output
    assert "Preflight:" in result.output
    assert re.search(r"\(3\) \d+ pages, Letter, starts on page \d+", result.output)
    assert "papers with fonts not embedded: none" in result.output
    assert "papers starting on a left-hand page:" in result.output
    a4 = re.search(r"Print edition a4: (\d+) pages", result.output)
    a5 = re.search(r"Print edition a5-booklet: (\d+) pages", result.output)
    assert a4 and a5 and int(a4[1]) % 4 == 0 and int(a5[1]) * 2 == int(a4[1])
    assert UNCHANGED_VI not in result.output
    again = runner.invoke(args=["booklet", "build"])
    assert again.exit_code == 0, again.output
    assert UNCHANGED_VI in again.output
    assert again.output.split("sha256 ")[1][:64] == result.output.split("sha256 ")[1][:64]
    with app.app_context():
        item = booklet_service.latest(seminars.current_seminar())
        editions = editions_service.editions_of(item)
        assert set(editions) == {"a4", "a5-booklet"}
        storage = get_storage()
        for data in editions.values():
            assert storage.sha256(data["path"]) == data["sha256"]
        with pikepdf.open(storage.path(editions["a4"]["path"])) as pdf:
            assert len(pdf.pages) == int(a4[1])
    refused = runner.invoke(args=["booklet", "build", "--draft", "--print", "a4"])
    assert refused.exit_code != 0 and "final booklet" in refused.output


def test_same_revisions_give_the_same_booklet_bytes(app, people):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        seminar = seminars.current_seminar()
        storage = get_storage()
        drafts = [booklet_service.build(seminar, None, draft=True) for _ in range(2)]
        assert drafts[0].stored_path != drafts[1].stored_path
        assert storage.path(drafts[0].stored_path).read_bytes() == \
            storage.path(drafts[1].stored_path).read_bytes()
        first = booklet_service.build(seminar, None, draft=False)
        a4 = editions_service.build_edition(first, "a4")
        mails = db.session.scalar(select(db.func.count(MailLog.id)))
        # A final built again from the same revisions is the same file: the published booklet
        # stays (one row), and nobody is mailed about it a second time.
        second = booklet_service.build(seminar, None, draft=False)
        assert second.id == first.id and second.sha256 == first.sha256
        assert db.session.scalar(select(db.func.count(Booklet.id))
                                 .where(Booklet.is_draft.is_(False))) == 1
        assert db.session.scalar(select(db.func.count(MailLog.id))) == mails
        # The build is recorded as finished (its claim was not left waiting for the lock).
        assert build_progress.read() == {"draft": False, "state": "done", "fraction": 1.0,
                                         "booklet_id": first.id, "pages": first.pages}
        # A print edition made again (its cached file gone) has the same bytes.
        storage.path(a4["path"]).unlink()
        assert editions_service.build_edition(first, "a4")["sha256"] == a4["sha256"]


def test_agenda_shows_the_programme_times_opening_and_closing(app, people):
    add_papers(app, [1])
    with app.app_context():
        seminar = seminars.current_seminar()
        draft = booklet_service.build(seminar, None, draft=True)
        pages = text_of(get_storage().path(draft.stored_path))
        front = booklet_service.front_pages_of(draft)
        agenda = _norm(" ".join(pages[1:front - 1]))
        items = programme.programme(seminar)
        assert items[0].kind == "opening" and items[-1].kind == "closing"
        for item in items:
            start, end = clock.local(item.starts_at), clock.local(item.ends_at)
            assert f"{start:%H:%M} – {end:%H:%M}" in agenda
            assert _norm(item.title)[:40] in agenda
        assert "08:00 –" in agenda
        toc = _norm(pages[front - 1])
        assert toc.count("(Chưa nộp)") == 6


def test_final_refuses_fonts_not_embedded_in_vietnamese(app, people, tmp_path):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        seminar = seminars.current_seminar()
        revision = papers.get_assignment(seminar, 5).current_submission
        storage = get_storage()
        plain = docmaker.make_pdf(tmp_path / "plain.pdf", [docmaker.A4], text_per_page=["X"])
        storage.path(revision.normalised_path).write_bytes(plain.read_bytes())
        rows = preflight(seminar)
        assert rows[4].unembedded == ["Helvetica"] and rows[0].unembedded == []
        try:
            booklet_service.build(seminar, None, draft=False)
        except BookletNotReady as refused:
            message = str(refused)
        else:
            raise AssertionError("a final booklet with Helvetica not embedded was built")
        assert "phông chữ chưa nhúng" in message and "5. Helvetica" in message
        assert db.session.scalars(select(Booklet)).all() == []
        assert booklet_service.build(seminar, None, draft=True).is_draft


def test_preflight_sees_a_converted_pdf_replaced_since_it_last_looked(app, people, tmp_path):
    """The preflight reads each converted PDF once; a file replaced since then is read again
    (the page, the command and the build show its fonts as they are now)."""
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        seminar = seminars.current_seminar()
        assert [row.unembedded for row in preflight(seminar)] == [[]] * 7
        revision = papers.get_assignment(seminar, 3).current_submission
        plain = docmaker.make_pdf(tmp_path / "plain.pdf", [docmaker.A4], text_per_page=["X"])
        get_storage().path(revision.normalised_path).write_bytes(plain.read_bytes())
        rows = preflight(seminar)
        assert rows[2].unembedded == ["Helvetica"]
        assert [row.unembedded for i, row in enumerate(rows) if i != 2] == [[]] * 6
        with pytest.raises(BookletNotReady, match="3. Helvetica"):
            booklet_service.build(seminar, None, draft=False)


def test_office_page_preflight_and_print_editions(app, client_as, people):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        item = booklet_service.build(seminars.current_seminar(), None, draft=False)
        item_id = item.id
    office = client_as("office")
    page = office.get("/office/booklet")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Phông chữ chưa nhúng" in text and 'id="editions"' in text
    assert "Số tham luận bắt đầu ở trang bên trái" in text
    assert "Tạo bản in này" in text
    made = office.post(f"/office/booklet/{item_id}/edition",
                       data={"csrf_token": csrf_from(page.data), "edition": "a5-booklet"})
    assert made.status_code == 302
    after = office.get("/office/booklet").get_data(as_text=True)
    assert f"/office/booklet/{item_id}/print-a5-booklet.pdf" in after
    download = office.get(f"/office/booklet/{item_id}/print-a5-booklet.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert office.get(f"/office/booklet/{item_id}/print-a4.pdf").status_code == 404
    unknown = office.post(f"/office/booklet/{item_id}/edition",
                          data={"csrf_token": csrf_from(page.data), "edition": "a3"},
                          follow_redirects=True)
    assert "Không có bản in này." in unknown.get_data(as_text=True)
    materials = office.get("/materials").get_data(as_text=True)
    assert 'id="print-editions"' in materials and "Bản in gấp thành sổ A5" in materials
    for kind in ("member", "presenter"):
        assert 'id="print-editions"' not in client_as(kind).get("/materials").get_data(
            as_text=True)
        assert client_as(kind).get(
            f"/office/booklet/{item_id}/print-a5-booklet.pdf").status_code in (302, 403)


def test_booklet_pdf_fonts_are_liberation_only(app, people, tmp_path):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        item = booklet_service.build(seminars.current_seminar(), None, draft=False)
        path = get_storage().path(item.stored_path)
        front = booklet_service.front_pages_of(item)
    listing = subprocess.run(["pdffonts", "-f", "1", "-l", str(front), str(path)],
                             capture_output=True, text=True, check=True).stdout
    rows = listing.splitlines()[2:]
    assert rows and all("Liberation" in row.split()[0] and " yes " in row for row in rows)


def test_editions_are_derived_files_remade_when_missing(app, client_as, people):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        item = booklet_service.build(seminars.current_seminar(), None, draft=False)
        made = editions_service.build_edition(item, "a4")
        storage = get_storage()
        assert made["path"].startswith("cache/")
        from portal.services import integrity

        report = integrity.check(storage)
        assert report.stray == [] and report.missing == []
        storage.path(made["path"]).unlink()
        item_id, sha256 = item.id, made["sha256"]
    download = client_as("office").get(f"/office/booklet/{item_id}/print-a4.pdf")
    assert download.status_code == 200
    import hashlib

    assert hashlib.sha256(download.data).hexdigest() == sha256
