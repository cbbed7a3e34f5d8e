"""Speed under load: 20 logged-in people on the portal's pages, against a trivial endpoint.

It prepares a fresh installation in a temporary folder (SQLite by default; ``--database-url``
for PostgreSQL — that database is EMPTIED first): the seminar of the plan, 20 accounts (all
confirmed attendees; 14 of them presenters, two per unit, the others members of no unit),
the seven papers uploaded through the service layer (four Word files and three PDFs from
../shared/corpus, or generated ones when it is absent) and a final booklet. Then it starts
gunicorn with 4 workers on a free loopback port, logs 20 clients in (a requests.Session each,
the CSRF token from the login form), and for ``--seconds`` (20) the clients, one thread each,
load in a loop ``/materials``, ``/papers/<n>`` (a presenter's own paper; members load
``/register`` instead) and ``/``. Then the same clients load ``/healthz`` (which asks the
database ``SELECT 1``) for as long. Latencies and errors are recorded per address.

    .venv/bin/python bench/load.py [--seconds 20] [--clients 20] [--workers 4]
                                   [--database-url postgresql://…] [--keep DIR]

Its last line reads
``materials p95 <ms> ms; health p95 <ms> ms; <req/s> req/s; ratio <materials/health>``
(req/s of the page phase). The target is a ratio of at most 3 with no error. Run by hand,
never by the test suite.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402  (dev requirement)

from tests.liveserver import LiveServer, ServerError, csrf_token  # noqa: E402

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
    from portal import clock, create_app
    from portal.extensions import db
    from portal.services import accounts, attendance, seminars, submissions
    from portal.services import booklet as booklet_service

    app = create_app("development", SQLALCHEMY_DATABASE_URI=server.database_url,
                     UPLOAD_DIR=str(server.upload_dir))
    people: list[tuple[str, int | None]] = []
    with app.app_context():
        seminar = seminars.load_plan().seminar
        seminars.set_capacity(seminar, max(clients, 20))
        office, _ = accounts.create_user(accounts.NewUser(
            email="van.phong@example.org", name="Văn Phòng Sở", password=PASSWORD,
            unit="Văn phòng Sở", office=True))
        assignments = submissions.assignments_with_revisions(seminar)
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
                assignment = submissions.get_assignment(seminar, position)
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
    from tests.makedocs import docx_bytes, pdf_bytes

    if name.endswith(".docx"):
        text = "Cải cách hành chính là nhiệm vụ trọng tâm của Sở Khoa học và Công nghệ. " * 8
        return docx_bytes([text] * 60, heading=f"Tham luận số {position}"), \
            f"Tham luận {position}.docx"
    return pdf_bytes(12, marker=f"THAM-LUAN-{position}"), f"Tham luận {position}.pdf"


class Client:
    def __init__(self, base: str, email: str, position: int | None):
        self.base = base
        self.email = email
        self.position = position
        self.http = requests.Session()

    def login(self) -> None:
        token = csrf_token(self.http.get(self.base + "/login", timeout=60).text)
        answer = self.http.post(self.base + "/login", timeout=60, allow_redirects=False,
                                data={"email": self.email, "password": PASSWORD,
                                      "csrf_token": token})
        if answer.status_code != 302:
            raise ServerError(f"{self.email} could not log in ({answer.status_code})")


def run_phase(clients: list[Client], paths_for, seconds: float):
    """Each client loops over its paths for ``seconds``. Returns (latencies by label,
    errors by label, requests, elapsed)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)
    stop_at = [0.0]

    def loop(client: Client) -> None:
        mine: list[tuple[str, float, str | None]] = []
        start.wait()
        while time.monotonic() < stop_at[0]:
            for label, path in paths_for(client):
                began = time.perf_counter()
                problem = None
                try:
                    answer = client.http.get(client.base + path, timeout=60,
                                             allow_redirects=False)
                    answer.content  # noqa: B018 - read the whole body
                    if answer.status_code != 200:
                        problem = f"{path}: HTTP {answer.status_code}"
                except requests.RequestException as error:
                    problem = f"{path}: {type(error).__name__}"
                mine.append((label, (time.perf_counter() - began) * 1000, problem))
        with lock:
            for label, ms, problem in mine:
                latencies[label].append(ms)
                if problem:
                    errors[label].append(problem)

    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    stop_at[0] = time.monotonic() + seconds
    began = time.monotonic()
    start.wait()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = time.monotonic() - began
    total = sum(len(values) for values in latencies.values())
    return latencies, errors, total, elapsed


def report(title: str, latencies, errors, total: int, elapsed: float) -> None:
    print(f"\n{title}: {total} requests in {elapsed:.1f} s = {total / elapsed:.1f} req/s")
    print(f"  {'address':<14}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'errors':>8}")
    for label in sorted(latencies):
        values = latencies[label]
        print(f"  {label:<14}{len(values):>7}{statistics.median(values):>8.1f}m"
              f"{percentile(values, 0.95):>8.1f}m{percentile(values, 0.99):>8.1f}m"
              f"{max(values):>8.1f}m{len(errors.get(label, [])):>8}")
    for problems in errors.values():
        for problem in sorted(set(problems))[:5]:
            print(f"  error: {problem} ({problems.count(problem)}×)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (the database is emptied); default: SQLite")
    parser.add_argument("--keep", type=Path, default=None,
                        help="prepare the installation in DIR and keep it")
    args = parser.parse_args(argv)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="portal-load-"))
    if args.keep and folder.exists():
        shutil.rmtree(folder)
    from config import normalise_database_url

    server = LiveServer(folder, normalise_database_url(args.database_url),
                        workers=args.workers)
    try:
        people = prepare(server, args.clients)
        server.start()
        print(f"gunicorn: {args.workers} workers at {server.url} "
              f"({'PostgreSQL' if args.database_url else 'SQLite'})")
        clients = [Client(server.url, email, position) for email, position in people]
        for client in clients:
            client.login()
        materials = "/materials"
        probe = clients[0].http.get(server.url + materials, timeout=60, allow_redirects=False)
        if probe.status_code == 404:
            materials = "/register"
            print("/materials does not exist yet: measuring /register instead")

        def pages(client: Client):
            own = (f"/papers/{client.position}" if client.position else "/register")
            return [("materials", materials), ("paper" if client.position else "register",
                                                own), ("home", "/")]

        for client in clients:  # warm every worker (imports, template compilation)
            for _, path in pages(client):
                client.http.get(server.url + path, timeout=60)
        page_lat, page_err, page_total, page_time = run_phase(clients, pages, args.seconds)
        report("pages", page_lat, page_err, page_total, page_time)
        health_lat, health_err, health_total, health_time = run_phase(
            clients, lambda client: [("health", "/healthz")], args.seconds)
        report("health", health_lat, health_err, health_total, health_time)
    finally:
        server.stop()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)

    errors = sum(len(v) for v in page_err.values()) + sum(len(v) for v in health_err.values())
    materials_p95 = percentile(page_lat["materials"], 0.95)
    health_p95 = percentile(health_lat["health"], 0.95)
    ratio = materials_p95 / health_p95
    print(f"\nerrors: {errors}; target: ratio at most 3 with no error")
    print(f"materials p95 {materials_p95:.1f} ms; health p95 {health_p95:.1f} ms; "
          f"{page_total / page_time:.1f} req/s; ratio {ratio:.2f}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
