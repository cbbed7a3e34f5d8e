"""The booklet's assembly in a warm process, against a bare pikepdf merge of the same papers.

What the Office's "build" costs once the server is running and nothing else has changed: the
seven papers of the corpus, converted as on upload (by ``bench/booklet.py --setup``), assembled
by ``booklet.merge.build_booklet`` with the front matter already rendered and kept (the
``cache/front`` the portal uses): fonts preflight, merge, page numbers, bookmarks, save, hash.

In each round, in the same warm child process, interleaved:

* floor   a bare in-process pikepdf merge of the same seven PDFs, saved to a file;
* build   ``build_booklet`` (final, with the kept front matter);
* qpdf    ``qpdf --empty --pages … -- out --remove-unreferenced-resources=no``, a process (for
          information: the command-line merge without its resource analysis, which is ~7×
          slower on these inputs).

It prints every round, min/median/max of each and of build/floor, and the child's peak RSS.
The last line is the checked figure: build ≤ 3× floor (median of the per-round ratios), peak
memory < 200 MB, with ``met`` or ``NOT met`` (exit status 0 only when met).

    .venv/bin/python bench/assemble.py [--rounds 7]

Run by hand, never by the test suite.
"""

from __future__ import annotations

import argparse
import json
import resource
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

TARGET = 3.0
MEMORY_MB = 200


def spread(values: list[float], unit: str = "s") -> str:
    return (f"min {min(values):7.3f} {unit}  median {statistics.median(values):7.3f} {unit}  "
            f"max {max(values):7.3f} {unit}")


def measure(folder: Path, papers: list[str], rounds: int) -> dict:
    """In a child process: warm up, then the interleaved rounds."""
    import pikepdf

    from portal.services.booklet.merge import FrontMatter, Part, build_booklet

    front = FrontMatter(
        title="Tọa đàm nội bộ về cải cách hành chính năm 2021 nhân Ngày Khoa học và Công "
              "nghệ Việt Nam 18/5",
        organiser="Sở Khoa học và Công nghệ tỉnh Quảng Ngãi",
        venue="Hội trường Sở Khoa học và Công nghệ",
        session="08:00–11:30, ngày 17/05/2021",
        place_date="Quảng Ngãi, tháng 5 năm 2021",
    )
    parts = [Part(number, "Báo cáo đề dẫn" if number == 1 else "Tham luận",
                  f"Đơn vị số {number}", "", f"Tham luận số {number} về cải cách hành chính",
                  Path(path))
             for number, path in enumerate(papers, start=1)]
    out, floor_out, qpdf_out = folder / "booklet.pdf", folder / "floor.pdf", folder / "qpdf.pdf"
    cache = folder / "front-cache"

    def floor() -> None:
        merged = pikepdf.new()
        for name in papers:
            merged.pages.extend(pikepdf.open(name).pages)
        merged.save(floor_out)

    def build() -> int:
        return build_booklet(front, parts, out, draft=False, cache_dir=cache).pages

    pages = build()  # renders the front matter once and keeps it; fonts and styles warm
    floor()
    times: dict[str, list[float]] = {"floor": [], "build": [], "qpdf": []}
    for _ in range(rounds):
        for name, step in (("floor", floor), ("build", build), ("qpdf", None)):
            started = time.perf_counter()
            if step is None:
                subprocess.run(["qpdf", "--empty", "--pages", *papers, "--", str(qpdf_out),
                                "--remove-unreferenced-resources=no"], check=True)
            else:
                step()
            times[name].append(time.perf_counter() - started)
    return {"times": times, "pages": pages,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "ROUNDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder = Path(args.child[0])
        papers = json.loads((folder / "inputs.json").read_text())["papers"]
        print(json.dumps(measure(folder, papers, int(args.child[1]))))
        return 0
    if not shutil.which("qpdf"):
        sys.exit("qpdf is not installed")
    with tempfile.TemporaryDirectory(prefix="bench-assemble-") as tmp:
        folder = Path(tmp)
        made = subprocess.run([sys.executable, str(ROOT / "bench" / "booklet.py"), "--setup",
                               str(folder)], check=True, capture_output=True, text=True,
                              cwd=ROOT)
        inputs = json.loads(made.stdout.strip().splitlines()[-1])
        (folder / "inputs.json").write_text(json.dumps(inputs))
        child = subprocess.run([sys.executable, __file__, "--child", str(folder),
                                str(args.rounds)], check=True, capture_output=True, text=True,
                               cwd=ROOT)
        result = json.loads(child.stdout.strip().splitlines()[-1])
    times = result["times"]
    print(f"inputs: {len(inputs['papers'])} converted papers of the corpus, "
          f"{inputs['pages']} pages; booklet {result['pages']} pages")
    for number, row in enumerate(zip(*times.values(), strict=True), start=1):
        floor, build, qpdf = row
        print(f"round {number}: floor {floor * 1000:7.1f} ms  build {build * 1000:7.1f} ms  "
              f"qpdf {qpdf * 1000:7.1f} ms  build/floor {build / floor:5.2f}")
    ratio = [b / f for b, f in zip(times["build"], times["floor"], strict=True)]
    for name, values in times.items():
        print(f"{name:6s} {spread(values)}")
    print(f"build/floor  min {min(ratio):.2f}  median {statistics.median(ratio):.2f}  "
          f"max {max(ratio):.2f}")
    print(f"peak RSS of the measuring process: {result['peak_mb']:.0f} MB")
    met = statistics.median(ratio) <= TARGET and result["peak_mb"] < MEMORY_MB
    print(f"checked: assembly / bare pikepdf merge, median {statistics.median(ratio):.2f} "
          f"(target <= {TARGET:g}); peak {result['peak_mb']:.0f} MB (target < {MEMORY_MB}): "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
