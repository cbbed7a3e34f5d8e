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

Then the same from the web: a second installation behind gunicorn (4 workers, the project's
``gunicorn.conf.py``), the Office logged in with a ``requests`` session. Each round runs, in
this order, the floor (as above), a web build after nothing changed, and a web build after
paper 6 got a new revision (uploaded untimed with ``flask submissions add``). A web build is
timed from the POST of the booklet page's "Build the final booklet" form (confirmed, with
the page's CSRF token; the redirect to the booklet page followed, as a browser does) until
``/office/booklet/progress``, which the page polls, says the build is no longer running;
the benchmark reads it every 20 ms (the page itself after 300 ms, then every 500 ms). A
first few builds warm the workers (each loads the PDF modules on its first build) and are
printed, not counted. After the rounds, the peak memory (VmHWM) of the largest worker.

The last line is the checked figures with their targets, and ``met`` or ``NOT met`` (the
exit status is 0 only when all are met).

    .venv/bin/python bench/booklet.py [--rounds 5] [--only command|web]
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
    parser.add_argument("--only", choices=["command", "web"],
                        help="run only the command's rounds or only the web's")
    parser.add_argument("--setup", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        setup_child(args.setup)
        return 0
    verdicts: list[tuple[str, bool]] = []
    if args.only != "web":
        verdicts.append(command_rounds(args.rounds))
    if args.only != "command":
        verdicts.append(web_rounds(args.rounds))
    met = all(ok for _line, ok in verdicts)
    print("checked: " + "; ".join(line for line, _ok in verdicts) + ": "
          + ("met" if met else "NOT met"))
    return 0 if met else 1


def prepared(folder: Path) -> tuple[list[str], int]:
    """A prepared installation in ``folder`` (in a child process): the converted papers and
    their pages."""
    made = subprocess.run([sys.executable, __file__, "--setup", str(folder)], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    inputs = json.loads(made.stdout.strip().splitlines()[-1])
    return inputs["papers"], inputs["pages"]


def command_rounds(rounds: int) -> tuple[str, bool]:
    """The command's rounds: the checked figures, and whether they meet their targets."""
    python = sys.executable
    flask = [python, "-m", "flask", "booklet", "build"]
    with tempfile.TemporaryDirectory(prefix="bench-booklet-") as tmp:
        folder = Path(tmp)
        papers, pages = prepared(folder)
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
        for round_ in range(rounds):
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
    line = (f"build/floor median {statistics.median(ratio):.2f} wall, "
            f"{statistics.median(cpu_ratio):.2f} CPU (target <= 3); changed/floor "
            f"{statistics.median(changed):.2f} wall (target <= 5); "
            f"a4 {statistics.median(own['a4']):.2f}, a5 {statistics.median(own['a5']):.2f} "
            f"of a build (target <= 2); peak {peak:.0f} MB (target < 200)")
    print(f"command: {line}: {'met' if met else 'NOT met'}")
    return line, met

def worker_peak_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of a running process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


WEB_WORKERS = 4  # gunicorn.conf.py's default
POLL_EVERY = 0.02  # seconds between two reads of the build's progress


def web_rounds(rounds: int) -> tuple[str, bool]:
    """The web's rounds: a build started from the Office's booklet page of a running server,
    from the POST to the build finished, paired with the floor in the same rounds."""
    import requests

    from tests.liveserver import LiveServer, ServerError, csrf_token

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-booklet-web-") as tmp:
        folder = Path(tmp)
        papers, pages = prepared(folder)
        server = LiveServer(folder, workers=WEB_WORKERS)
        server.env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed (see above)
        floor_env = {**server.env}
        floor = [python, "-c", FLOOR, str(folder / "floor.pdf"), *papers]
        paper6 = (CORPUS / PAPERS[5]).read_bytes()
        times: dict[str, list[float]] = {"floor": [], "web": [], "web changed": []}
        try:
            server.start()
            http = requests.Session()
            token = csrf_token(http.get(server.url + "/login", timeout=30).text)
            answer = http.post(server.url + "/login", timeout=30, allow_redirects=False,
                               data={"email": "office@example.org",
                                     "password": "bench-password-42", "csrf_token": token})
            if answer.status_code != 302:
                raise ServerError(f"could not log in ({answer.status_code})")

            def web_build() -> tuple[float, dict]:
                """The Office presses "Build the final booklet" and confirms; the browser
                follows the redirect to the booklet page, which reads the progress until
                the build has finished. Seconds from the POST to finished, and the end."""
                page = http.get(server.url + "/office/booklet", timeout=60)
                form = {"csrf_token": csrf_token(page.text), "kind": "final", "confirm": "1"}
                began = time.perf_counter()
                answer = http.post(server.url + "/office/booklet/build", data=form, timeout=60)
                if answer.status_code != 200 or "build-progress" not in answer.text:
                    raise ServerError(f"the build was not started ({answer.status_code})")
                deadline = began + 120
                while True:
                    state = http.get(server.url + "/office/booklet/progress",
                                     timeout=60).json()
                    if state["state"] != "running":
                        break
                    if time.perf_counter() > deadline:
                        raise ServerError(f"the build did not finish: {state}")
                    time.sleep(POLL_EVERY)
                seconds = time.perf_counter() - began
                if state["state"] != "done":
                    raise ServerError(f"the build failed: {state}\n{server.log()}")
                return seconds, state

            # Each worker loads the PDF modules on its first build: a few builds first, so
            # that the rounds see warm workers (their times are printed, not counted).
            state = {}
            for number in range(2 * WEB_WORKERS):
                seconds, state = web_build()
                print(f"web warm-up {number + 1}: {seconds:.3f} s "
                      f"(booklet {state['booklet_id']}, {state['pages']} pages)")
            published = state["booklet_id"]
            for round_ in range(rounds):
                seconds, _cpu, _peak = run(floor, floor_env)
                times["floor"].append(seconds)
                seconds, state = web_build()
                if state["booklet_id"] != published:
                    raise ServerError("nothing changed, yet a new booklet was published")
                times["web"].append(seconds)
                revision = folder / f"paper6-web-r{round_}.pdf"  # untimed: a new revision
                revision.write_bytes(paper6 + f"\n% web revision {round_}\n".encode())
                server.flask("submissions", "add", "6", str(revision))
                seconds, state = web_build()
                if state["booklet_id"] == published:
                    raise ServerError("a paper changed, yet the booklet stayed the same")
                published = state["booklet_id"]
                times["web changed"].append(seconds)
                print(f"web round {round_ + 1}: floor {times['floor'][-1]:.3f} s, web "
                      f"{times['web'][-1]:.3f} s ({times['web'][-1] / times['floor'][-1]:.2f}x), "
                      f"web after a paper changed {times['web changed'][-1]:.3f} s "
                      f"({times['web changed'][-1] / times['floor'][-1]:.2f}x)", flush=True)
            peak = max(worker_peak_mb(pid) for pid in server.worker_pids())
        finally:
            server.stop()
    print(f"web: gunicorn with {WEB_WORKERS} workers (gunicorn.conf.py), SQLite, "
          f"{len(papers)} converted papers, {pages} pages; progress read every "
          f"{POLL_EVERY * 1000:.0f} ms")
    same = [w / f for w, f in zip(times["web"], times["floor"], strict=True)]
    changed = [w / f for w, f in zip(times["web changed"], times["floor"], strict=True)]
    for name, values in times.items():
        print(f"{name:12s} wall s: {spread(values)}")
    print(f"web / floor, nothing changed:       {spread(same)}")
    print(f"web changed / floor, paper changed: {spread(changed)}")
    print(f"peak RSS of a worker (VmHWM, after every build): {peak:.0f} MB")
    met = statistics.median(same) <= 2 and statistics.median(changed) <= 2 and peak < 200
    line = (f"web/floor median {statistics.median(same):.2f} nothing changed, "
            f"{statistics.median(changed):.2f} a paper changed (target <= 2); worker peak "
            f"{peak:.0f} MB (target < 200)")
    print(f"web: {line}: {'met' if met else 'NOT met'}")
    return line, met


if __name__ == "__main__":
    sys.exit(main())
