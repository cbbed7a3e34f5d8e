"""Benchmark: Word papers through the portal's conversion against a bare LibreOffice run.

For every Word file of the shared corpus that the portal accepts (.docx, and the Word 97 file
named .docm), each round converts the file twice, one after the other:

* portal: ``documents.checker.run_checked(src, convert_to=...)``, exactly what an upload does: the
  bounded child process, the content checks, the profile copy, NFC and link clean-up of the
  document copy, LibreOffice, and the PDF clean-up;
* bare: ``soffice --headless --convert-to pdf`` of the same file with one profile kept warm
  across the runs (the cheapest way LibreOffice can do it).

Rounds interleave the two so that a busy machine slows both alike. It prints min/median/max of
each per file, the per-round totals and their ratio, and ends with the checked figure:

    overhead ratio <median of portal/bare totals> (target <= 1.5); poi__bug65649.docx accepted …

    .venv/bin/python bench/convert.py [--rounds 3] [--corpus ../shared/corpus]
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

LONG_REPORT = "tricky/poi__bug65649.docx"
TARGET = 1.5


def word_files(corpus: Path) -> list[Path]:
    rows = json.loads((corpus / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    names = [row["dest"] for row in rows
             if row["dest"].endswith((".docx", ".doc", ".odt", ".docm"))
             and (row["expect"] == "accept" or row["dest"].endswith(".docm"))]
    return [corpus / name for name in sorted(names)]


def portal(src: Path, out: Path) -> tuple[float, int]:
    from portal.services.documents.checker import run_checked

    started = time.perf_counter()
    result = run_checked(src, convert_to=out)
    return time.perf_counter() - started, int(result.print_pages or 0)


def bare(src: Path, outdir: Path, profile: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(outdir), str(src)],
        capture_output=True, check=True, timeout=600)
    elapsed = time.perf_counter() - started
    if not any(outdir.iterdir()):
        raise RuntimeError(f"bare soffice produced nothing for {src.name}")
    return elapsed


def spread(values: list[float]) -> str:
    return (f"min {min(values):6.2f}  median {statistics.median(values):6.2f}  "
            f"max {max(values):6.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    files = word_files(args.corpus)
    if not files:
        print(f"no Word files in {args.corpus}", file=sys.stderr)
        return 2
    timings: dict[str, dict[str, list[float]]] = {
        f.name: {"portal": [], "bare": []} for f in files}
    pages: dict[str, int] = {}
    totals: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as folder:
        work = Path(folder)
        profile = work / "bare-profile"
        warm_up = work / "warm-up"
        warm_up.mkdir()
        bare(files[0], warm_up, profile)  # the bare profile is made once, before timing
        portal(files[0], warm_up / "portal.pdf")  # and the portal's prepared profile
        for round_number in range(1, args.rounds + 1):
            portal_total = bare_total = 0.0
            for index, src in enumerate(files):
                outdir = work / f"r{round_number}-{index}"
                outdir.mkdir()
                seconds, count = portal(src, outdir / "portal.pdf")
                pages[src.name] = count
                bare_dir = outdir / "bare"
                bare_dir.mkdir()
                bare_seconds = bare(src, bare_dir, profile)
                timings[src.name]["portal"].append(seconds)
                timings[src.name]["bare"].append(bare_seconds)
                portal_total += seconds
                bare_total += bare_seconds
                shutil.rmtree(outdir)
            totals.append((portal_total, bare_total))
            print(f"round {round_number}: portal {portal_total:6.2f} s, bare {bare_total:6.2f} s,"
                  f" ratio {portal_total / bare_total:4.2f}", flush=True)
    print()
    print(f"{'file':58} {'pages':>5}  seconds (portal | bare | ratio)")
    for src in files:
        times = timings[src.name]
        ratios = [p / b for p, b in zip(times["portal"], times["bare"], strict=True)]
        print(f"{src.name[:58]:58} {pages[src.name]:5d}")
        print(f"    portal  {spread(times['portal'])}")
        print(f"    bare    {spread(times['bare'])}")
        print(f"    ratio   {spread(ratios)}")
    portal_totals = [p for p, _ in totals]
    bare_totals = [b for _, b in totals]
    ratios = [p / b for p, b in totals]
    print(f"totals portal {spread(portal_totals)}")
    print(f"totals bare   {spread(bare_totals)}")
    print(f"totals ratio  {spread(ratios)}")
    long_report = Path(LONG_REPORT).name
    long_line = ""
    if long_report in timings:
        long_line = (f"; {long_report} accepted, {pages[long_report]} pages, median "
                     f"{statistics.median(timings[long_report]['portal']):.1f} s "
                     f"(bare {statistics.median(timings[long_report]['bare']):.1f} s)")
    ratio = statistics.median(ratios)
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(f"overhead ratio {ratio:.2f} (target <= {TARGET}, {verdict}){long_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
