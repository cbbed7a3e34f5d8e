"""Speed under load: pages and downloads under 20 clients, each paired with /healthz.

It prepares a fresh installation in a temporary folder: the seminar of the plan, 20 accounts
(all confirmed attendees; 14 of them presenters, two per unit), the seven papers uploaded
through the service layer (four Word files and three PDFs from ../shared/corpus, converted as
on upload) and a final booklet; then gunicorn with 4 workers (the project's
``gunicorn.conf.py``) on a free loopback port. It runs on SQLite, then on PostgreSQL when
a URL is given (``--pg-url``, default ``$TEST_DATABASE_URL``; that database is EMPTIED).

The load generator is ``hey`` (Go, Debian's package), not Python, with 20 concurrent clients
logged in (the session cookie of an attendee, a presenter or the Office, by page). For each
address, in each round: ``--window`` seconds of hey on the address, then the same on
``/healthz`` (which asks the database ``SELECT 1``): the pair shares the machine's state, and
the ratio of their p95 latencies is the figure. Addresses: ``/materials``, ``/papers``,
``/office``, each paper's ``/materials/<n>/download``, ``/materials/booklet.pdf`` and
``/materials/all.zip``. Every answer must be a 200. Around the ``all.zip`` windows it
reads every worker's resident memory (VmRSS, and the peak VmHWM) from /proc: a streamed
archive does not grow it by the archive's size.

    .venv/bin/python bench/load.py [--rounds 3] [--window 3] [--clients 20]
                                   [--pg-url postgresql+psycopg://…] [--sqlite-only]

It prints, per database and address, min/median/max of the p95s and of the ratio. The last
line is the figures it checks, per database: ``/materials`` ≤ 3× ``/healthz``, every
download ≤ 3×, ``all.zip`` streamed: after the rounds, paper 1 gets a revision of about 20 MB
and the all.zip window runs again; no worker's peak memory may grow by half the archive, nor by
half the difference from the small archive's growth (memory that follows the archive's size).
Run by hand, never by the test suite.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402  (dev requirement)

from tests.liveserver import LiveServer, ServerError, csrf_token  # noqa: E402

HEY = shutil.which("hey") or "/usr/bin/hey"
TARGET = 3.0

CORPUS = ROOT.parent / "shared" / "corpus"
PAPERS = [  # (position, file in the corpus): four Word files and three PDFs
    (1, "vietnamese/vbp__30_2020_ND_CP.docx"),
    (2, "vietnamese/uit__thesis.pdf"),
    (3, "vietnamese/vbp__Phuluc1.docx"),
    (4, "vietnamese/uit__slide.pdf"),
    (5, "vietnamese/vbp__Phuluc3.docx"),
    (6, "valid/pypdf__Seige_of_Vicksburg_Sample_OCR.pdf"),
    (7, "vietnamese/vbp__Phuluc4.docx"),
]
PASSWORD = "tai-thu-20-nguoi-2021"
USER_AGENT = "hey/0.0.1"  # what hey sends: the login is bound to it (session protection)
PRESENTERS_PER_UNIT = 2


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def prepare(server: LiveServer, clients: int) -> list[tuple[str, int | None]]:
    """Load the plan, the accounts, the papers and the booklet. Returns (email, position)."""
    server.flask("db", "upgrade")
    import logging

    logging.getLogger("portal.mail").setLevel(logging.WARNING)  # receipts: not for the report
    from portal import clock, create_app
    from portal.extensions import db
    from portal.services import accounts, attendance, papers, seminars, submissions
    from portal.services.booklet import build as booklet_service

    app = create_app("development", SQLALCHEMY_DATABASE_URI=server.database_url,
                     UPLOAD_DIR=str(server.upload_dir))
    people: list[tuple[str, int | None]] = []
    with app.app_context():
        seminar = seminars.load_plan().seminar
        attendance.set_capacity(seminar, max(clients, 20))
        office, _ = accounts.create_user(accounts.NewUser(
            email="van.phong@example.org", name="Văn Phòng Sở", password=PASSWORD,
            unit="Văn phòng Sở", office=True))
        assignments = papers.assignments_with_revisions(seminar)
        for index in range(clients):
            if index < PRESENTERS_PER_UNIT * len(assignments):
                assignment = assignments[index % len(assignments)]
                unit, position = assignment.unit.name, assignment.position
            else:
                unit, position = None, None
            user, _ = accounts.create_user(accounts.NewUser(
                email=f"nguoi{index:02d}@example.org", name=f"Người Tham Dự {index:02d}",
                password=PASSWORD, unit=unit, position="Chuyên viên"))
            attendance.register(seminar, user, by_office=True)
            people.append((user.email, position))
        with clock.frozen(seminar.deadline - timedelta(days=1)):
            for position, name in PAPERS:
                assignment = papers.get_assignment(seminar, position)
                presenter = next((accounts.find_by_email(email) for email, p in people
                                  if p == position), office)
                data, filename = _paper(position, name)
                submissions.upload(assignment, presenter, io.BytesIO(data), filename)
        started = time.monotonic()
        booklet = booklet_service.build(seminar, office, draft=False)
        print(f"prepared: {len(people)} people, 7 papers, final booklet of {booklet.pages} "
              f"pages in {time.monotonic() - started:.1f} s")
        db.session.remove()
        db.engine.dispose()
    return people


def _paper(position: int, name: str) -> tuple[bytes, str]:
    path = CORPUS / name
    if path.is_file():
        return path.read_bytes(), path.name
    from tests.docmaker import docx_bytes, pdf_bytes

    if name.endswith(".docx"):
        text = "Cải cách hành chính là nhiệm vụ trọng tâm của Sở Khoa học và Công nghệ. " * 8
        return docx_bytes([text] * 60, heading=f"Tham luận số {position}"), \
            f"Tham luận {position}.docx"
    return pdf_bytes(12, marker=f"THAM-LUAN-{position}"), f"Tham luận {position}.pdf"


def login(base: str, email: str) -> str:
    """Log in as ``email`` with hey's User-Agent; the session cookie for hey's -H."""
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    token = csrf_token(http.get(base + "/login", timeout=60).text)
    answer = http.post(base + "/login", timeout=60, allow_redirects=False,
                       data={"email": email, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise ServerError(f"{email} could not log in ({answer.status_code})")
    if http.get(base + "/materials", timeout=60, allow_redirects=False).status_code != 200:
        raise ServerError(f"{email}: the session does not hold")
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


@dataclass
class Window:
    latencies: list[float]  # ms
    errors: int
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95)


def hey(url: str, cookie: str | None, clients: int, seconds: float) -> Window:
    command = [HEY, "-z", f"{seconds:g}s", "-c", str(clients), "-o", "csv",
               "-disable-compression", "-t", "60"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 120)
    if result.returncode != 0:
        raise ServerError(f"hey failed: {result.stderr[-500:]}")
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(result.stdout)):
        latencies.append(float(row["response-time"]) * 1000)
        statuses[row["status-code"]] = statuses.get(row["status-code"], 0) + 1
    errors = sum(count for status, count in statuses.items() if status != "200")
    return Window(latencies, errors, statuses)


def worker_memory(server: LiveServer) -> dict[int, tuple[int, int]]:
    """Each worker's (VmRSS, VmHWM) in KB."""
    found = {}
    for pid in server.worker_pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        values = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines()
                  if line.startswith(("VmRSS", "VmHWM"))}
        found[pid] = (values.get("VmRSS", 0), values.get("VmHWM", 0))
    return found


def _large_pdf(megabytes: int = 20) -> bytes:
    """A one-page PDF of about ``megabytes`` MB (a picture of random, incompressible pixels)."""
    import zlib

    import pikepdf

    side = int((megabytes * 1e6 / 3) ** 0.5)
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    picture = pikepdf.Stream(pdf, zlib.compress(os.urandom(side * side * 3), 1))
    picture.Type, picture.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    picture.Width = picture.Height = side
    picture.ColorSpace, picture.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
    picture.Filter = pikepdf.Name.FlateDecode
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture))
    page.Contents = pikepdf.Stream(pdf, b"q 500 0 0 700 50 70 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def summary(label: str, values: list[float], unit: str) -> str:
    return (f"min {min(values):7.1f}{unit} median {statistics.median(values):7.1f}{unit} "
            f"max {max(values):7.1f}{unit}")


def run_database(name: str, database_url: str | None, args) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="portal-load-"))
    from config import normalise_database_url

    server = LiveServer(folder, normalise_database_url(database_url), workers=4)
    try:
        people = prepare(server, args.clients)
        server.start()
        server.wait_for_workers(4)
        attendee = next(email for email, position in people if position is None)
        presenter = next(email for email, position in people if position is not None)
        cookies = {"attendee": login(server.url, attendee),
                   "presenter": login(server.url, presenter),
                   "office": login(server.url, "van.phong@example.org")}
        targets = [("/materials", "attendee"), ("/papers", "presenter"), ("/office", "office")]
        targets += [(f"/materials/{n}/download", "attendee") for n in range(1, 8)]
        targets += [("/materials/booklet.pdf", "attendee"), ("/materials/all.zip", "attendee")]
        zip_size = len(requests.get(server.url + "/materials/all.zip", timeout=120,
                                    headers={"Cookie": cookies["attendee"],
                                             "User-Agent": USER_AGENT}).content)
        for path, role in targets:  # warm every worker on every address
            hey(server.url + path, cookies[role], args.clients, 0.5)
        hey(server.url + "/healthz", None, args.clients, 0.5)

        pages: dict[str, list[Window]] = {path: [] for path, _ in targets}
        health: dict[str, list[Window]] = {path: [] for path, _ in targets}
        memory_before = worker_memory(server)
        memory_after = memory_before
        for number in range(1, args.rounds + 1):
            for path, role in targets:
                if path.endswith("all.zip") and number == 1:
                    memory_before = worker_memory(server)
                pages[path].append(hey(server.url + path, cookies[role], args.clients,
                                       args.window))
                if path.endswith("all.zip"):
                    memory_after = worker_memory(server)
                health[path].append(hey(server.url + "/healthz", None, args.clients,
                                        args.window))
                page, probe = pages[path][-1], health[path][-1]
                print(f"[{name}] round {number} {path:<26} p95 {page.p95:7.1f} ms "
                      f"({len(page.latencies)} req, {page.errors} errors); /healthz p95 "
                      f"{probe.p95:6.1f} ms ({len(probe.latencies)} req); "
                      f"ratio {page.p95 / probe.p95:5.2f}", flush=True)
        # Does a worker's memory follow the archive's size? Paper 1 gets a revision of about
        # 20 MB (made here, untimed), and the same window of all.zip runs again, from the
        # request that writes the new archive on: a worker that held the archive, or a large
        # part of it, would grow by megabytes more than with the small one.
        big = folder / "large-paper.pdf"
        big.write_bytes(_large_pdf())
        server.flask("submissions", "add", "1", str(big))
        large_before = worker_memory(server)
        large_size = len(requests.get(server.url + "/materials/all.zip", timeout=120,
                                      headers={"Cookie": cookies["attendee"],
                                               "User-Agent": USER_AGENT}).content)
        large = hey(server.url + "/materials/all.zip", cookies["attendee"], args.clients,
                    args.window)
        large_after = worker_memory(server)
        if large.errors:
            raise SystemExit(f"[{name}] the large all.zip answered {large.errors} errors")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\n[{name}] {args.rounds} rounds of {args.window:g} s per address, {args.clients} "
          f"clients (hey), gunicorn 4 workers:")
    ratios: dict[str, float] = {}
    errors = 0
    for path, _ in targets:
        page_p95 = [w.p95 for w in pages[path]]
        health_p95 = [w.p95 for w in health[path]]
        path_ratios = [p / h for p, h in zip(page_p95, health_p95, strict=True)]
        ratios[path] = statistics.median(path_ratios)
        errors += sum(w.errors for w in pages[path]) + sum(w.errors for w in health[path])
        print(f"  {path:<26} p95 {summary('', page_p95, ' ms')}")
        print(f"  {'  paired /healthz':<26} p95 {summary('', health_p95, ' ms')}")
        print(f"  {'  ratio':<26}     {summary('', path_ratios, '×')}")
    growth = max((memory_after.get(pid, (0, 0))[1] - before[1]
                  for pid, before in memory_before.items()), default=0)
    rss = {pid: (before[0] // 1024, memory_after.get(pid, (0, 0))[0] // 1024)
           for pid, before in memory_before.items()}
    print(f"  all.zip: archive {zip_size / 1e6:.1f} MB; worker RSS before→after (MB) {rss}; "
          f"largest growth of a worker's peak {growth / 1024:.1f} MB")
    large_growth = max((large_after.get(pid, (0, 0))[1] - before[1]
                        for pid, before in large_before.items()), default=0)
    # Streamed: from an archive of zip_size to one of large_size, no worker's peak grows by
    # half the difference (one request holding the archive would grow it by all of it).
    streamed = (large_growth - growth) * 1024 < (large_size - zip_size) / 2 \
        and large_growth * 1024 < large_size / 2
    print(f"  all.zip of {large_size / 1e6:.1f} MB (paper 1 replaced by a large one): "
          f"largest growth of a worker's peak {large_growth / 1024:.1f} MB "
          f"({'does not follow' if streamed else 'FOLLOWS'} the archive's size)")
    if errors:
        print(f"  errors (answers other than 200): {errors}")
    downloads = {path: ratio for path, ratio in ratios.items() if path != "/materials"
                 and not path.startswith(("/papers", "/office"))}
    worst = max(downloads, key=downloads.get)
    return {"materials": ratios["/materials"], "worst_download": (worst, downloads[worst]),
            "papers": ratios["/papers"], "office": ratios["/office"],
            "streamed": streamed, "growth_mb": large_growth / 1024,
            "large_mb": large_size / 1e6,
            "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=3.0, help="seconds of hey per window")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL"),
                        help="PostgreSQL URL (the database is emptied); default "
                             "$TEST_DATABASE_URL")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    if not Path(HEY).exists():
        raise SystemExit("hey is not installed (Debian: apt-get install hey)")

    databases = [("SQLite", None)]
    if args.pg_url and not args.sqlite_only:
        databases.append(("PostgreSQL", args.pg_url))
    results = {name: run_database(name, url, args) for name, url in databases}

    ok = True
    parts = []
    for name, result in results.items():
        worst, worst_ratio = result["worst_download"]
        met = (result["materials"] <= TARGET and worst_ratio <= TARGET and result["streamed"]
               and not result["errors"])
        ok = ok and met
        parts.append(f"{name}: /materials {result['materials']:.2f}×, worst download "
                     f"{worst} {worst_ratio:.2f}×, all.zip of {result['large_mb']:.0f} MB peak "
                     f"+{result['growth_mb']:.1f} MB"
                     f" ({'streamed' if result['streamed'] else 'NOT streamed'}), "
                     f"{result['errors']} errors")
    print("; ".join(parts) + f" (p95 / paired /healthz p95, median of rounds; target ≤ "
          f"{TARGET:g}× each, no error): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
