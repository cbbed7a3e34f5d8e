"""Start-up: how long a person waits for a command, and for a restarted server, against the floor.

In each round, one after the other (interleaved, so that both see the same machine):

- ``python -c 'import flask'``, a whole process: the floor of any Flask command;
- for information, ``python -c 'import flask_sqlalchemy, flask_wtf, flask_babel,
  flask_login'``: the extensions the portal is built on, before any of its
  own code (they import SQLAlchemy, WTForms, Babel…);
- ``flask seminar show``, a whole process, on a prepared SQLite database (the plan loaded);
- gunicorn with 4 workers serving a minimal Flask app (one route), from the start of the
  process to the first 200: the floor of a server;
- gunicorn with 4 workers serving the portal (its ``gunicorn.conf.py``, as in production),
  from the start of the process to the first 200 on ``/healthz``.

The first 200 is waited for by a client that polls every 10 ms with a raw HTTP request.
It prints min/median/max of each and of the per-round ratios.

    .venv/bin/python bench/startup.py [--rounds 5]

The last line is the figures it checks: ``flask seminar show`` ≤ 3× ``import flask``
(median of the per-round ratios) and the portal's gunicorn first 200 ≤ 1.5 s (median).
Run by hand, never by the test suite.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SHOW_TARGET = 3.0
FIRST_200_TARGET = 1.5

MINIMAL_APP = '''
from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return "ok"
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr.decode()[-2000:]}")
    return elapsed


def answers_200(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(64).split(b"\r\n", 1)[0].endswith(b" 200 OK")
    except OSError:
        return False


def first_200(app: str, env: dict[str, str], cwd: Path, log: Path) -> float:
    """Seconds from starting gunicorn (4 workers) to the first 200 on /healthz."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "-w", "4", "-b", f"127.0.0.1:{port}", app]
    with log.open("ab") as output:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not answers_200(port):
            if process.poll() is not None:
                raise SystemExit(f"gunicorn ended early; see {log}")
            if time.perf_counter() - started > 60:
                raise SystemExit(f"no 200 within 60 s; see {log}")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def summary(label: str, values: list[float], unit: str = "s") -> str:
    return (f"  {label:<34} min {min(values):7.3f}{unit}  median "
            f"{statistics.median(values):7.3f}{unit}  max {max(values):7.3f}{unit}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="portal-startup-"))
    try:
        env = {**os.environ, "FLASK_APP": "wsgi.py", "PORTAL_ENV": "development",
               "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
               "UPLOAD_DIR": str(folder / "uploads"), "SECRET_KEY": "startup-bench-0123456789",
               "RATELIMIT_ENABLED": "false"}
        env.pop("FLASK_DEBUG", None)
        # As installed: the project's bytecode is written by the warm-up run below and read
        # by every later one (with PYTHONDONTWRITEBYTECODE set, each command would compile
        # the project's modules again, ~0.1 s here, which no deployment pays).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        flask = str(BIN / "flask")
        for step in (["db", "upgrade"], ["seminar", "load-plan"]):
            subprocess.run([flask, *step], env=env, cwd=ROOT, check=True,
                           capture_output=True)
        minimal = folder / "minimal"
        minimal.mkdir()
        (minimal / "minimal_app.py").write_text(MINIMAL_APP)
        log = folder / "gunicorn.log"

        floor_import = [sys.executable, "-c", "import flask"]
        stack_import = [sys.executable, "-c", "import flask_sqlalchemy, flask_wtf, "
                        "flask_babel, flask_login"]
        show = [flask, "seminar", "show"]
        # Warm the file cache and the bytecode once, outside the rounds.
        timed(floor_import, env, ROOT)
        timed(show, env, ROOT)

        imports, stacks, shows, minimal_200, portal_200 = [], [], [], [], []
        for number in range(1, args.rounds + 1):
            imports.append(timed(floor_import, env, ROOT))
            stacks.append(timed(stack_import, env, ROOT))
            shows.append(timed(show, env, ROOT))
            minimal_200.append(first_200("minimal_app:app", env, minimal, log))
            portal_200.append(first_200("wsgi:app", env, ROOT, log))
            print(f"round {number}: import flask {imports[-1]:.3f} s, extensions "
                  f"{stacks[-1]:.3f} s, seminar show "
                  f"{shows[-1]:.3f} s ({shows[-1] / imports[-1]:.2f}×); gunicorn first 200: "
                  f"minimal app {minimal_200[-1]:.3f} s, portal {portal_200[-1]:.3f} s "
                  f"({portal_200[-1] / minimal_200[-1]:.2f}×)", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    show_ratios = [s / i for s, i in zip(shows, imports, strict=True)]
    server_ratios = [p / m for p, m in zip(portal_200, minimal_200, strict=True)]
    print(f"\n{args.rounds} paired rounds on {os.cpu_count()} cores:")
    print(summary("python -c 'import flask' (floor)", imports))
    print(summary("import the extensions (info)", stacks))
    print(summary("ratio extensions / import flask", [s / i for s, i in zip(
        stacks, imports, strict=True)], "×"))
    print(summary("flask seminar show", shows))
    print(summary("ratio show / import flask", show_ratios, "×"))
    print(summary("gunicorn minimal app, first 200", minimal_200))
    print(summary("gunicorn portal, first 200", portal_200))
    print(summary("ratio portal / minimal app", server_ratios, "×"))
    show_ratio = statistics.median(show_ratios)
    server = statistics.median(portal_200)
    ok = show_ratio <= SHOW_TARGET and server <= FIRST_200_TARGET
    print(f"seminar show {show_ratio:.2f}× import flask (target ≤ {SHOW_TARGET:g}×); "
          f"gunicorn 4 workers first 200 {server:.2f} s (target ≤ {FIRST_200_TARGET:g} s)"
          f": {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
