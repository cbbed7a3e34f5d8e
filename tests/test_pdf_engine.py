"""The PDF engine: paper conversion (``convert``) and the booklet build (``assemble``).

Everything is read back from the PDF itself: text with poppler's ``pdftotext`` (word boxes
included), structure with pypdf and pikepdf, fonts with ``pdffonts``, validity with
``qpdf --check``. No Flask app and no database are needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pikepdf
import pypdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from portal.services import weasy
from portal.services.booklet import merge as assemble
from portal.services.booklet.front import agency_lines
from portal.services.booklet.parts import BookletResult, FrontMatter, Part, plan_starts
from portal.services.documents.convert import ConversionError, normalise
from portal.services.documents.notes import Note
from portal.services.documents.version import CONVERTER_VERSION
from portal.settings import FONT_DIR, PROJECT_ROOT
from tests import docmaker
from tests.docmaker import A4, LETTER

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")
PDFFONTS = shutil.which("pdffonts")
QPDF = shutil.which("qpdf")

needs_pdftotext = pytest.mark.skipif(
    not PDFTOTEXT, reason="pdftotext (poppler-utils) is not installed"
)

FRONT = FrontMatter(
    title="Tọa đàm nội bộ về cải cách hành chính năm 2021 nhân Ngày Khoa học và Công nghệ "
    "Việt Nam 18/5",
    organiser="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi",
    agency="SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH QUẢNG NGÃI",
    venue="Hội trường Sở Khoa học và Công nghệ",
    session="08:00–11:30, ngày 17/05/2021",
    place_date="Quảng Ngãi, tháng 5 năm 2021",
)

TITLES = [
    "Tình hình kết quả thực hiện cải cách hành chính năm 2020, các nhiệm vụ và giải pháp trọng "
    "tâm các tháng còn lại trong năm 2021",
    "Giải pháp duy trì và đẩy mạnh việc nộp hồ sơ TTHC qua dịch vụ công trực tuyến mức độ 3, "
    "mức độ 4 để nâng cao điểm số về cung cấp dịch vụ công trực tuyến",
    "Giải pháp thực hiện tốt công tác cải cách tài chính công; nâng mức tự chủ của đơn vị sự "
    "nghiệp công lập",
    "Giải pháp tăng cường hiệu quả xử lý hồ sơ thủ tục hành chính trên phần mềm một cửa tỉnh "
    "Quảng Ngãi đối với các TTHC do phòng tham mưu giải quyết",
    "Giải pháp đẩy mạnh các hoạt động về theo dõi thi hành pháp luật trong lĩnh vực khoa học "
    "và công nghệ",
    "Tăng cường công tác kiểm tra việc xây dựng, áp dụng, duy trì, cải tiến Hệ thống quản lý "
    "chất lượng theo Tiêu chuẩn quốc gia TCVN ISO 9001:2015 tại các cơ quan hành chính nhà "
    "nước trên địa bàn tỉnh",
    "Giải pháp nâng cao công tác tuyên truyền về công tác cải cách hành chính của Sở và của tỉnh",
]
UNITS = [
    "Văn phòng Sở",
    "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành",
    "Phòng Kế hoạch - Tài chính",
    "Phòng Quản lý Khoa học",
    "Thanh tra Sở",
    "Chi cục Tiêu chuẩn Đo lường Chất lượng",
    "Trung tâm Ứng dụng và Dịch vụ khoa học công nghệ",
]
KINDS = ["Báo cáo đề dẫn"] + ["Tham luận"] * 6
BOOKMARKS = [
    f"{n}. {kind} – {unit}: {title}"
    for n, (kind, unit, title) in enumerate(zip(KINDS, UNITS, TITLES, strict=True), start=1)
]
VIETNAMESE_PARAGRAPHS = [
    "Báo cáo tình hình kết quả thực hiện cải cách hành chính năm 2020",
    "Đẩy mạnh ứng dụng công nghệ thông tin, dịch vụ công trực tuyến mức độ 3, mức độ 4",
    "Nâng cao chỉ số cải cách hành chính của Sở Khoa học và Công nghệ tỉnh Quảng Ngãi",
]
LANDSCAPE = (A4[1], A4[0])

# Page layouts of the seven papers (paper 1 is a converted DOCX): A4, Letter, landscape,
# rotated pages, and a page whose boxes do not start at 0,0.
PAPER_PAGES: list[list[tuple]] = [
    [],
    [A4, A4, A4],
    [LETTER, LETTER],
    [LANDSCAPE, LANDSCAPE],
    [(*A4, 90), (*A4, 270), (*A4, 180)],
    [A4],  # its box is moved away from the origin below
    [A4, LETTER],
]


def norm(text: str) -> str:
    """NFC, one space between words, no leader dots: text as a reader would compare it."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"(?:\s*\.){3,}", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def pdftotext(path: Path, first: int | None = None, last: int | None = None) -> str:
    args = [PDFTOTEXT, "-enc", "UTF-8"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run(
        [*args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def page_texts(path: Path) -> list[str]:
    return pdftotext(path).split("\f")[:-1]


def page_words(path: Path) -> list[list[tuple[str, float, float, float, float]]]:
    """Every page's words with their boxes (x0, y0, x1, y1; y down from the top as viewed)."""
    xhtml = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", "-cropbox", "-bbox", str(path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout
    root = ET.fromstring(xhtml)
    pages = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        pages.append([
            (
                (word.text or "").strip(),
                float(word.get("xMin")), float(word.get("yMin")),
                float(word.get("xMax")), float(word.get("yMax")),
            )
            for word in page.iter("{http://www.w3.org/1999/xhtml}word")
        ])
    return pages


def viewed_sizes(path: Path) -> list[tuple[float, float]]:
    """Each page's visible width and height as shown (rotation applied)."""
    sizes = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.cropbox)
            width, height = abs(x1 - x0), abs(y1 - y0)
            if page.rotation % 180:
                width, height = height, width
            sizes.append((width, height))
    return sizes


def make_paper_pdf(path: Path, paper: int, pages: list[tuple]) -> Path:
    texts = [f"PAPER{paper}-PAGE{page}" for page in range(1, len(pages) + 1)]
    docmaker.make_pdf(path, pages, text_per_page=texts)
    docmaker.embed_fonts(path)
    if paper == 6:  # move the page's boxes away from the origin, content with them
        with pikepdf.open(path, allow_overwriting_input=True) as pdf:
            page = pdf.pages[0]
            page.obj.MediaBox = Array([100, 200, 100 + A4[0], 200 + A4[1]])
            page.obj.CropBox = Array([110, 210, 90 + A4[0], 190 + A4[1]])
            page.contents_add(b"q 1 0 0 1 100 200 cm", prepend=True)
            page.contents_add(b"Q")
            pdf.save(path)
    return path


def styled_docx(path: Path, *, external_picture: bool = False,
                external_target: str = "http://127.0.0.1:9/secret.png") -> Path:
    """A DOCX with Word styles (Title, heading 1, List Bullet, Body Text), a table, an
    embedded PNG, an A4 section as Word writes it and, optionally, a picture linked to an
    outside URL or file."""
    w, r = docmaker.W_NAMESPACE, docmaker.R_NAMESPACE
    namespaces = (
        f'xmlns:w="{w}" xmlns:r="{r}" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
    )

    def para(text: str, style: str | None = None) -> str:
        properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        return f'<w:p>{properties}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'

    def picture(attribute: str) -> str:
        return (
            '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="190500" cy="190500"/>'
            '<wp:docPr id="1" name="P" descr="hình"/><a:graphic><a:graphicData '
            'uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
            f"<pic:blipFill><a:blip {attribute}/></pic:blipFill></pic:pic></a:graphicData>"
            "</a:graphic></wp:inline></w:drawing></w:r></w:p>"
        )

    styles = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles xmlns:w="{w}">'
        '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial"/>'
        "</w:rPr></w:rPrDefault></w:docDefaults>"
        '<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="ListBullet"><w:name w:val="List Bullet"/>'
        "</w:style>"
        '<w:style w:type="paragraph" w:styleId="BodyText"><w:name w:val="Body Text"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>'
        "</w:styles>"
    )
    body = (
        para("Báo cáo tham luận", "Title")
        + para("Mục tiêu và giải pháp", "Heading1")
        + "".join(para(text, "BodyText") for text in VIETNAMESE_PARAGRAPHS)
        + para("Dịch vụ công trực tuyến mức độ 3", "ListBullet")
        + picture('r:embed="rIdImg"')
        + (picture('r:link="rIdExt"') if external_picture else "")
        + "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Ô thứ nhất</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>Ô thứ hai</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" '
        'w:bottom="1134" w:left="1701" w:header="720" w:footer="720" w:gutter="0"/></w:sectPr>'
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<w:document {namespaces}><w:body>{body}</w:body></w:document>"
    )
    png = docmaker.make_png(path.with_suffix(".png"), 16, 16).read_bytes()
    content_types = docmaker.content_types_xml(
        extra_overrides={
            "/word/styles.xml": "application/vnd.openxmlformats-officedocument."
            "wordprocessingml.styles+xml"
        }
    ).replace('<Default Extension="xml"', '<Default Extension="png" ContentType="image/png"/>'
              '<Default Extension="xml"')
    relations = [
        ("rIdS", r + "/styles", "styles.xml", False),
        ("rIdImg", docmaker.IMAGE_REL, "media/picture.png", False),
    ]
    if external_picture:
        relations.append(("rIdExt", docmaker.IMAGE_REL, external_target, True))
    return docmaker.make_docx(
        path,
        document=document,
        document_rels=relations,
        extra_parts={
            "word/styles.xml": styles,
            "word/media/picture.png": png,
            "[Content_Types].xml": content_types,
        },
    )


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def papers(tmp_path_factory) -> list[Path]:
    """Seven normalised papers: a converted Vietnamese DOCX and six PDFs of mixed layouts."""
    folder = tmp_path_factory.mktemp("papers")
    docx = docmaker.make_docx(folder / "paper1.docx", VIETNAMESE_PARAGRAPHS)
    result = normalise(docx, "docx", folder / "paper1.pdf")
    assert result.pages == 1
    paths = [folder / "paper1.pdf"]
    for paper in range(2, 8):
        raw = make_paper_pdf(folder / f"raw{paper}.pdf", paper, PAPER_PAGES[paper - 1])
        normalise(raw, "pdf", folder / f"paper{paper}.pdf")
        paths.append(folder / f"paper{paper}.pdf")
    return paths


def make_parts(papers: list[Path], missing: set[int] = frozenset()) -> list[Part]:
    return [
        Part(
            position=number,
            kind="Báo cáo đề dẫn" if number == 1 else "Tham luận",
            unit=UNITS[number - 1],
            presenter="" if number % 2 else f"Nguyễn Văn {chr(64 + number)}",
            title=TITLES[number - 1],
            pdf=None if number in missing else papers[number - 1],
        )
        for number in range(1, 8)
    ]


@pytest.fixture(scope="module")
def final(papers, tmp_path_factory) -> tuple[BookletResult, Path]:
    out = tmp_path_factory.mktemp("final") / "booklet.pdf"
    return assemble.build_booklet(FRONT, make_parts(papers), out, draft=False), out


@pytest.fixture(scope="module")
def draft(papers, tmp_path_factory) -> tuple[BookletResult, Path]:
    out = tmp_path_factory.mktemp("draft") / "draft.pdf"
    parts = make_parts(papers, missing={3, 6})
    return assemble.build_booklet(FRONT, parts, out, draft=True), out


# -- the booklet ----------------------------------------------------------------------------


def test_starts_follow_the_papers_page_counts(final):
    result, out = final
    counts = [1, 3, 2, 2, 3, 1, 2]
    assert result.front_pages == 3
    assert result.starts == plan_starts(3, counts) == [4, 5, 8, 10, 12, 15, 16]
    assert result.pages == 3 + sum(counts) == len(pypdf.PdfReader(out).pages)
    assert out.stat().st_size == result.size
    assert len(result.sha256) == 64


@needs_pdftotext
def test_each_paper_starts_on_its_start_page(final):
    result, out = final
    texts = page_texts(out)
    assert norm(VIETNAMESE_PARAGRAPHS[0]) in norm(texts[result.starts[0] - 1])
    for paper in range(2, 8):
        assert f"PAPER{paper}-PAGE1" in texts[result.starts[paper - 1] - 1]
        assert f"PAPER{paper}-PAGE1" not in texts[result.starts[paper - 1] - 2]


@needs_pdftotext
def test_table_of_contents_gives_exact_titles_and_real_first_pages(final):
    result, out = final
    toc = norm(pdftotext(out, 3, 3))
    assert toc.startswith("MỤC LỤC")
    for title, unit, start in zip(TITLES, UNITS, result.starts, strict=True):
        match = re.search(re.escape(norm(title)) + r" (\d+)", toc)
        assert match, f"title missing from the contents: {title}"
        assert int(match[1]) == start
        assert unit in toc


def test_table_of_contents_entries_link_to_the_papers(final):
    result, out = final
    reader = pypdf.PdfReader(out)
    targets = set()
    for annotation in reader.pages[2].get("/Annots", []):
        annotation = annotation.get_object()
        assert "/A" not in annotation  # no leftover URI actions
        targets.add(reader.get_page_number(annotation["/Dest"][0].get_object()) + 1)
    assert targets == set(result.starts)


def test_bookmarks_are_the_exact_titles_and_point_at_first_pages(final):
    result, out = final
    reader = pypdf.PdfReader(out)
    outline = [(item.title, reader.get_destination_page_number(item) + 1)
               for item in reader.outline]
    assert outline[:3] == [("Bìa", 1), ("Chương trình", 2), ("Mục lục", 3)]
    assert outline[3:] == list(zip(BOOKMARKS, result.starts, strict=True))
    assert outline[4][0] == (
        "2. Tham luận – Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành: "
        + TITLES[1])


def test_page_labels_are_continuous_arabic_numbers(final):
    result, out = final
    reader = pypdf.PdfReader(out)
    assert list(reader.page_labels) == [str(n) for n in range(1, result.pages + 1)]
    labels = reader.trailer["/Root"]["/PageLabels"]["/Nums"]
    assert labels[0] == 0 and labels[1]["/S"] == "/D"


def test_metadata_title_author_language(final):
    _result, out = final
    reader = pypdf.PdfReader(out)
    assert reader.metadata.title == FRONT.title
    assert reader.metadata.author == FRONT.organiser
    assert reader.trailer["/Root"]["/Lang"] == "vi"


@needs_pdftotext
@pytest.mark.parametrize("booklet", ["final", "draft"])
def test_every_page_but_the_cover_shows_its_number_bottom_centre(booklet, request):
    result, out = request.getfixturevalue(booklet)
    pages = page_words(out)
    sizes = viewed_sizes(out)
    assert len(pages) == result.pages
    for number, (words, (width, height)) in enumerate(zip(pages, sizes, strict=True), start=1):
        bottom = [w for w in words if w[0].isdigit() and w[4] > height - 60]
        if number == 1:
            assert not bottom, "the cover shows no page number"
            continue
        stamped = [w for w in bottom if w[0] == str(number)]
        assert len(stamped) == 1, f"page {number}: number not found ({bottom})"
        _text, x0, y0, x1, y1 = stamped[0]
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, f"page {number} off page"
        assert abs((x0 + x1) / 2 - width / 2) < 3, f"page {number}: not centred"
        assert height - 45 < y1 < height - 20, f"page {number}: not near the bottom edge"


def test_page_sizes_and_rotations_are_kept(final):
    result, out = final
    with pikepdf.open(out) as pdf:
        paper5 = pdf.pages[result.starts[4] - 1 : result.starts[4] + 2]
        assert [page.rotation for page in paper5] == [90, 270, 180]
        letter = pdf.pages[result.starts[2] - 1]
        assert [round(float(v)) for v in letter.mediabox] == [0, 0, 612, 792]
        moved = pdf.pages[result.starts[5] - 1]
        assert [round(float(v)) for v in moved.cropbox] == [110, 210, 685, 1032]


@needs_pdftotext
def test_front_matter_vietnamese_text_is_intact(final):
    result, out = final
    cover, agenda, toc = (norm(text) for text in page_texts(out)[:3])
    for expected in (
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
        "TỈNH QUẢNG NGÃI",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TÀI LIỆU TỌA ĐÀM",
        norm(FRONT.title),
        FRONT.place_date,
    ):
        assert expected in cover
    assert agenda.startswith("CHƯƠNG TRÌNH")
    assert FRONT.session in agenda
    assert FRONT.venue in agenda
    for title, unit in zip(TITLES, UNITS, strict=True):
        assert norm(title) in agenda and norm(unit) in agenda
    assert "Báo cáo đề dẫn" in agenda and "Tham luận" in agenda
    assert "Nguyễn Văn B" in agenda
    assert "MỤC LỤC" in toc
    assert "BẢN NHÁP" not in norm(pdftotext(out))


@pytest.mark.skipif(not QPDF, reason="qpdf is not installed")
def test_booklets_pass_qpdf_check(final, draft):
    for _result, out in (final, draft):
        check = subprocess.run([QPDF, "--check", str(out)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.skipif(not PDFFONTS, reason="pdffonts (poppler-utils) is not installed")
def test_every_font_is_embedded(final, draft):
    for _result, out in (final, draft):
        listing = subprocess.run(
            [PDFFONTS, str(out)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        assert listing
        for line in listing:
            if "Helvetica" in line:  # the test papers' own unembedded standard font
                continue
            columns = line.split()
            assert columns[-5] == "yes", f"font not embedded: {line}"


@needs_pdftotext
def test_draft_marks_every_page_and_fills_missing_papers(draft):
    result, out = draft
    counts = [1, 3, 1, 2, 3, 1, 2]  # papers 3 and 6 missing: one placeholder page each
    assert result.starts == plan_starts(3, counts)
    texts = [norm(text) for text in page_texts(out)]
    assert len(texts) == result.pages
    for number, text in enumerate(texts, start=1):
        assert "BẢN NHÁP" in text, f"page {number} has no draft mark"
    for paper in (3, 6):
        placeholder = texts[result.starts[paper - 1] - 1]
        assert "Chưa nộp" in placeholder
        assert norm(TITLES[paper - 1]) in placeholder
        assert norm(UNITS[paper - 1]) in placeholder
    assert "PAPER4-PAGE1" in texts[result.starts[3] - 1]
    reader = pypdf.PdfReader(out)
    outline = [(item.title, reader.get_destination_page_number(item) + 1)
               for item in reader.outline[3:]]
    assert outline == list(zip(BOOKMARKS, result.starts, strict=True))


@pytest.mark.skipif(not PDFTOPPM, reason="pdftoppm (poppler-utils) is not installed")
def test_cover_is_not_blank(final, tmp_path):
    _result, out = final
    subprocess.run(
        [PDFTOPPM, "-r", "30", "-png", "-f", "1", "-l", "1", str(out), str(tmp_path / "c")],
        check=True,
    )
    from PIL import Image

    image = Image.open(next(tmp_path.glob("c*.png"))).convert("L")
    dark = sum(image.histogram()[:128])
    assert dark > 500, f"the cover looks blank ({dark} dark pixels)"


def test_front_matter_cache_skips_the_render(papers, tmp_path):
    cache = tmp_path / "cache"
    parts = make_parts(papers)
    first = assemble.build_booklet(FRONT, parts, tmp_path / "a.pdf", draft=False, cache_dir=cache)
    second = assemble.build_booklet(FRONT, parts, tmp_path / "b.pdf", draft=True, cache_dir=cache)
    assert (first.front_cached, second.front_cached) == (False, True)
    assert first.starts == second.starts
    renamed = [Part(p.position, p.kind, p.unit, p.presenter, p.title + " (sửa)", p.pdf)
               for p in parts]
    third = assemble.build_booklet(FRONT, renamed, tmp_path / "c.pdf", draft=False,
                                   cache_dir=cache)
    assert not third.front_cached
    assert pypdf.PdfReader(tmp_path / "c.pdf").outline[3].title == BOOKMARKS[0] + " (sửa)"


def test_agency_line_is_split_like_an_administrative_heading():
    assert agency_lines("SỞ KHOA HỌC VÀ CÔNG NGHỆ TỈNH QUẢNG NGÃI") == [
        "SỞ KHOA HỌC VÀ CÔNG NGHỆ", "TỈNH QUẢNG NGÃI"]
    assert agency_lines("UBND TỈNH QUẢNG NGÃI\nSỞ KHOA HỌC VÀ CÔNG NGHỆ") == [
        "UBND TỈNH QUẢNG NGÃI", "SỞ KHOA HỌC VÀ CÔNG NGHỆ"]


# -- conversion -----------------------------------------------------------------------------


@needs_pdftotext
def test_docx_with_styles_converts_with_its_vietnamese_text(tmp_path):
    docx = styled_docx(tmp_path / "styled.docx")
    result = normalise(docx, "docx", tmp_path / "styled.pdf")
    assert result.pages == 1
    assert result.page_sizes == [[pytest.approx(595.28, abs=0.1), pytest.approx(841.89, abs=0.1),
                                  0]]  # the document's own A4 (11906 x 16838 twips)
    text = norm(pdftotext(tmp_path / "styled.pdf"))
    for expected in ("Báo cáo tham luận", "Mục tiêu và giải pháp", *VIETNAMESE_PARAGRAPHS,
                     "Dịch vụ công trực tuyến mức độ 3", "Ô thứ nhất", "Ô thứ hai"):
        assert norm(expected) in text
    # Styles resolve and Arial has its metric-compatible face installed (Liberation Sans):
    # nothing to say.
    assert result.notes == [], result.notes
    if PDFFONTS:
        fonts = subprocess.run([PDFFONTS, str(tmp_path / "styled.pdf")], capture_output=True,
                               text=True, check=True).stdout
        assert "LiberationSans" in fonts
    with pikepdf.open(tmp_path / "styled.pdf") as pdf:
        assert len(pdf.pages[0].get_images()) == 1  # the embedded picture is kept


@pytest.mark.parametrize("target", ["http", "file"])
def test_docx_external_picture_is_left_out_not_fetched(tmp_path, target):
    import socket
    import threading

    secret = docmaker.make_png(tmp_path / "secret.png", 64, 64)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    connections: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connections.append(listener.accept())
            except OSError:
                continue

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    url = f"http://127.0.0.1:{port}/secret.png" if target == "http" else secret.as_uri()
    try:
        docx = styled_docx(tmp_path / "linked.docx", external_picture=True, external_target=url)
        result = normalise(docx, "docx", tmp_path / "linked.pdf")
    finally:
        stop.set()
        watcher.join()
        listener.close()
    assert connections == []
    assert result.pages == 1
    with pikepdf.open(tmp_path / "linked.pdf") as pdf:
        assert len(pdf.pages[0].get_images()) == 1  # only the embedded one


def test_url_fetcher_serves_only_the_project_fonts():
    fetcher = weasy.url_fetcher()
    font = (FONT_DIR / "LiberationSerif-Regular.ttf").as_uri()
    assert fetcher(font).read(4) == b"\x00\x01\x00\x00"
    for url in ("http://127.0.0.1:9/x.png", "https://example.org/a.css", "file:///etc/passwd",
                (PROJECT_ROOT / "config.py").as_uri(), "ftp://example.org/x",
                "data:text/plain;base64,aGk="):
        with pytest.raises(ValueError):
            fetcher(url)


def test_legacy_vietnamese_font_gets_a_note(tmp_path):
    w = docmaker.W_NAMESPACE
    run = ('<w:r><w:rPr><w:rFonts w:ascii=".VnTime" w:hAnsi=".VnTime"/></w:rPr>'
           '<w:t>Céng hßa x· héi chñ nghÜa ViÖt Nam ®éc lËp tù do h¹nh phóc b¸o c¸o</w:t></w:r>')
    document = (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
                f"<w:p>{run}</w:p><w:p>{run}</w:p></w:body></w:document>")
    docx = docmaker.make_docx(tmp_path / "tcvn3.docx", document=document)
    result = normalise(docx, "docx", tmp_path / "tcvn3.pdf")
    assert Note("legacy_encoding", fonts=[".VnTime"], more=False) in result.notes, result.notes


def test_converter_version_is_a_stable_hash():
    assert re.fullmatch(r"[0-9a-f]{16}", CONVERTER_VERSION)
    # Stable: another process (another worker, the command line) computes the same version.
    other = subprocess.run(
        [sys.executable, "-c", "from portal.services.documents.version import CONVERTER_VERSION;"
         "print(CONVERTER_VERSION)"], cwd=Path(__file__).resolve().parents[1],
        capture_output=True, text=True, check=True, timeout=120)
    assert other.stdout.strip() == CONVERTER_VERSION


def hostile_pdf(path: Path) -> Path:
    """A PDF with JavaScript everywhere, a launch action, an attachment and an XFA form."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=A4)
    js = Dictionary(S=Name.JavaScript, JS=String("app.alert('x')"))
    pdf.Root.OpenAction = js
    pdf.Root.AA = Dictionary(WC=Dictionary(S=Name.JavaScript, JS=String("1")))
    page.obj.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String("2")))
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("a"), js])))
    pdf.attachments["secret.txt"] = pikepdf.AttachedFileSpec(pdf, b"secret", mime_type="text/plain")
    rect = Array([10, 10, 50, 50])
    uri = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect,
                     A=Dictionary(S=Name.URI, URI=String("https://example.org/")))
    launch = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=rect,
                        A=Dictionary(S=Name.Launch, F=String("calc.exe"),
                                     Next=Dictionary(S=Name.JavaScript, JS=String("3"))))
    attachment = Dictionary(
        Type=Name.Annot, Subtype=Name.FileAttachment, Rect=rect,
        FS=Dictionary(Type=Name.Filespec, F=String("x.txt"),
                      EF=Dictionary(F=pdf.make_stream(b"payload"))),
    )
    page.obj.Annots = Array([pdf.make_indirect(a) for a in (uri, launch, attachment)])
    pdf.Root.AcroForm = Dictionary(Fields=Array(), XFA=pdf.make_stream(b"<xdp/>"))
    pdf.save(path, encryption=pikepdf.Encryption(owner="owner", user="", R=6))
    return path


def test_pdf_loses_javascript_actions_attachments_and_encryption(tmp_path):
    source = hostile_pdf(tmp_path / "hostile.pdf")
    result = normalise(source, "pdf", tmp_path / "clean.pdf")
    assert result.pages == 1 and result.page_sizes == [[595.28, 841.89, 0]]
    removed = {note.params["what"] for note in result.notes if note.code == "removed"}
    assert {"JavaScript", "embedded files"} <= removed
    assert Note("xfa_form") in result.notes and Note("encrypted") in result.notes
    raw = (tmp_path / "clean.pdf").read_bytes()
    with pikepdf.open(tmp_path / "clean.pdf") as pdf:
        assert not pdf.is_encrypted
        root = pdf.Root
        assert "/OpenAction" not in root and "/AA" not in root
        assert "/JavaScript" not in root.Names and "/EmbeddedFiles" not in root.Names
        assert "/XFA" not in root.AcroForm
        assert len(pdf.attachments) == 0
        page = pdf.pages[0].obj
        assert "/AA" not in page
        kinds = [(str(a.Subtype), str(a.get("/A", {}).get("/S", ""))) for a in page.Annots]
        assert kinds == [("/Link", "/URI"), ("/Link", "")]
        for obj in pdf.objects:
            if isinstance(obj, (Dictionary, pikepdf.Stream)):
                assert obj.get("/S") not in (Name.JavaScript, Name.Launch)
                assert "/EF" not in obj and "/JS" not in obj
    assert b"payload" not in raw and b"calc.exe" not in raw
    if QPDF:
        check = subprocess.run([QPDF, "--check", str(tmp_path / "clean.pdf")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout


def test_unusable_uploads_raise_conversion_error(tmp_path):
    (tmp_path / "junk.pdf").write_bytes(b"oops\n")
    with pytest.raises(ConversionError):
        normalise(tmp_path / "junk.pdf", "pdf", tmp_path / "out.pdf")
    docmaker.make_pdf(tmp_path / "locked.pdf",
                      encryption=pikepdf.Encryption(owner="o", user="secret", R=6))
    with pytest.raises(ConversionError, match="password"):
        normalise(tmp_path / "locked.pdf", "pdf", tmp_path / "out.pdf")
    (tmp_path / "fake.docx").write_bytes(b"%PDF-1.7 not a zip")
    with pytest.raises(ConversionError):
        normalise(tmp_path / "fake.docx", "docx", tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


# -- real documents from the shared corpus --------------------------------------------------

CORPUS_FILES = [
    "vietnamese/vbp__Phuluc2.docx",
    "vietnamese/vbp__30_2020_ND_CP.docx",
    "vietnamese/uit__thesis.pdf",
    "valid/mammoth__tables.docx",
    "valid/sf__minimal-document.pdf",
    "tricky/pdfjs__xfa_issue14315.pdf",
    "tricky/sf__with-attachment.pdf",
    "tricky/pypdf__r6-empty-password.pdf",
]


@pytest.fixture(scope="module")
def corpus_outputs(tmp_path_factory) -> list[tuple[str, Path, Path]]:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    folder = tmp_path_factory.mktemp("corpus")
    outputs = []
    for name in CORPUS_FILES:
        source = CORPUS / name
        if not source.is_file():
            continue
        out = folder / (source.stem + ".pdf")
        normalise(source, source.suffix.lstrip("."), out)
        outputs.append((name, source, out))
    if not outputs:
        pytest.skip("none of the corpus files is present")
    return outputs


def docx_paragraphs(path: Path) -> list[str]:
    """The text of each paragraph of a DOCX's main part, read from its XML."""
    import zipfile

    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("word/document.xml"))
    return ["".join(t.text or "" for t in p.iter(f"{w}t")) for p in root.iter(f"{w}p")]


@needs_pdftotext
def test_corpus_documents_keep_their_text(corpus_outputs):
    for name, source, out in corpus_outputs:
        converted = norm(pdftotext(out))
        if source.suffix == ".pdf":
            assert norm(pdftotext(source)) == converted, name
            continue
        lines = [norm(line) for line in docx_paragraphs(source) if line.strip()]
        lines = [line for line in lines if len(line) > 25][:8] or lines[:8]
        assert lines, name
        for line in lines:
            assert line in converted, f"{name}: {line!r} missing"


@pytest.mark.skipif(not QPDF, reason="qpdf is not installed")
def test_corpus_documents_build_a_valid_booklet(corpus_outputs, tmp_path):
    pdfs = [out for _name, _source, out in corpus_outputs][:7]
    pdfs += [None] * (7 - len(pdfs))
    parts = make_parts([p or Path("/nonexistent") for p in pdfs],
                       missing={n for n, p in enumerate(pdfs, start=1) if p is None})
    out = tmp_path / "corpus-booklet.pdf"
    result = assemble.build_booklet(FRONT, parts, out, draft=True)
    check = subprocess.run([QPDF, "--check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert result.pages == len(pypdf.PdfReader(out).pages)
