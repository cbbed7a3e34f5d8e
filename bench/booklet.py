"""Benchmark: `flask booklet build` as the Office runs it, against fair floors, paired.

Inputs are the corpus's real papers: four PDFs (a 37-page Vietnamese thesis, a 23-page
Vietnamese slide deck, a 22-page report, a one-page Google Docs export) and three Word files
(the decree 30/2020/NĐ-CP, the UIT report template, a document with pictures), uploaded once
through ``submissions.upload`` so each is checked and converted as in production; the build
then only merges what is already converted (the state "nothing changed").

Each round runs, interleaved, in fresh processes (cold: imports and app creation included):

* floor   ``python -c "import pikepdf; ..."`` merging the same seven converted PDFs and saving;
* build   ``flask booklet build`` (final booklet, front matter, numbers, bookmarks, preflight);
* a4      ``flask booklet build --print a4`` (the build plus the A4 print edition);
* a5      ``flask booklet build --print a5-booklet`` (the build plus the folded A5 booklet);
* changed ``flask booklet build`` right after a new revision of paper 6 (uploaded untimed with
          ``flask submissions add``): the number placement of that paper is worked out again.

It prints min/median/max of each, of build/floor, and of each edition's own cost (its
process minus the build's, in the same round) over the build, and the peak RSS of each child
(``os.wait4``), wall-clock and CPU (the machine is shared: CPU time is the steadier
figure). An edition's own cost is its process's CPU minus the build's in the same round.
The last line is the checked figures with their targets, and ``met`` or ``NOT met`` (the
exit status is 0 only when met).

    .venv/bin/python bench/booklet.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PAPERS = [
    "vietnamese/uit__thesis.pdf",
    "vietnamese/vbp__30_2020_ND_CP.docx",
    "valid/plumber__issue-67-example.pdf",
    "vietnamese/uit__slide.pdf",
    "vietnamese/uit__Template_Do_An_Mon_Hoc_VN.docx",
    "valid/sf__google-doc-document.pdf",
    "valid/pydocx__having-images.docx",
]
FLOOR = ("import pikepdf, sys\n"
         "out = pikepdf.new()\n"
         "for name in sys.argv[2:]:\n"
         "    out.pages.extend(pikepdf.open(name).pages)\n"
         "out.save(sys.argv[1])\n")


def setup(folder: Path) -> None:
    """A portal instance in ``folder`` with the seven papers uploaded."""
    os.environ.update({"DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
                       "UPLOAD_DIR": str(folder / "uploads"), "PORTAL_ENV": "development"})
    logging.disable(logging.INFO)  # the upload mails
    from portal import create_app
    from portal.extensions import db
    from portal.services import accounts, papers, seminars, submissions

    app = create_app()
    with app.app_context():
        db.create_all()
        seminars.load_plan()
        office, _ = accounts.create_user(accounts.NewUser(
            email="office@example.org", name="Văn Phòng", password="bench-password-42",
            unit="Văn phòng Sở", office=True))
        seminar = seminars.current_seminar()
        for position, relative in enumerate(PAPERS, start=1):
            path = CORPUS / relative
            assignment = papers.get_assignment(seminar, position)
            submissions.upload(assignment, office, io.BytesIO(path.read_bytes()), path.name)


def converted() -> list[str]:
    from portal import create_app
    from portal.services import papers, seminars
    from portal.storage import get_storage

    app = create_app()
    with app.app_context():
        storage = get_storage()
        return [str(storage.path(a.current_submission.normalised_path))
                for a in papers.assignments_with_revisions(seminars.current_seminar())]


def setup_child(folder: Path) -> None:
    """Run in its own process, so the measuring parent stays small: a child's peak RSS
    starts from its parent's size at fork time."""
    import pikepdf

    setup(folder)
    papers = converted()
    pages = sum(len(pikepdf.open(p).pages) for p in papers)
    print(json.dumps({"papers": papers, "pages": pages}))


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} failed:\n{output.decode(errors='replace')}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def spread(values: list[float]) -> str:
    return (f"min {min(values):.3f}  median {statistics.median(values):.3f}  "
            f"max {max(values):.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup_child(args.setup)
        return 0
    python = sys.executable
    flask = [python, "-m", "flask", "booklet", "build"]
    with tempfile.TemporaryDirectory(prefix="bench-booklet-") as tmp:
        folder = Path(tmp)
        made = subprocess.run([python, __file__, "--setup", str(folder)], check=True,
                              capture_output=True, text=True, cwd=ROOT)
        inputs = json.loads(made.stdout.strip().splitlines()[-1])
        papers, pages = inputs["papers"], inputs["pages"]
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
               "UPLOAD_DIR": str(folder / "uploads"), "PORTAL_ENV": "development",
               "FLASK_APP": "wsgi"}
        # As installed: the project's bytecode is written by the first build and read by the
        # later ones (see startup.py).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        run(flask, env)  # the first build renders and caches; later builds are "nothing changed"
        print(f"inputs: {len(papers)} converted papers, {pages} pages")
        times: dict[str, list[float]] = {"floor": [], "build": [], "a4": [], "a5": [],
                                         "changed": []}
        cpu: dict[str, list[float]] = {name: [] for name in times}
        peaks: dict[str, float] = dict.fromkeys(times, 0.0)
        commands = {
            "floor": [python, "-c", FLOOR, str(folder / "floor.pdf"), *papers],
            "build": flask,
            "a4": [*flask, "--print", "a4"],
            "a5": [*flask, "--print", "a5-booklet"],
            "changed": flask,
        }
        paper6 = (CORPUS / PAPERS[5]).read_bytes()
        for round_ in range(args.rounds):
            for name, command in commands.items():
                if name == "changed":  # a new revision: the same paper with a new trailer
                    revision = folder / f"paper6-r{round_}.pdf"
                    revision.write_bytes(paper6 + f"\n% revision {round_}\n".encode())
                    run([python, "-m", "flask", "submissions", "add", "6", str(revision)], env)
                seconds, used, peak = run(command, env)
                times[name].append(seconds)
                cpu[name].append(used)
                peaks[name] = max(peaks[name], peak)
    ratio = [b / f for b, f in zip(times["build"], times["floor"], strict=True)]
    cpu_ratio = [b / f for b, f in zip(cpu["build"], cpu["floor"], strict=True)]
    changed = [c / f for c, f in zip(times["changed"], times["floor"], strict=True)]
    own = {name: [max(e - b, 0.0) / b for e, b in zip(cpu[name], cpu["build"], strict=True)]
           for name in ("a4", "a5")}
    for name in times:
        print(f"{name:6s} wall s: {spread(times[name])}   peak RSS {peaks[name]:.0f} MB")
        print(f"{name:6s} CPU s:  {spread(cpu[name])}")
    print(f"build / floor, wall: {spread(ratio)}")
    print(f"build / floor, CPU:  {spread(cpu_ratio)}")
    print(f"changed / floor, wall: {spread(changed)}")
    for name in own:
        print(f"{name} edition's own CPU / build's CPU: {spread(own[name])} "
              f"(edition process / build process, CPU: "
              f"{statistics.median(cpu[name]) / statistics.median(cpu['build']):.2f})")
    peak = max(peaks["build"], peaks["a4"], peaks["a5"], peaks["changed"])
    met = (statistics.median(ratio) <= 3 and statistics.median(changed) <= 5
           and statistics.median(own["a4"]) <= 2 and statistics.median(own["a5"]) <= 2
           and peak < 200)
    print(f"checked: build/floor median {statistics.median(ratio):.2f} wall, "
          f"{statistics.median(cpu_ratio):.2f} CPU (target <= 3); changed/floor "
          f"{statistics.median(changed):.2f} wall (target <= 5); "
          f"a4 {statistics.median(own['a4']):.2f}, a5 {statistics.median(own['a5']):.2f} "
          f"of a build (target <= 2); peak {peak:.0f} MB (target < 200): "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
