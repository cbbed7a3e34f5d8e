"""The booklet a print shop accepts: its own pages in Liberation Serif, a cover whose heading
blocks never touch, an agenda with times whose rows never split, numbers that never cover a
paper's own ink, unique font names, safe links only, the same bytes for the same papers.

Everything is read back from the PDF (poppler's pdftotext/pdffonts, pikepdf, pypdf).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pypdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from portal.services.booklet import fonts, impose, merge, places, stamp
from portal.services.booklet.parts import (
    EDITIONS,
    AgendaItem,
    BookletResult,
    FontsNotEmbedded,
    FrontMatter,
    Part,
)
from tests import docmaker

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SCOTUS = CORPUS / "valid" / "plumber__scotus-transcript-p1.pdf"
PDFTOTEXT, PDFFONTS = shutil.which("pdftotext"), shutil.which("pdffonts")
pytestmark = pytest.mark.skipif(not (PDFTOTEXT and PDFFONTS), reason="needs poppler-utils")

UNITS = ["Văn phòng Sở", "Phòng Kế hoạch - Tài chính", "Thanh tra Sở"]
TITLES = [
    "Tình hình kết quả thực hiện cải cách hành chính năm 2020",
    "Giải pháp thực hiện tốt công tác cải cách tài chính công",
    "Giải pháp đẩy mạnh theo dõi thi hành pháp luật",
]
AGENDA = (
    AgendaItem("08:00 – 08:15", "Khai mạc tọa đàm"),
    AgendaItem("08:15 – 08:40", TITLES[0], "Báo cáo đề dẫn", UNITS[0], "Nguyễn Văn A"),
    AgendaItem("08:40 – 09:05", TITLES[1], "Tham luận", UNITS[1]),
    AgendaItem("09:05 – 09:30", TITLES[2], "Tham luận", UNITS[2]),
    AgendaItem("09:30 – 11:30", "Thảo luận và bế mạc tọa đàm"),
)
FRONT = FrontMatter(
    title="Tọa đàm nội bộ về cải cách hành chính năm 2021",
    organiser="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi",
    venue="Hội trường Sở",
    session="08:00–11:30, ngày 17/05/2021",
    place_date="Quảng Ngãi, tháng 5 năm 2021",
    agenda=AGENDA,
)


def norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"(?:\s*\.){3,}", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def page_texts(path: Path) -> list[str]:
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\f")[:-1]


def page_words(path: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """Words of one page with their boxes (x0, y0, x1, y1; y down from the top)."""
    html = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"],
        capture_output=True, text=True, check=True).stdout
    pattern = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                         r'yMax="([\d.]+)">([^<]*)</word>')
    return [(unicodedata.normalize("NFC", m[5]), float(m[1]), float(m[2]), float(m[3]),
             float(m[4])) for m in pattern.finditer(html)]


def pdffonts(path: Path, first: int, last: int) -> list[list[str]]:
    listing = subprocess.run([PDFFONTS, "-f", str(first), "-l", str(last), str(path)],
                             capture_output=True, text=True, check=True).stdout
    return [line.split() for line in listing.splitlines()[2:]]


def paper(folder: Path, name: str, pages: int = 2, marker: str = "PAPER") -> Path:
    return docmaker.write(folder / name, docmaker.pdf_bytes(pages, marker=marker))


def parts_of(paths: list[Path | None]) -> list[Part]:
    return [Part(n, "Báo cáo đề dẫn" if n == 1 else "Tham luận", UNITS[n - 1], "",
                 TITLES[n - 1], path) for n, path in enumerate(paths, start=1)]


@pytest.fixture(scope="module")
def papers(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("papers")
    return [paper(folder, f"p{n}.pdf", pages=n, marker=f"MARKER{n}") for n in (1, 2, 3)]


# -- point 2: the booklet's own pages -------------------------------------------------------


def test_front_matter_is_set_in_liberation_serif_only_even_without_system_fonts(
        papers, tmp_path):
    """Rendered with a fontconfig that knows no font at all: only the bundled faces exist."""
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
                    f"<fontconfig><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>")
    out = tmp_path / "b.pdf"
    script = (
        "import sys; from pathlib import Path; from tests.test_booklet_print import *; "
        "merge.build_booklet(FRONT, parts_of([Path(p) for p in sys.argv[2:]]), "
        "Path(sys.argv[1]), draft=False)"
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    subprocess.run([sys.executable, "-c", script, str(out), *map(str, papers)], check=True,
                   env=env, cwd=Path(__file__).resolve().parents[1], timeout=300)
    rows = pdffonts(out, 1, 3)
    assert rows
    for row in rows:
        assert "LiberationSerif" in row[0].replace("-", ""), row
        assert row[-5] == "yes", f"not embedded: {row}"


@pytest.mark.parametrize("agency", [
    "SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH QUẢNG NGÃI",
    "ỦY BAN NHÂN DÂN TỈNH QUẢNG NGÃI\nSỞ KHOA HỌC VÀ CÔNG NGHỆ",
    "TRUNG TÂM ỨNG DỤNG TIẾN BỘ KHOA HỌC VÀ CÔNG NGHỆ THUỘC SỞ KHOA HỌC VÀ CÔNG NGHỆ "
    "TỈNH QUẢNG NGÃI",
])
def test_cover_heading_blocks_never_touch(papers, tmp_path, agency):
    out = tmp_path / "b.pdf"
    front = dataclasses.replace(FRONT, agency=agency)
    merge.build_booklet(front, parts_of(papers), out, draft=False)
    words = page_words(out, 1)
    kicker = next(w for w in words if w[0] == "TÀI")
    heading = [w for w in words if w[4] <= kicker[2]]
    nation_tokens = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc".split()
    nation = [w for w in heading if w[0] in nation_tokens]
    agency_words = [w for w in heading if w[0] not in nation_tokens]
    assert len(nation) == len(nation_tokens)
    assert " ".join(w[0] for w in agency_words) == " ".join(agency.split())
    gap = min(w[1] for w in nation) - max(w[3] for w in agency_words)
    assert gap > 8, f"the agency block comes within {gap:.1f} pt of the national heading"


def test_agenda_rows_carry_times_with_opening_and_closing(papers, tmp_path):
    out = tmp_path / "b.pdf"
    merge.build_booklet(FRONT, parts_of(papers), out, draft=False)
    agenda = norm(page_texts(out)[1])
    assert agenda.startswith("CHƯƠNG TRÌNH")
    assert "Thời gian Nội dung Đơn vị thực hiện" in agenda
    for item in AGENDA:
        assert norm(f"{item.time} {item.kind + ': ' if item.kind else ''}{item.title}") in agenda


def test_agenda_rows_never_split_across_pages(papers, tmp_path):
    long_rows = tuple(
        AgendaItem(f"{8 + n // 4:02d}:{n % 4 * 15:02d} – 09:00",
                   f"Tham luận số {n}: " + "giải pháp nâng cao hiệu quả cải cách hành chính " * 5,
                   "Tham luận", f"Đơn vị số {n}", f"Người trình bày {n}")
        for n in range(14)
    )
    out = tmp_path / "b.pdf"
    result = merge.build_booklet(dataclasses.replace(FRONT, agenda=long_rows),
                                    parts_of(papers), out, draft=False)
    agenda_pages = [norm(text) for text in page_texts(out)[1:result.front_pages - 1]]
    assert len(agenda_pages) >= 2, "the test needs an agenda longer than a page"
    for row in long_rows:
        whole = norm(f"{row.time} {row.kind}: {row.title} {row.unit} Trình bày: {row.presenter}")
        assert sum(whole in page for page in agenda_pages) == 1, f"row split: {row.title[:20]}"


def test_draft_contents_mark_missing_papers(papers, tmp_path):
    out = tmp_path / "d.pdf"
    result = merge.build_booklet(FRONT, parts_of([papers[0], None, papers[2]]), out,
                                    draft=True)
    toc = norm(page_texts(out)[result.front_pages - 1])
    assert toc.startswith("BẢN NHÁP MỤC LỤC")
    assert f"Tham luận – {UNITS[1]} (Chưa nộp)" in toc
    assert toc.count("Chưa nộp") == 1


def test_front_matter_rendered_once_when_the_last_length_is_given(papers, tmp_path):
    parts = parts_of(papers)
    first = merge.build_booklet(FRONT, parts, tmp_path / "a.pdf", draft=False,
                                   front_pages_guess=7)
    assert first.front_renders == 2  # a wrong guess costs one more render
    again = merge.build_booklet(FRONT, parts, tmp_path / "b.pdf", draft=False,
                                   front_pages_guess=first.front_pages)
    assert again.front_renders == 1


# -- point 3: numbers that never cover the paper --------------------------------------------


def _stamp_streams(path: Path) -> list[bytes]:
    with pikepdf.open(path) as pdf:
        return [stream.read_bytes() for page in pdf.pages for stream in
                (page.obj.Contents if isinstance(page.obj.Contents, Array)
                 else [page.obj.Contents]) if stream.get(stamp.STAMP_KEY)]


def test_number_moves_off_the_papers_own_footer(tmp_path):
    """The transcript has its own "1" and "Alderson Reporting Company" at the foot."""
    out = tmp_path / "b.pdf"
    result = merge.build_booklet(FRONT, parts_of([SCOTUS]), out, draft=True)
    start = result.starts[0]
    text = norm(page_texts(out)[start - 1])
    assert "Alderson Reporting Company" in text
    words = page_words(out, start)
    numbers = [w for w in words if w[0] == str(start) and w[2] > 792 - 60]
    assert len(numbers) == 1
    footer = [w for w in words if w[0] in ("Alderson", "Reporting", "Company")]
    number = numbers[0]
    for word in footer:  # the stamped number overlaps none of the footer's words
        assert word[3] <= number[1] or number[3] <= word[1] or word[4] <= number[2] \
            or number[4] <= word[2]
    for stream in _stamp_streams(out):
        assert b" re f" not in stream and b"1 g" not in stream, "a box is painted"


def test_content_is_scaled_when_no_place_is_free(tmp_path):
    """Text across the whole foot and the top: the page shrinks to free the bottom band."""
    width, height = docmaker.A4
    path = tmp_path / "full.pdf"
    with pikepdf.new() as pdf:
        font = docmaker.embedded_font(pdf)
        line = "FOOTERWORD " * 7
        content = (f"BT /F1 11 Tf 20 30 Td ({line}) Tj ET "
                   f"BT /F1 11 Tf 20 {height - 36} Td ({line}) Tj ET "
                   f"BT /F1 11 Tf 20 400 Td (BODYTEXT) Tj ET").encode()
        pdf.pages.append(pikepdf.Page(Dictionary(
            Type=Name.Page, MediaBox=[0, 0, width, height],
            Resources=Dictionary(Font=Dictionary(F1=font)), Contents=pdf.make_stream(content))))
        pdf.save(path)
    found = places.number_places(path, 1)
    assert found[0][0] == "s" and 0.9 < found[0][1] < 1
    out = tmp_path / "b.pdf"
    result = merge.build_booklet(FRONT, parts_of([path]), out, draft=False)
    start = result.starts[0]
    assert norm(page_texts(out)[start - 1]).count("FOOTERWORD") == 14
    words = page_words(out, start)
    number = next(w for w in words if w[0] == str(start))
    lowest = max(w[4] for w in words if w[0] == "FOOTERWORD")
    assert lowest < number[2], "the footer still reaches the number's band"


def test_number_places_are_cached_per_paper(tmp_path):
    """The pages are rendered once per paper: the next build reads the answer kept in the
    cache (here changed by hand, so that an answer found again by rendering would differ)."""
    cache = tmp_path / "cache"
    first = places.number_places(SCOTUS, 1, cache)
    kept = list(cache.glob("places-*.json"))
    assert len(kept) == 1
    other = ("l", 1.0) if first[0][0] != "l" else ("r", 1.0)
    kept[0].write_text(json.dumps([list(other)]))
    assert places.number_places(SCOTUS, 1, cache) == [other]


# -- point 4: fonts -------------------------------------------------------------------------


def _font_paper(path: Path, program: bytes, name: str = "BAWKYD+DejaVu-Serif") -> Path:
    with pikepdf.new() as pdf:
        font = docmaker.embedded_font(pdf)
        font.BaseFont = Name("/" + name)
        font.FontDescriptor.FontName = Name("/" + name)
        stream = pdf.make_stream(program)
        stream.Length1 = len(program)
        font.FontDescriptor.FontFile2 = stream
        pdf.pages.append(pikepdf.Page(Dictionary(
            Type=Name.Page, MediaBox=[0, 0, *docmaker.A4],
            Resources=Dictionary(Font=Dictionary(F1=font)),
            Contents=pdf.make_stream(b"BT /F1 12 Tf 72 700 Td (SUBSET) Tj ET"))))
        pdf.save(path)
    return path


def test_different_font_programs_never_share_a_subset_name(tmp_path):
    small = docmaker.ascii_subset()[0]
    full = docmaker.FONT_FILE.read_bytes()
    paths = [_font_paper(tmp_path / "a.pdf", small), _font_paper(tmp_path / "b.pdf", full),
             _font_paper(tmp_path / "c.pdf", small)]
    out = tmp_path / "b.pdf"
    merge.build_booklet(FRONT, parts_of(paths), out, draft=False)
    programs: dict[str, set[str]] = {}
    with pikepdf.open(out) as pdf:
        for font, descriptor in fonts.iter_fonts(pdf):
            if descriptor is not None and "/FontFile2" in descriptor:
                digest = hashlib.sha256(descriptor.FontFile2.read_bytes()).hexdigest()
                programs.setdefault(str(descriptor.FontName), set()).add(digest)
                assert str(font.BaseFont) == str(descriptor.FontName)
    assert all(len(digests) == 1 for digests in programs.values()), programs
    renamed = [name for name in programs if name.endswith("+DejaVu-Serif")]
    assert len(renamed) == 2  # papers a and c share one program, hence one name
    assert "SUBSET" in page_texts(out)[-1]


def test_final_refuses_fonts_not_embedded_draft_lists_them(papers, tmp_path):
    helvetica = docmaker.make_pdf(tmp_path / "h.pdf", [docmaker.A4], text_per_page=["X"])
    parts = parts_of([papers[0], helvetica])
    out = tmp_path / "f.pdf"
    with pytest.raises(FontsNotEmbedded) as refused:
        merge.build_booklet(FRONT, parts, out, draft=False)
    assert refused.value.fonts == [(2, "Helvetica")]
    assert not out.exists()
    result = merge.build_booklet(FRONT, parts, tmp_path / "d.pdf", draft=True)
    assert result.preflight.unembedded == [(2, "Helvetica")]
    assert [p.sizes for p in result.preflight.papers] == [["A4"], ["A4"]]


# -- point 6: the same papers give the same bytes -------------------------------------------


def test_same_papers_give_byte_identical_booklets(papers, tmp_path):
    created = datetime(2021, 5, 10, 3, 0, tzinfo=UTC)
    parts = parts_of(papers)
    digests = set()
    for name, cache in (("a", None), ("b", None), ("c", tmp_path / "cache"),
                        ("d", tmp_path / "cache")):
        out = tmp_path / f"{name}.pdf"
        result = merge.build_booklet(FRONT, parts, out, draft=False, created=created,
                                        cache_dir=cache)
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
        assert result.sha256 in digests
    assert len(digests) == 1
    reader = pypdf.PdfReader(tmp_path / "a.pdf")
    assert reader.metadata["/CreationDate"] == "D:20210510030000Z"
    assert reader.metadata["/ModDate"] == "D:20210510030000Z"
    later = merge.build_booklet(FRONT, parts, tmp_path / "e.pdf", draft=False,
                                   created=datetime(2021, 5, 11, tzinfo=UTC))
    assert later.sha256 not in digests


# -- point 7: only safe links ---------------------------------------------------------------


def test_only_http_https_and_mailto_links_survive(papers, tmp_path):
    path = paper(tmp_path, "links.pdf", pages=1)
    uris = ["javascript:alert(1)", "file:///etc/passwd", "\\\\server\\share\\x.doc",
            "data:text/html,<script>alert(1)</script>", "https://example.org/a",
            "http://example.org/b", "mailto:vanphong@example.vn", "JavaScript:void(0)"]
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        annotations = [Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 10, 10],
                                  A=Dictionary(S=Name.URI, URI=String(uri))) for uri in uris]
        annotations.append(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 9, 9],
                                      A=Dictionary(S=Name.Launch, F=String("calc.exe"))))
        annotations.append(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=[0, 0, 8, 8],
                                      A=Dictionary(S=Name.GoToR, F=String("other.pdf"),
                                                   D=Array([0, Name.Fit]))))
        pdf.pages[0].obj.Annots = pdf.make_indirect(Array(annotations))
        pdf.save(path)
    out = tmp_path / "b.pdf"
    merge.build_booklet(FRONT, parts_of([path]), out, draft=False)
    found, kinds = [], set()
    with pikepdf.open(out) as pdf:
        for page in pdf.pages:
            for annotation in page.obj.get("/Annots", []):
                action = annotation.get("/A")
                if action is not None:
                    kinds.add(str(action.S))
                    if action.S == Name.URI:
                        found.append(str(action.URI))
    assert sorted(found) == ["http://example.org/b", "https://example.org/a",
                             "mailto:vanphong@example.vn"]
    assert kinds == {"/URI"}


# -- point 5: print editions ----------------------------------------------------------------

LANDSCAPE = (docmaker.A4[1], docmaker.A4[0])


@pytest.fixture(scope="module")
def screen(tmp_path_factory) -> tuple[BookletResult, Path]:
    folder = tmp_path_factory.mktemp("screen")
    paths = []
    for number, sizes in enumerate(([docmaker.A4], [docmaker.LETTER] * 2, [LANDSCAPE]),
                                   start=1):
        path = folder / f"p{number}.pdf"
        docmaker.make_pdf(path, sizes, text_per_page=[f"EDITION{number}-PAGE{page}"
                                                      for page in range(1, len(sizes) + 1)])
        paths.append(docmaker.embed_fonts(path))
    out = folder / "screen.pdf"
    return merge.build_booklet(FRONT, parts_of(paths), out, draft=False), out


def viewed(path: Path) -> list[tuple[float, float]]:
    with pikepdf.open(path) as pdf:
        return [tuple(round(v) for v in places.view_matrix(page)[1:]) for page in pdf.pages]


def bookmarks(path: Path) -> list[tuple[str, int]]:
    reader = pypdf.PdfReader(path)
    return [(item.title, reader.get_destination_page_number(item) + 1)
            for item in reader.outline]


def test_a4_edition_every_page_a4_papers_on_right_hand_pages(screen, tmp_path):
    result, source = screen
    assert result.starts == [4, 5, 7]
    out = tmp_path / "a4.pdf"
    edition = impose.make_edition(source, out, "a4", result.starts)
    assert edition.pages == 12 and edition.pages % 4 == 0 and edition.blanks == 5
    assert set(viewed(out)) == {(595, 842)}
    with pikepdf.open(out) as pdf:
        for page in pdf.pages:
            assert [round(float(v)) for v in page.obj.TrimBox] == [0, 0, 595, 842]
    marks = bookmarks(out)
    assert [title for title, _page in marks] == [title for title, _page in bookmarks(source)]
    paper_pages = [page for _title, page in marks[3:]]
    assert paper_pages == [5, 7, 9] and all(page % 2 == 1 for page in paper_pages)
    texts = [norm(text) for text in page_texts(out)]
    labels = list(pypdf.PdfReader(out).page_labels)
    toc = texts[2]
    for (title, physical), screen_start in zip(marks[3:], result.starts, strict=True):
        words = page_words(out, physical)
        printed = [w[0] for w in words if w[2] > 842 - 60 and w[0].isdigit()]
        assert printed == [str(screen_start)], (title, printed)  # the number on the page
        assert labels[physical - 1] == str(screen_start)
        assert re.search(re.escape(norm(title.split(": ", 1)[1])) + f" {screen_start}\\b", toc)
        assert f"EDITION{marks.index((title, physical)) - 2}-PAGE1" in texts[physical - 1]
    blank_pages = [n for n, text in enumerate(texts, start=1) if not text]
    assert blank_pages == [4, 6, 10, 11, 12]


def test_a4_edition_turns_landscape_pages_and_keeps_the_number_at_the_foot(screen, tmp_path):
    result, source = screen
    out = tmp_path / "a4.pdf"
    impose.make_edition(source, out, "a4", result.starts)
    words = page_words(out, 9)
    marker = next(w for w in words if w[0] == "EDITION3-PAGE1")
    assert marker[4] - marker[2] > marker[3] - marker[1], "the landscape page is not turned"
    number = next(w for w in words if w[0] == "7")
    assert abs((number[1] + number[3]) / 2 - docmaker.A4[0] / 2) < 3 and number[4] > 842 - 45
    letter = next(w for w in page_words(out, 7) if w[0] == "EDITION2-PAGE1")
    assert letter[3] - letter[1] > letter[4] - letter[2]  # Letter: upright, scaled to fit


def test_a5_booklet_is_imposed_in_saddle_stitch_order(screen, tmp_path):
    result, source = screen
    out = tmp_path / "a5.pdf"
    edition = impose.make_edition(source, out, "a5-booklet", result.starts)
    assert edition.pages == 6  # 12 A4 pages, two per side, three sheets
    assert set(viewed(out)) == {(842, 595)}
    half = 841.89 / 2

    def side_of(text: str) -> tuple[int, str]:
        for side in range(1, edition.pages + 1):
            for word in page_words(out, side):
                if word[0] == text:
                    return side, "left" if word[3] <= half else "right"
        raise AssertionError(f"{text} not found")

    # sheet 1 front: A4 page 12 (blank) | 1 (cover); back: 2 (agenda) | 11 (blank)
    assert side_of("TÀI") == (1, "right")
    assert side_of("CHƯƠNG") == (2, "left")
    assert side_of("MỤC") == (3, "right")  # sheet 2 front: 10 | 3
    assert side_of("EDITION1-PAGE1") == (5, "right")  # sheet 3 front: 8 | 5
    assert side_of("EDITION2-PAGE1") == (6, "right")  # sheet 3 back: 6 | 7
    assert side_of("EDITION2-PAGE2") == (5, "left")
    assert side_of("EDITION3-PAGE1") == (4, "right")  # sheet 2 back: 4 | 9
    marks = bookmarks(out)
    assert [page for _title, page in marks[3:]] == [5, 6, 4]


def test_print_editions_are_reproducible(screen, tmp_path):
    result, source = screen
    for edition in EDITIONS:
        first = impose.make_edition(source, tmp_path / f"1-{edition}.pdf", edition,
                                       result.starts)
        second = impose.make_edition(source, tmp_path / f"2-{edition}.pdf", edition,
                                        result.starts)
        assert first.sha256 == second.sha256
        assert (tmp_path / f"1-{edition}.pdf").read_bytes() == \
            (tmp_path / f"2-{edition}.pdf").read_bytes()


def test_stamp_font_bytes_do_not_depend_on_the_time(monkeypatch):
    """fontTools stamps the subset's head table with the time unless told not to."""
    import time as time_module

    first = stamp.make_stamp_font().data
    monkeypatch.setattr(time_module, "time", lambda: 2_000_000_000.0)
    assert stamp.make_stamp_font().data == first
