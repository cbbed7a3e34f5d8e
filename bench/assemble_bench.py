"""Time the booklet build (``portal.services.booklet.merge``) against ``qpdf --empty --pages``.

For seven papers of 5, 17, 20 and 80 pages each (Vietnamese text rendered by WeasyPrint:
A4, US Letter, A4 landscape, and a paper with pages rotated 90° and 270°), it reports the
median build time without and with the front-matter cache, qpdf's merge of the same files,
their ratio, and the peak memory (max RSS) of the process that ran the builds.

    .venv/bin/python bench/assemble_bench.py [--sizes 5,17,20,80] [--runs 5] [--keep DIR]

Each size is measured in a fresh child process, so imports and the input generation do
not count towards its memory. The last line reads
``booklet build <s> s; qpdf merge <s> s; ratio <build/merge>`` for 7 × 17 pages.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "Cải cách hành chính là nhiệm vụ trọng tâm của Sở Khoa học và Công nghệ tỉnh Quảng Ngãi; "
    "việc tiếp nhận và giải quyết hồ sơ thủ tục hành chính qua dịch vụ công trực tuyến mức độ 3, "
    "mức độ 4 cần được đẩy mạnh, bảo đảm công khai, minh bạch và đúng thời hạn quy định. "
) * 3
LAYOUTS = ["A4", "A4", "Letter", "A4", "A4 landscape", "A4", "A4"]
UNITS = [
    "Văn phòng Sở", "Phòng Quản lý Công nghệ, Thị trường công nghệ và Chuyên ngành",
    "Phòng Kế hoạch - Tài chính", "Phòng Quản lý Khoa học", "Thanh tra Sở",
    "Chi cục Tiêu chuẩn Đo lường Chất lượng", "Trung tâm Ứng dụng và Dịch vụ khoa học công nghệ",
]


def make_inputs(folder: Path, pages: int) -> list[Path]:
    """Seven paper PDFs of ``pages`` pages each (reused when already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, layout in enumerate(LAYOUTS):
        path = folder / f"paper{index + 1}-{pages}.pdf"
        paths.append(path)
        if path.exists():
            continue
        import pikepdf
        import weasyprint

        sections = "".join(
            f'<section style="break-after: page"><h2>Mục {page + 1}</h2>'
            f"<p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></section>"
            for page in range(pages)
        )
        html = (
            f"<html lang=vi><style>@page {{ size: {layout}; margin: 20mm 20mm 22mm 30mm }} "
            "body { font: 13pt 'Liberation Serif' } h2 { font-size: 14pt }</style>"
            f"<body>{sections}</body></html>"
        )
        weasyprint.HTML(string=html).write_pdf(path)
        if index == 5:  # some rotated pages, as scanners and landscape tables give
            with pikepdf.open(path, allow_overwriting_input=True) as pdf:
                for number, page in enumerate(pdf.pages):
                    if number % 4 == 1:
                        page.obj.Rotate = 90 if number % 8 == 1 else 270
                pdf.save(path)
    return paths


def measure(folder: Path, pages: int, runs: int) -> dict:
    """Run in a child process: build the booklet ``runs`` times each way; time qpdf."""
    import resource

    from portal.services.booklet.merge import FrontMatter, Part, build_booklet

    files = make_inputs(folder, pages)
    front = FrontMatter(
        title="Tọa đàm nội bộ về cải cách hành chính năm 2021 nhân Ngày Khoa học và "
        "Công nghệ Việt Nam 18/5",
        organiser="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi",
        venue="Hội trường Sở Khoa học và Công nghệ",
        session="08:00–11:30, ngày 17/05/2021",
        place_date="Quảng Ngãi, tháng 5 năm 2021",
    )
    parts = [
        Part(number, "Báo cáo đề dẫn" if number == 1 else "Tham luận", UNITS[number - 1],
             "", f"Tham luận số {number} về cải cách hành chính năm 2021", path)
        for number, path in enumerate(files, start=1)
    ]
    out = folder / f"booklet-{pages}.pdf"
    cache = folder / f"cache-{pages}"
    shutil.rmtree(cache, ignore_errors=True)
    build_booklet(front, parts, out, draft=False)  # warm up: fonts, stylesheet, templates

    def timed(draft: bool = False, cache_dir: Path | None = None) -> float:
        start = time.perf_counter()
        build_booklet(front, parts, out, draft=draft, cache_dir=cache_dir)
        return time.perf_counter() - start

    uncached = statistics.median(timed() for _ in range(runs))
    draft = statistics.median(timed(draft=True) for _ in range(runs))
    build_booklet(front, parts, out, draft=False, cache_dir=cache)
    cached = statistics.median(timed(cache_dir=cache) for _ in range(runs))
    total_pages = build_booklet(front, parts, out, draft=False, cache_dir=cache).pages
    merged = folder / f"qpdf-{pages}.pdf"
    qpdf_times = []
    for _ in range(max(3, runs)):
        start = time.perf_counter()
        subprocess.run(
            ["qpdf", "--empty", "--pages", *map(str, files), "--", str(merged)], check=True
        )
        qpdf_times.append(time.perf_counter() - start)
    return {
        "pages": pages,
        "total_pages": total_pages,
        "uncached": uncached,
        "cached": cached,
        "draft": draft,
        "qpdf": statistics.median(qpdf_times),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "size_mb": out.stat().st_size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5,17,20,80")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="folder for the inputs (kept between runs)")
    parser.add_argument("--child", nargs=3, metavar=("FOLDER", "PAGES", "RUNS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, pages, runs = Path(args.child[0]), int(args.child[1]), int(args.child[2])
        print(json.dumps(measure(folder, pages, runs)))
        return
    if not shutil.which("qpdf"):
        sys.exit("qpdf is not installed")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="assemble-bench-"))
    sizes = [int(size) for size in args.sizes.split(",")]
    results = {}
    print(f"{'papers':>10} {'pages':>6} {'build':>8} {'cached':>8} {'draft':>8} {'qpdf':>8} "
          f"{'ratio':>6} {'max RSS':>8} {'size':>8}")
    for pages in sizes:
        make_inputs(folder, pages)  # here, so the child's memory is the build's alone
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), str(pages), str(args.runs)],
            capture_output=True, text=True, check=True,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        results[pages] = result
        print(
            f"{'7 × ' + str(pages):>10} {result['total_pages']:6d} "
            f"{result['uncached']:7.3f}s {result['cached']:7.3f}s "
            f"{result['draft']:7.3f}s {result['qpdf']:7.3f}s "
            f"{result['uncached'] / result['qpdf']:6.2f} {result['max_rss_mb']:6.0f}MB "
            f"{result['size_mb']:6.1f}MB"
        )
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    key = 17 if 17 in results else sizes[-1]
    main_result = results[key]
    print(
        f"booklet build {main_result['uncached']:.3f} s; qpdf merge {main_result['qpdf']:.3f} s; "
        f"ratio {main_result['uncached'] / main_result['qpdf']:.2f}"
    )


if __name__ == "__main__":
    main()
