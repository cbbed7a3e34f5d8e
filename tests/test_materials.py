"""/materials: who gets which file, downloads that behave like a file server, the
ZIP's contents and the calendar file."""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import Booklet, RegistrationStatus, User
from portal.policy import can_get_materials
from portal.services import attendance, papers, previews, seminars, submissions
from portal.services import materials as materials_service
from portal.services.booklet import build as booklet_service
from portal.storage import get_storage

from .conftest import EMAILS, client_for, create_account
from .docmaker import docx_bytes, pdf_bytes

BEFORE = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)  # 10/05/2021 10:00 Vietnam time
PAPER2_NAME = "Tham luận đẩy mạnh dịch vụ công trực tuyến – Phòng QLCN.docx"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

FILE_URLS = [
    "/materials/2/download",
    "/materials/2/pdf",
    "/materials/2/thumbnail.png",
    "/materials/booklet.pdf",
    "/materials/all.zip",
    "/materials/seminar.ics",
]
URLS = ["/materials", *FILE_URLS]
ROLES = ["anonymous", "member", "waitlisted", "attendee", "presenter", "other_presenter",
         "office"]
ALLOWED = {"attendee", "presenter", "other_presenter", "office"}
EXTRA_EMAILS = {"attendee": "attendee@example.org", "waitlisted": "waiting@example.org"}


def _email(role: str) -> str | None:
    return None if role == "anonymous" else EXTRA_EMAILS.get(role) or EMAILS[role]


def add_people(app):
    """A confirmed attendee (no unit) and, once the one seat is taken, a waitlisted member."""
    with app.app_context():
        seminar = seminars.current_seminar()
        attendee = create_account(EXTRA_EMAILS["attendee"], "Võ Thị Tham Dự",
                                  position="Phó Giám đốc Sở")
        waiting = create_account(EXTRA_EMAILS["waitlisted"], "Đặng Văn Chờ",
                                 position="Phó trưởng phòng")
        attendance.register(seminar, attendee)
        attendance.set_capacity(seminar, 1)
        registration = attendance.register(seminar, waiting)
        assert registration.status == RegistrationStatus.WAITLISTED


def add_papers(app, positions=range(1, 8)):
    """Paper 2 by its presenter (a DOCX with a Vietnamese name), the others by the Office (PDF)."""
    with app.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.email == EMAILS["office"]))
        presenter = db.session.scalar(select(User).where(User.email == EMAILS["presenter"]))
        for position in positions:
            assignment = papers.get_assignment(seminar, position)
            if position == 2:
                data = docx_bytes(["Nội dung tham luận số 2: đẩy mạnh dịch vụ công."] * 5,
                                  heading="Tham luận số 2")
                submissions.upload(assignment, presenter, io.BytesIO(data), PAPER2_NAME)
            else:
                data = pdf_bytes(2, marker=f"MARKER-{position}")
                submissions.upload(assignment, office, io.BytesIO(data),
                                   f"Bài số {position} – bản cuối.pdf")


def build_final(app) -> int:
    with app.app_context():
        seminar = seminars.current_seminar()
        return booklet_service.build(seminar, None, draft=False).id


@pytest.fixture
def world(app, people):
    add_people(app)
    add_papers(app)
    build_final(app)
    return app


def stored(app, relative: str) -> bytes:
    with app.app_context():
        return get_storage().path(relative).read_bytes()


def current(app, position: int):
    with app.app_context():
        seminar = seminars.current_seminar()
        revision = materials_service.current_revision(seminar, position)
        db.session.expunge(revision)
        return revision


def latest_booklet(app) -> Booklet:
    with app.app_context():
        booklet = booklet_service.latest(seminars.current_seminar())
        db.session.expunge(booklet)
        return booklet


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- who gets what ---------------------------------------------------------------------------


def test_access_matrix(world):
    """Every materials URL against every kind of user."""
    app = world
    problems = []
    for role in ROLES:
        client = client_for(app, _email(role))
        for url in URLS:
            response = client.get(url)
            if role == "anonymous":
                expected = 302
            elif url == "/materials" or role in ALLOWED:
                expected = 200
            else:
                expected = 403
            if url.endswith("thumbnail.png") and expected == 200 and not previews.available():
                expected = 404
            if response.status_code != expected:
                problems.append(f"{role} {url}: {response.status_code}, expected {expected}")
            if role == "anonymous" and response.status_code == 302:
                if "/login" not in response.headers["Location"]:
                    problems.append(f"{role} {url}: redirected to {response.headers['Location']}")
    assert problems == []


def test_the_rule_is_one_function(world):
    with world.app_context():
        seminar = seminars.current_seminar()
        users = {role: db.session.scalar(select(User).where(User.email == _email(role)))
                 for role in ROLES if role != "anonymous"}
        assert {role for role, user in users.items()
                if can_get_materials(user, seminar)} == ALLOWED
        assert can_get_materials(None, seminar) is False
        users["member"].active = False
        assert can_get_materials(users["member"], seminar) is False
        db.session.rollback()


def test_members_and_the_waiting_list_see_the_agenda_without_files(world):
    for role in ("member", "waitlisted"):
        page = client_for(world, _email(role)).get("/materials")
        text = text_of(page)
        assert page.status_code == 200
        assert 'id="no-access"' in text
        with world.app_context():
            for assignment in seminars.current_seminar().assignments:
                assert assignment.title in text
        assert "/materials/" not in text.replace('href="/materials"', "")
        assert "thumbnail.png" not in text
    waiting = text_of(client_for(world, _email("waitlisted")).get("/materials"))
    with world.test_request_context(), force_locale("vi"):
        place = gettext("You are on the waiting list, place %(n)d. The papers and the booklet "
                        "are for confirmed attendees, presenters and the Office; you will have "
                        "them as soon as a seat becomes free for you.", n=1)
    assert place in waiting


def test_unknown_papers_are_404_for_the_list_and_403_for_others(world):
    assert client_for(world, _email("attendee")).get("/materials/9/download").status_code == 404
    assert client_for(world, _email("member")).get("/materials/9/download").status_code == 403


def test_the_page_lists_the_papers_in_order_with_the_booklet(world):
    page = client_for(world, _email("attendee")).get("/materials")
    text = text_of(page)
    assert page.status_code == 200
    with world.app_context():
        seminar = seminars.current_seminar()
        titles = [a.title for a in seminar.assignments]
        positions = [text.index(title) for title in titles]
        assert positions == sorted(positions)
        booklet = booklet_service.latest(seminar)
        assert clock.format_datetime(booklet.built_at) in text
        assert f"{booklet.pages} " in text
    assert PAPER2_NAME in text
    assert "Trần Văn Trình Bày" in text  # the presenter of paper 2
    for position in range(1, 8):
        assert f'href="/materials/{position}/download"' in text
        assert f'href="/materials/{position}/pdf"' in text
    assert 'href="/materials/booklet.pdf"' in text
    assert 'href="/materials/all.zip"' in text and 'href="/materials/seminar.ics"' in text
    if previews.available():
        assert 'src="/materials/2/thumbnail.png"' in text


def test_the_nav_shows_materials(world):
    text = client_for(world, _email("member")).get("/").get_data(as_text=True)
    assert 'href="/materials"' in text


def test_missing_paper_and_missing_booklet_are_friendly_404s(app, people):
    add_people(app)
    add_papers(app, positions=[1, 2])
    client = client_for(app, _email("attendee"))
    with app.test_request_context(), force_locale("vi"):
        no_booklet = gettext("The booklet is not published yet")
        not_submitted = gettext("Not submitted yet")
    response = client.get("/materials/booklet.pdf")
    assert response.status_code == 404
    assert no_booklet in text_of(response)
    response = client.get("/materials/5/download")
    assert response.status_code == 404
    assert not_submitted in text_of(response)
    assert client.get("/materials/5/pdf").status_code == 404
    assert client.get("/materials/5/thumbnail.png").status_code == 404
    # A draft is not published: still 404 for attendees.
    with app.app_context():
        booklet_service.build(seminars.current_seminar(), None, draft=True)
    assert client.get("/materials/booklet.pdf").status_code == 404
    page = text_of(client.get("/materials"))
    assert 'id="booklet-missing"' in page
    # The ZIP has what there is: papers 1 and 2, no booklet.
    archive = zipfile.ZipFile(io.BytesIO(client.get("/materials/all.zip").data))
    assert [name[:2] for name in archive.namelist()] == ["01", "02"]


def test_nothing_submitted_means_no_zip(app, people):
    add_people(app)
    response = client_for(app, _email("attendee")).get("/materials/all.zip")
    assert response.status_code == 404


# -- downloads like a file server --------------------------------------------------------------


def test_download_headers_range_and_conditional(world):
    client = client_for(world, _email("attendee"))
    revision = current(world, 2)
    data = stored(world, revision.stored_path)
    response = client.get("/materials/2/download", buffered=False)
    assert response.is_streamed  # a file wrapper, not bytes in memory
    body = b"".join(response.response)
    response.close()
    assert body == data
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert int(response.headers["Content-Length"]) == len(data) == revision.size
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    fallback = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert fallback.isascii() and fallback.startswith("Tham luan day manh dich vu cong")
    assert fallback.endswith("Phong QLCN.docx")
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert unquote(encoded) == PAPER2_NAME
    etag = response.headers["ETag"]
    last_modified = response.headers["Last-Modified"]
    assert etag and last_modified

    again = client.get("/materials/2/download", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    again = client.get("/materials/2/download", headers={"If-Modified-Since": last_modified})
    assert again.status_code == 304 and again.data == b""
    stale = client.get("/materials/2/download", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data == data

    part = client.get("/materials/2/download", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert part.data == data[:100]
    tail = client.get("/materials/2/download", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.data == data[-10:]
    middle = client.get("/materials/2/download", headers={"Range": "bytes=100-199",
                                                          "If-Range": etag})
    assert middle.status_code == 206 and middle.data == data[100:200]
    beyond = client.get("/materials/2/download", headers={"Range": f"bytes={len(data) + 5}-"})
    assert beyond.status_code == 416


def test_pdf_and_booklet_downloads(world):
    client = client_for(world, _email("attendee"))
    revision = current(world, 2)
    pdf = client.get("/materials/2/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == stored(world, revision.normalised_path)
    assert pdf.data.startswith(b"%PDF")
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", pdf.headers["Content-Disposition"])
                   .group(1)) == PAPER2_NAME.replace(".docx", ".pdf")
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"

    booklet = latest_booklet(world)
    data = stored(world, booklet.stored_path)
    response = client.get("/materials/booklet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == data and len(data) == booklet.size
    assert hashlib.sha256(response.data).hexdigest() == booklet.sha256
    disposition = response.headers["Content-Disposition"]
    with world.app_context():
        name = booklet_service.file_name(seminars.current_seminar(), booklet)
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)) == name
    assert "Tài_liệu_tọa_đàm" in name
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/materials/booklet.pdf",
                      headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    part = client.get("/materials/booklet.pdf", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"


def test_thumbnail_is_a_png(world):
    if not previews.available():
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    client = client_for(world, _email("presenter"))
    response = client.get("/materials/3/thumbnail.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/materials/3/thumbnail.png",
                      headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_zip_is_streamed_with_vietnamese_names_and_the_booklet(world):
    client = client_for(world, _email("office"))
    response = client.get("/materials/all.zip", buffered=False)
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/zip"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.response)
    response.close()
    assert int(response.headers["Content-Length"]) == len(body)
    disposition = response.headers["Content-Disposition"]
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)) \
        == "Tài liệu tọa đàm.zip"

    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    infos = archive.infolist()
    names = [info.filename for info in infos]
    booklet = latest_booklet(world)
    with world.app_context():
        seminar = seminars.current_seminar()
        booklet_name = booklet_service.file_name(seminar, booklet)
        expected = {}
        for position in range(1, 8):
            revision = materials_service.current_revision(seminar, position)
            expected[f"{position:02d} - {materials_service.download_name(revision)}"] = \
                revision.stored_path
    expected[booklet_name] = booklet.stored_path
    assert names == list(expected)
    assert f"02 - {PAPER2_NAME}" in names
    assert "01 - Bài số 1 – bản cuối.pdf" in names
    for info in infos:
        if not info.filename.isascii():
            assert info.flag_bits & 0x800, f"{info.filename}: no UTF-8 flag"
        data = stored(world, expected[info.filename])
        assert info.file_size == len(data)
        assert archive.read(info) == data

    etag = response.headers["ETag"]
    assert client.get("/materials/all.zip", headers={"If-None-Match": etag}).status_code == 304
    # A broken download resumes: the same bytes for the same ETag.
    part = client.get("/materials/all.zip", headers={"Range": "bytes=1000-1999",
                                                     "If-Range": etag})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(body)}"
    assert part.data == body[1000:2000]
    tail = client.get("/materials/all.zip", headers={"Range": f"bytes={len(body) - 50}-"})
    assert tail.status_code == 206 and tail.data == body[-50:]
    changed = client.get("/materials/all.zip", headers={"Range": "bytes=0-9",
                                                        "If-Range": '"another-version"'})
    assert changed.status_code == 200 and changed.data == body


def test_zip_changes_its_etag_when_a_paper_changes(world):
    client = client_for(world, _email("office"))
    first = client.get("/materials/all.zip").headers["ETag"]
    with world.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.email == EMAILS["office"]))
        submissions.upload(papers.get_assignment(seminar, 3), office,
                           io.BytesIO(pdf_bytes(3, marker="NEW")), "Bài số 3 – bản mới.pdf")
    response = client.get("/materials/all.zip", headers={"If-None-Match": first})
    assert response.status_code == 200
    assert response.headers["ETag"] != first
    assert "03 - Bài số 3 – bản mới.pdf" in zipfile.ZipFile(io.BytesIO(response.data)).namelist()


def test_the_page_shows_every_change_at_once_and_each_person_their_own(world):
    attendee = client_for(world, _email("attendee"))
    waiting = client_for(world, _email("waitlisted"))
    before = text_of(attendee.get("/materials"))
    assert "04 - " not in before and "Bài số 4 – bản sửa.pdf" not in before
    assert 'id="no-access"' not in before
    on_the_list = text_of(waiting.get("/materials"))  # same seminar, other access
    assert 'id="no-access"' in on_the_list and 'id="papers"' not in on_the_list

    with world.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.email == EMAILS["office"]))
        submissions.upload(papers.get_assignment(seminar, 4), office,
                           io.BytesIO(pdf_bytes(3, marker="FIX-4")), "Bài số 4 – bản sửa.pdf")
        seminars.set_session(seminar, "17/05/2021 08:00", "17/05/2021 11:30",
                             "Hội trường B, Sở Khoa học và Công nghệ")
    after = text_of(attendee.get("/materials"))
    assert "Bài số 4 – bản sửa.pdf" in after
    assert "Hội trường B, Sở Khoa học và Công nghệ" in after
    assert text_of(attendee.get("/materials")) == after  # the same page once it is kept

    with attendee.session_transaction() as session:
        session["lang"] = "en"
    english = text_of(attendee.get("/materials"))
    assert "Download the booklet (PDF)" in english and "Bài số 4 – bản sửa.pdf" in english
    assert 'id="no-access"' in text_of(waiting.get("/materials"))


def _archives(app) -> list:
    with app.app_context():
        folder = get_storage().path(materials_service.ARCHIVE_DIR)
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_zip_is_made_once_per_version_and_the_old_one_goes(world):
    client = client_for(world, _email("attendee"))
    assert _archives(world) == []
    first = client.get("/materials/all.zip")
    assert first.status_code == 200
    [kept] = _archives(world)
    assert kept.name == first.headers["ETag"].strip('"') + ".zip"
    assert kept.read_bytes() == first.data
    made = kept.stat()
    again = client.get("/materials/all.zip")
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert kept.stat().st_ino == made.st_ino and kept.stat().st_mtime_ns == made.st_mtime_ns

    with world.app_context(), clock.frozen(BEFORE):
        seminar = seminars.current_seminar()
        office = db.session.scalar(select(User).where(User.email == EMAILS["office"]))
        submissions.upload(papers.get_assignment(seminar, 4), office,
                           io.BytesIO(pdf_bytes(3, marker="NEW-4")), "Bài số 4 – bản mới.pdf")
    changed = client.get("/materials/all.zip")
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert "04 - Bài số 4 – bản mới.pdf" in zipfile.ZipFile(io.BytesIO(changed.data)).namelist()
    [newer] = _archives(world)  # the archive of the older version is gone from the disk
    assert newer.name == changed.headers["ETag"].strip('"') + ".zip"
    with world.app_context():  # and no temporary file of the making is left behind
        held = [name for entry in get_storage().temp_entries() for name in entry.files]
    assert not [name for name in held if name.endswith(".derived")]


def test_zip_is_still_sent_whole_when_the_cache_cannot_be_written(world):
    with world.app_context():
        blocked = get_storage().path(materials_service.ARCHIVE_DIR)
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("not a folder")  # nothing can be written under cache/archives/
    client = client_for(world, _email("attendee"))
    response = client.get("/materials/all.zip")
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(response.data)
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None and len(archive.namelist()) == 8
    assert blocked.read_text() == "not a folder"
    part = client.get("/materials/all.zip", headers={"Range": "bytes=10-19",
                                                     "If-Range": response.headers["ETag"]})
    assert part.status_code == 206 and part.data == response.data[10:20]


# -- the calendar file ------------------------------------------------------------------------


def _unfold(raw: bytes) -> list[str]:
    text = raw.decode("utf-8")
    return text.replace("\r\n ", "").split("\r\n")


def _ics_unescape(value: str) -> str:
    return (value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")
            .replace("\\\\", "\\"))


def test_calendar_file(world):
    with world.app_context():
        seminars.set_session(seminars.current_seminar(), "17/05/2021 08:00", "17/05/2021 11:30",
                             "Phòng họp số 2, tầng 3; Sở Khoa học và Công nghệ tỉnh Quảng Ngãi")
    client = client_for(world, _email("attendee"))
    response = client.get("/materials/seminar.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"  # one charset
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.data
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # folding never cuts a character in two
    lines = _unfold(raw)
    fields = {}
    for line in lines:
        if ":" in line:
            key, value = line.split(":", 1)
            fields.setdefault(key, value)
    assert lines[0] == "BEGIN:VCALENDAR" and "END:VCALENDAR" in lines
    assert "BEGIN:VTIMEZONE" in lines and "TZID:Asia/Ho_Chi_Minh" in lines
    assert fields["DTSTART;TZID=Asia/Ho_Chi_Minh"] == "20210517T080000"
    assert fields["DTEND;TZID=Asia/Ho_Chi_Minh"] == "20210517T113000"
    assert re.fullmatch(r"\d{8}T\d{6}Z", fields["DTSTAMP"])
    with world.app_context():
        seminar = seminars.current_seminar()
        assert _ics_unescape(fields["SUMMARY;LANGUAGE=vi"]) == seminar.title
        location = fields["LOCATION;LANGUAGE=vi"]
        assert location == "Phòng họp số 2\\, tầng 3\\; Sở Khoa học và Công nghệ tỉnh Quảng Ngãi"
        assert _ics_unescape(location) == seminar.venue
        description = _ics_unescape(fields["DESCRIPTION;LANGUAGE=vi"])
        for assignment in seminar.assignments:
            assert assignment.title in description
    assert fields["URL"].endswith("/materials")
    with clock.frozen(BEFORE):
        first = client.get("/materials/seminar.ics")
        again = client.get("/materials/seminar.ics",
                           headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_calendar_times_follow_vietnam_time_whatever_the_utc_date():
    # 23:30 on 16/05 UTC is 06:30 on 17/05 in Vietnam.
    instant = datetime(2021, 5, 16, 23, 30, tzinfo=UTC)
    assert materials_service._local_stamp(instant) == "20210517T063000"


def test_folding_counts_octets_not_characters():
    line = "SUMMARY:" + "Tọa đàm nội bộ về cải cách hành chính " * 5
    folded = materials_service.ics_fold(line)
    pieces = folded.split("\r\n")
    assert all(len(piece.encode("utf-8")) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert folded.replace("\r\n ", "") == line
    assert materials_service.ics_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"



def test_office_only_pictures_and_files_are_never_cached(world):
    client = client_for(world, _email("office"))
    with world.app_context():
        booklet = booklet_service.latest(seminars.current_seminar())
        booklet_id = booklet.id
    for url in (f"/office/booklet/{booklet_id}/page-1.png", "/office/attendees.csv",
                "/office/attendees.pdf", "/office/booklet"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
