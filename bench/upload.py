"""Uploads: a presenter sends a 1-page PDF, against opening the paper's page, through gunicorn.

It prepares a fresh installation in a temporary folder (SQLite; the seminar of the plan with
its timeline moved to today, so that the deadline is ahead) and starts gunicorn (2 workers,
the project's ``gunicorn.conf.py``) on a free loopback port. One presenter logs in with a
``requests`` session. In each round, one after the other on the same connection pool:

- ``GET /papers/1``: the floor, a page that reads the paper and its revisions;
- ``POST /papers/1`` with a real 1-page PDF exported by Word (``valid/pdfminer__issue-449-
  horizontal.pdf`` from ../shared/corpus), different bytes every round (a PDF comment
  after ``%%EOF`` gives each a new sha256), answered with the redirect of a stored revision:
  the file is received, checked in the warm checker's forked child, normalised, stored.

Before the rounds, a few uploads warm every worker (each starts its checker on first use).
It prints each round, then min/median/max of both and of the per-round ratio.

    .venv/bin/python bench/upload.py [--rounds 15]

The last line is the figure it checks: the upload ≤ 3× the page (median of the per-round
ratios). Run by hand, never by the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402  (dev requirement)

from tests.liveserver import LiveServer, ServerError, csrf_token  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
PAPER = CORPUS / "valid" / "pdfminer__issue-449-horizontal.pdf"
PASSWORD = "tai-thu-upload-2021"
EMAIL = "trinh.bay@example.org"
TARGET = 3.0
WORKERS = 2


def prepare(server: LiveServer) -> None:
    server.flask("db", "upgrade")
    server.flask("seminar", "load-plan", "--demo")
    from portal import create_app
    from portal.extensions import db
    from portal.services import accounts, papers, seminars

    app = create_app("development", SQLALCHEMY_DATABASE_URI=server.database_url,
                     UPLOAD_DIR=str(server.upload_dir))
    with app.app_context():
        assignment = papers.get_assignment(seminars.current_seminar(), 1)
        accounts.create_user(accounts.NewUser(
            email=EMAIL, name="Trần Văn Trình Bày", password=PASSWORD,
            unit=assignment.unit.name, position="Chuyên viên"))
        db.session.remove()
        db.engine.dispose()


def summary(label: str, values: list[float], unit: str = " ms") -> str:
    return (f"  {label:<22} min {min(values):8.1f}{unit}  median "
            f"{statistics.median(values):8.1f}{unit}  max {max(values):8.1f}{unit}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    if not PAPER.is_file():
        raise SystemExit(f"the corpus is missing: {PAPER}")
    data = PAPER.read_bytes()

    folder = Path(tempfile.mkdtemp(prefix="portal-upload-"))
    server = LiveServer(folder, workers=WORKERS)
    pages: list[float] = []
    uploads: list[float] = []
    try:
        prepare(server)
        server.start()
        http = requests.Session()
        token = csrf_token(http.get(server.url + "/login", timeout=30).text)
        answer = http.post(server.url + "/login", timeout=30, allow_redirects=False,
                           data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
        if answer.status_code != 302:
            raise ServerError(f"could not log in ({answer.status_code})")

        def page() -> tuple[float, str]:
            began = time.perf_counter()
            answer = http.get(server.url + "/papers/1", timeout=60)
            elapsed = (time.perf_counter() - began) * 1000
            if answer.status_code != 200:
                raise ServerError(f"GET /papers/1: {answer.status_code}")
            return elapsed, csrf_token(answer.text)

        def upload(number: int, token: str) -> float:
            body = data + f"\n% upload benchmark, round {number}\n".encode()
            began = time.perf_counter()
            answer = http.post(server.url + "/papers/1", timeout=120, allow_redirects=False,
                               data={"csrf_token": token},
                               files={"file": ("Tham luận số 1.pdf", body, "application/pdf")})
            elapsed = (time.perf_counter() - began) * 1000
            if answer.status_code != 302:
                raise ServerError(f"upload {number}: {answer.status_code}\n{answer.text[:800]}")
            return elapsed

        for number in range(3 * WORKERS):  # warm every worker and its checker
            upload(-1 - number, page()[1])
        for number in range(1, args.rounds + 1):
            elapsed, token = page()
            pages.append(elapsed)
            uploads.append(upload(number, token))
            print(f"round {number:2d}: GET /papers/1 {pages[-1]:7.1f} ms; upload "
                  f"{uploads[-1]:7.1f} ms ({uploads[-1] / pages[-1]:.2f}×)", flush=True)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    ratios = [u / p for u, p in zip(uploads, pages, strict=True)]
    print(f"\n{args.rounds} paired rounds, gunicorn with {WORKERS} workers, SQLite, "
          f"{PAPER.name} ({len(data) // 1024} KB, 1 page):")
    print(summary("GET /papers/1", pages))
    print(summary("1-page PDF upload", uploads))
    print(summary("ratio upload / page", ratios, "×"))
    ratio = statistics.median(ratios)
    print(f"1-page PDF upload {statistics.median(uploads):.0f} ms = {ratio:.2f}× GET /papers/1 "
          f"(median of per-round ratios; target ≤ {TARGET:g}×): "
          f"{'met' if ratio <= TARGET else 'NOT met'}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
