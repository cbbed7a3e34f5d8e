"""Benchmark: the booklet build through the service layer, against a qpdf merge.

Makes seven realistic Vietnamese papers (four Word .docx of running text with headings and a
table, three PDFs of which one is US Letter; 12–20 pages each), uploads them through
``submissions.upload`` (so each is checked and converted once, as in production), then times
``booklet.build`` in-process (median of several runs; the papers are already converted) and
``qpdf --empty --pages`` merging the same converted PDFs, on the same machine in the same run.
Peak memory of a build is measured in a fresh child process (max RSS of import + one build).
With ``--scaling`` it also reports 7×5, 7×20 and 7×80 pages.

    .venv/bin/python bench/booklet.py [--runs 7] [--scaling]

The last line reads ``booklet build <s> s; qpdf merge <s> s; ratio <build/merge>``.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SENTENCE = (
    "Sở Khoa học và Công nghệ tỉnh Quảng Ngãi tiếp tục đẩy mạnh cải cách hành chính, nâng cao "
    "chất lượng giải quyết hồ sơ thủ tục hành chính qua dịch vụ công trực tuyến mức độ 3, mức "
    "độ 4, bảo đảm công khai, minh bạch, đúng thời hạn và thuận lợi cho tổ chức, cá nhân. "
)
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def make_docx(pages: int, position: int) -> bytes:
    """Running Vietnamese text, roughly ``pages`` A4 pages once converted."""
    body = []
    for section in range(pages):
        body.append(f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>'
                    f"{section + 1}. Giải pháp trọng tâm số {section + 1}</w:t></w:r></w:p>")
        for _ in range(3):
            body.append(f'<w:p><w:r><w:t xml:space="preserve">{escape(SENTENCE * 2)}</w:t>'
                        "</w:r></w:p>")
        if section % 4 == 1:
            rows = "".join(
                f"<w:tr><w:tc><w:p><w:r><w:t>Chỉ số {r}</w:t></w:r></w:p></w:tc>"
                f"<w:tc><w:p><w:r><w:t>{80 + r}%</w:t></w:r></w:p></w:tc></w:tr>"
                for r in range(4))
            body.append(f"<w:tbl>{rows}</w:tbl>")
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<w:document xmlns:w="{W}"><w:body>{"".join(body)}</w:body></w:document>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="applicati'
            'on/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" Conten'
            'tType="application/xml"/><Override PartName="/word/document.xml" ContentType="app'
            'lication/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            "</Types>"))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openx'
            'mlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://sc'
            'hemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target'
            '="word/document.xml"/></Relationships>'))
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def make_pdf(pages: int, position: int, letter: bool) -> bytes:
    import weasyprint

    size = "letter" if letter else "A4"
    html = "".join(
        f'<section style="break-after: page"><h2>Phần {page + 1} — tham luận {position}</h2>'
        f"<p>{SENTENCE * 6}</p><p>{SENTENCE * 5}</p></section>" for page in range(pages))
    css = weasyprint.CSS(string=f"@page {{ size: {size}; margin: 25mm }} body {{ font: 13pt "
                                "'DejaVu Serif' }}")
    return weasyprint.HTML(string=f"<html lang=vi><body>{html}</body></html>").write_pdf(
        stylesheets=[css])


def prepare(folder: Path, pages_of: list[int]):
    """A fresh installation in ``folder`` with seven papers uploaded; returns the app."""
    os.environ.setdefault("PORTAL_ENV", "testing")
    from config import TestingConfig
    from portal import create_app
    from portal.extensions import db
    from portal.services import accounts, seminars, submissions

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/bench.db",
                     UPLOAD_DIR=str(folder / "uploads"))
    with app.app_context():
        db.create_all()
        seminars.load_plan()
        office, _ = accounts.create_user(accounts.NewUser(
            email="office@example.org", name="Văn Phòng", password="bench-password",
            unit="Văn phòng Sở", office=True))
        seminar = seminars.current_seminar()
        for position, pages in enumerate(pages_of, start=1):  # the Office may upload any time
            if position in (2, 4, 5, 7):
                data, name = make_docx(pages, position), f"Tham luận {position}.docx"
            else:
                data = make_pdf(pages, position, letter=position == 3)
                name = f"Tham luận {position}.pdf"
            assignment = submissions.get_assignment(seminar, position)
            submissions.upload(assignment, office, io.BytesIO(data), name)
    return app


def converted_paths(app) -> list[Path]:
    from portal.services import seminars, submissions
    from portal.storage import get_storage

    with app.app_context():
        storage = get_storage()
        return [storage.path(a.current_submission.normalised_path)
                for a in submissions.assignments_with_revisions(seminars.current_seminar())]


def time_build(app, runs: int, cold_front: bool) -> tuple[float, int]:
    from portal.services import booklet, seminars
    from portal.storage import get_storage

    times, pages = [], 0
    with app.app_context():
        seminar = seminars.current_seminar()
        booklet.build(seminar, None, draft=False)  # warm-up: imports, font subsetting
        for _ in range(runs):
            if cold_front:
                shutil.rmtree(get_storage().path("cache/front"), ignore_errors=True)
            started = time.perf_counter()
            item = booklet.build(seminar, None, draft=False)
            times.append(time.perf_counter() - started)
            pages = item.pages
    return statistics.median(times), pages


def time_qpdf(paths: list[Path], runs: int, folder: Path) -> float:
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        raise SystemExit("qpdf is not installed (apt-get install qpdf)")
    times = []
    for _ in range(runs):
        out = folder / "qpdf-merge.pdf"
        started = time.perf_counter()
        subprocess.run([qpdf, "--empty", "--pages", *map(str, paths), "--", str(out)],
                       check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def child_peak_memory(folder: Path) -> float:
    """Max RSS (MB) of a fresh process that imports the portal and builds the booklet once."""
    code = "\n".join([
        "import resource, sys",
        f"sys.path.insert(0, {str(ROOT)!r})",
        "from config import TestingConfig",
        "from portal import create_app",
        "from portal.services import booklet, seminars",
        f"app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI={f'sqlite:///{folder}/bench.db'!r},"
        f" UPLOAD_DIR={str(folder / 'uploads')!r})",
        "with app.app_context():",
        "    booklet.build(seminars.current_seminar(), None, draft=False)",
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)",
    ])
    result = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                            capture_output=True, text=True)
    return int(result.stdout.split()[-1]) / 1024


def measure(pages_of: list[int], runs: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="booklet-bench-"))
    try:
        started = time.perf_counter()
        app = prepare(folder, pages_of)
        upload_seconds = time.perf_counter() - started
        paths = converted_paths(app)
        cold, pages = time_build(app, runs, cold_front=True)
        warm, _ = time_build(app, runs, cold_front=False)
        merge = time_qpdf(paths, runs, folder)
        memory = child_peak_memory(folder)
        return {"pages": pages, "cold": cold, "warm": warm, "qpdf": merge,
                "memory": memory, "uploads": upload_seconds}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--scaling", action="store_true", help="also 7×5, 7×20, 7×80 pages")
    args = parser.parse_args()

    if args.scaling:
        print("pages/paper  total  build(cold front)  build(warm)  qpdf    ratio  peak MB")
        for each in (5, 20, 80):
            r = measure([each] * 7, max(3, args.runs // 2))
            print(f"{each:>11}  {r['pages']:>5}  {r['cold']:>15.3f}s  {r['warm']:>10.3f}s  "
                  f"{r['qpdf']:.3f}s  {r['cold'] / r['qpdf']:>5.2f}  {r['memory']:>7.0f}")
    realistic = [12, 15, 20, 14, 18, 16, 13]
    r = measure(realistic, args.runs)
    print(f"seven papers of 12–20 pages: {r['pages']} pages in the booklet; uploads with "
          f"checks and conversion took {r['uploads']:.1f} s in all")
    print(f"build with the front matter rendered anew: {r['cold']:.3f} s; with it cached: "
          f"{r['warm']:.3f} s; peak memory of a build process: {r['memory']:.0f} MB")
    print(f"booklet build {r['cold']:.3f} s; qpdf merge {r['qpdf']:.3f} s; "
          f"ratio {r['cold'] / r['qpdf']:.2f}")


if __name__ == "__main__":
    main()
