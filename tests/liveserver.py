"""The portal as it runs in production, for tests and benchmarks that need a real server:
its own database, the ``flask`` command line and gunicorn worker processes on a free loopback
port. Free of pytest, so that ``bench/`` can use it too."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GUNICORN = BIN / "gunicorn"
FLASK = BIN / "flask"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class ServerError(RuntimeError):
    """The server did not start, or a command failed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset_postgres(url: str) -> None:
    """Empty the database at ``url`` (its public schema)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise ServerError("no CSRF token on the page")
    return match.group(1)


def parent_of(pid: int) -> int | None:
    """The parent of process ``pid`` according to /proc, or None when it has gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return int(stat.rsplit(")", 1)[1].split()[1])


def children_of(pid: int) -> list[int]:
    """The live child processes of ``pid`` (zombies excluded), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


class LiveServer:
    """``flask`` commands and a gunicorn server on one database and one upload folder."""

    def __init__(self, folder: Path, database_url: str | None = None, workers: int = 4,
                 env: dict[str, str] | None = None, timeout: int = 120):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.database_url = database_url or f"sqlite:///{folder / 'portal.sqlite3'}"
        if self.database_url.startswith("postgresql"):
            reset_postgres(self.database_url)
        self.workers = workers
        self.timeout = timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upload_dir = folder / "uploads"
        self.log_path = folder / "gunicorn.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "live-" + secrets.token_hex(16),
            "UPLOAD_DIR": str(self.upload_dir),
            "PORTAL_ENV": "development",
            "FLASK_APP": "wsgi.py",
            "RATELIMIT_ENABLED": "false",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.env.pop("FLASK_DEBUG", None)
        self.process: subprocess.Popen | None = None

    # -- the command line ------------------------------------------------------------------
    def run_flask(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([str(FLASK), *args], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def flask(self, *args: str, timeout: float = 180) -> str:
        result = self.run_flask(*args, timeout=timeout)
        if result.returncode != 0:
            raise ServerError(f"flask {' '.join(args)} (exit {result.returncode}):\n"
                              f"{result.stdout}{result.stderr}")
        return result.stdout

    # -- the server ------------------------------------------------------------------------
    def start(self, wait: float = 40, extra_args: tuple[str, ...] = ()) -> None:
        import requests

        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(GUNICORN), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
             "--timeout", str(self.timeout), "--backlog", "256", *extra_args, "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServerError(f"gunicorn did not answer in time:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        if self.process is None:
            return []
        return children_of(self.process.pid)

    def wait_for_workers(self, count: int | None = None, exclude: tuple[int, ...] = (),
                         wait: float = 30) -> list[int]:
        """Wait until ``count`` workers (default: all) run, none of them in ``exclude``."""
        count = count or self.workers
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            pids = [pid for pid in self.worker_pids() if pid not in exclude]
            if len(pids) >= count:
                return pids
            time.sleep(0.1)
        raise ServerError(f"gunicorn did not start {count} workers:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
