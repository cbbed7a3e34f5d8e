"""The booklet built from the seven papers: preflight, draft and final, the Office's page."""

from __future__ import annotations

import io
import json
import shutil
import time
from datetime import UTC, datetime

import pikepdf
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Booklet, User
from portal.services import papers, seminars, submissions
from portal.services.booklet import build as booklet_service
from portal.services.booklet import merge as assemble
from portal.services.booklet.preflight import preflight
from portal.services.errors import BookletNotReady
from portal.storage import get_storage

from .conftest import csrf_from
from .docmaker import A4, LETTER, docx_bytes, pdf_bytes

BEFORE = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)


def add_papers(app, positions, pages=2):
    """Upload a paper for each position through the service, as the Office."""
    with app.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.is_office.is_(True)))
        for position in positions:
            assignment = papers.get_assignment(seminar, position)
            if position % 2:
                data = pdf_bytes(pages + position % 3, size=LETTER if position == 3 else A4,
                                 marker=f"MARKER-{position}")
                name = f"Tham luận {position}.pdf"
            else:
                data = docx_bytes([f"MARKER-{position} Nội dung tham luận số {position}."] * 3,
                                  heading=f"Tham luận số {position}")
                name = f"Tham luận {position}.docx"
            submissions.upload(assignment, office, io.BytesIO(data), name)


def text_of(path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


def test_final_refused_while_papers_are_missing(app, people):
    add_papers(app, [1, 2, 3])
    with app.app_context():
        seminar = seminars.current_seminar()
        with pytest.raises(BookletNotReady) as refused:
            booklet_service.build(seminar, None, draft=False)
        message = str(refused.value)
        for position in (4, 5, 6, 7):
            assert f"{position}. " in message
        assert db.session.scalars(select(Booklet)).all() == []


def test_draft_with_placeholders_then_final(app, people):
    add_papers(app, [1, 2, 4])
    with app.app_context():
        seminar = seminars.current_seminar()
        draft = booklet_service.build(seminar, None, draft=True)
        path = get_storage().path(draft.stored_path)
        pages = text_of(path)
        assert draft.is_draft and draft.pages == len(pages)
        assert all("BẢN NHÁP" in text for text in pages)
        assert sum("Chưa nộp" in text for text in pages) >= 4
        contents = booklet_service.contents_of(draft)
        assert [c["position"] for c in contents] == list(range(1, 8))
        for item in contents:
            if item["submission_id"] is not None:
                assert f"MARKER-{item['position']}" in pages[item["start_page"] - 1]

    add_papers(app, [3, 5, 6, 7])
    with app.app_context():
        seminar = seminars.current_seminar()
        final = booklet_service.build(seminar, None, draft=False)
        path = get_storage().path(final.stored_path)
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        assert not any("BẢN NHÁP" in text for text in pages)
        contents = booklet_service.contents_of(final)
        outline = {item.title: reader.get_destination_page_number(item) + 1
                   for item in reader.outline if not isinstance(item, list)}
        flat = []
        for item in reader.outline:
            flat.extend(item if isinstance(item, list) else [item])
        outline.update({i.title: reader.get_destination_page_number(i) + 1 for i in flat})
        for item, assignment in zip(contents, seminar.assignments, strict=True):
            kind = "Báo cáo đề dẫn" if assignment.position == 1 else "Tham luận"
            bookmark = f"{assignment.position}. {kind} – {assignment.unit.name}: {assignment.title}"
            assert outline[bookmark] == item["start_page"]
            assert f"MARKER-{item['position']}" in pages[item["start_page"] - 1]
        assert "MỤC LỤC" in "".join(pages[:4])
        assert booklet_service.latest(seminar).id == final.id
        for number, text in enumerate(pages[1:], start=2):
            assert str(number) in text.split()
        with pikepdf.open(path) as pdf:
            assert str(pdf.Root.Lang) == "vi"


def test_failed_build_keeps_the_previous_booklet(app, people, monkeypatch):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        seminar = seminars.current_seminar()
        first = booklet_service.build(seminar, None, draft=False)
        before = get_storage().sha256(first.stored_path)

        def crash(*args, **kwargs):
            raise assemble.BookletError("simulated crash while merging")

        monkeypatch.setattr(assemble, "build_booklet", crash)
        with pytest.raises(BookletNotReady):
            booklet_service.build(seminar, None, draft=False)
        assert booklet_service.latest(seminar).id == first.id
        assert get_storage().sha256(first.stored_path) == before
        assert len(db.session.scalars(select(Booklet)).all()) == 1
        stray = [f for f in get_storage().iter_files()
                 if f.startswith("booklets/") and f != first.stored_path]
        assert stray == []


def test_preflight_shows_start_pages_and_sizes(app, people):
    add_papers(app, [1, 3])
    with app.app_context():
        rows = preflight(seminars.current_seminar())
        assert [r.assignment.position for r in rows] == list(range(1, 8))
        assert rows[0].revision is not None and rows[1].revision is None
        assert rows[0].start_page == 4  # after cover, agenda, contents
        assert rows[1].start_page == rows[0].start_page + rows[0].pages
        assert "Letter" in rows[2].size_labels


def test_office_booklet_page_builds_and_shows_progress(app, client_as, people):
    add_papers(app, [1, 2])
    office = client_as("office")
    page = office.get("/office/booklet")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Chưa nộp" in text and 'id="preflight"' in text
    refused = office.post("/office/booklet/build", data={"csrf_token": csrf_from(page.data),
                                                         "kind": "final"})
    assert refused.status_code == 409
    assert "3. Phòng Kế hoạch - Tài chính" in refused.get_data(as_text=True)
    built = office.post("/office/booklet/build", data={"csrf_token": csrf_from(page.data),
                                                       "confirm": "1",
                                                       "kind": "draft"})
    assert built.status_code == 302
    deadline = time.monotonic() + 60
    while office.get("/office/booklet/progress").json["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    progress = office.get("/office/booklet/progress").json
    assert progress["state"] == "done", progress
    with app.app_context():
        item = db.session.scalars(select(Booklet)).one()
    download = office.get(f"/office/booklet/{item.id}.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed; .ci/run installs it")
    preview = office.get(f"/office/booklet/{item.id}/page-1.png")
    assert preview.status_code == 200 and preview.data.startswith(b"\x89PNG")
    from PIL import Image

    picture = Image.open(io.BytesIO(preview.data)).convert("L")
    assert picture.getextrema()[0] < 100  # dark ink on the cover: not a blank page
    for kind in (None, "member", "presenter"):
        assert client_as(kind).get(f"/office/booklet/{item.id}.pdf").status_code in (302, 403)


def test_contents_json_records_revisions(app, people):
    add_papers(app, range(1, 8), pages=1)
    with app.app_context():
        seminar = seminars.current_seminar()
        item = booklet_service.build(seminar, None, draft=False)
        parts = json.loads(item.contents)["parts"]
        assert all(p["submission_id"] for p in parts)
        assert item.sha256 == get_storage().sha256(item.stored_path)


@pytest.fixture(autouse=True)
def _fast_clock():
    yield
    clock.set_now(None)




def test_cli_booklet_build(app, people, tmp_path):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["booklet", "build"])
    assert refused.exit_code != 0
    assert "1. Văn phòng Sở" in refused.output
    out = tmp_path / "nhap.pdf"
    draft = runner.invoke(args=["booklet", "build", "--draft", "--out", str(out)])
    assert draft.exit_code == 0, draft.output
    assert "draft" in draft.output and out.read_bytes().startswith(b"%PDF")
    assert all("BẢN NHÁP" in text for text in text_of(out))
    add_papers(app, range(1, 8), pages=1)
    final = runner.invoke(args=["booklet", "build", "--as", "office@example.org"])
    assert final.exit_code == 0, final.output
    assert "final" in final.output
    with app.app_context():
        item = booklet_service.latest(seminars.current_seminar())
        assert item.built_by.email == "office@example.org"
        assert item.sha256 in final.output
