"""Against a real gunicorn server started with the project's gunicorn.conf.py: the limits on
wrong passwords count across 4 worker processes, a stranger cannot lock the Office out, and
two clients sending an upload at 1 byte per second do not stop the portal answering."""

from __future__ import annotations

import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import PG_URL, csrf_from
from .liveserver import GUNICORN, LiveServer

requests = pytest.importorskip("requests")

PASSWORD = "dung-mat-khau-2021"
OFFICE = "vanphong@example.org"
PER_ADDRESS = 20
PER_PAIR = 5

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="PostgreSQL tests need TEST_DATABASE_URL"),
    ),
]


def _start(tmp_path, backend: str, workers: int, env: dict[str, str]) -> LiveServer:
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in the virtual environment")
    server = LiveServer(tmp_path, PG_URL if backend == "postgresql" else None, workers=workers,
                        env=env)
    server.flask("db", "upgrade")
    server.flask("seminar", "load-plan")
    server.flask("users", "create", "--email", OFFICE, "--name", "Văn Phòng", "--office",
                 "--password", PASSWORD)
    # %(p)s: the worker's process id, to see that the requests reached several workers
    server.start(extra_args=("--access-logformat", "%(p)s %(m)s %(U)s %(s)s"))
    return server


@pytest.fixture(params=BACKENDS)
def limited_portal(request, tmp_path):
    server = _start(tmp_path, request.param, workers=4, env={
        "RATELIMIT_ENABLED": "true",
        # one window for the whole test, however slow the machine
        "RATELIMIT_PER_ADDRESS": f"{PER_ADDRESS} per hour",
        "RATELIMIT_PER_ACCOUNT_ADDRESS": f"{PER_PAIR} per hour",
        "TRUSTED_PROXIES": "1",  # X-Forwarded-For gives each "browser" its own address
    })
    try:
        yield server
    finally:
        server.stop()


def _attempts(server: LiveServer, address: str, emails: list[str], password: str,
              retry_after: list[str] | None = None) -> list[int]:
    """Log in once per email, all at the same moment, each on a new connection."""
    http = requests.Session()
    headers = {"X-Forwarded-For": address, "Connection": "close"}
    token = csrf_from(http.get(server.url + "/login", headers=headers, timeout=60).text)
    cookies = http.cookies.get_dict()

    def one(email: str) -> int:
        response = requests.post(server.url + "/login", headers=headers, cookies=cookies,
                                 data={"email": email, "password": password,
                                       "csrf_token": token},
                                 allow_redirects=False, timeout=120)
        if retry_after is not None and response.status_code == 429:
            retry_after.append(response.headers.get("Retry-After", ""))
        return response.status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        return list(pool.map(one, emails))


def _login_pids(server: LiveServer) -> set[str]:
    pattern = re.compile(r"^<?(\d+)>? POST /login ", re.M)
    return {match.group(1) for match in pattern.finditer(server.log())}


def test_limits_hold_across_workers(limited_portal):
    server = limited_portal
    # 45 wrong passwords for 45 accounts from one address, at once: exactly 20 are tried
    statuses = _attempts(server, "203.0.113.7", [f"ai{i}@example.org" for i in range(45)],
                         "sai-mat-khau")
    assert statuses.count(401) == PER_ADDRESS, statuses
    assert statuses.count(429) == 45 - PER_ADDRESS, statuses
    assert len(_login_pids(server)) >= 2, server.log()

    # a stranger hammers the Office's account: 5 wrong passwords are tried, then 429
    waits: list[str] = []
    statuses = _attempts(server, "198.51.100.9", [OFFICE] * 15, "doan-mo", waits)
    assert statuses.count(401) == PER_PAIR and statuses.count(429) == 15 - PER_PAIR, statuses
    # ... each refusal says when to come back (within the hour's window)
    assert all(1 <= int(wait) <= 3600 for wait in waits), waits
    # the right password from that address is refused too: the pair is at its limit
    assert _attempts(server, "198.51.100.9", [OFFICE], PASSWORD) == [429]

    # the Office, from its own address, still gets in with the right password
    assert _attempts(server, "192.0.2.10", [OFFICE], PASSWORD) == [302]


@pytest.fixture
def one_worker_portal(tmp_path):
    server = _start(tmp_path, "sqlite", workers=1, env={})
    try:
        yield server
    finally:
        server.stop()


def _slow_upload(server: LiveServer) -> socket.socket:
    """Open a form post that announces 1 MB and sends its first bytes (the caller keeps it
    dribbling at 1 byte per second): the portal must read the body to check the form's CSRF
    token, so a worker that serves one request at a time is stuck on it."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: multipart/form-data; boundary=x\r\n"
                 b"Content-Length: 1048576\r\n\r\n--x\r\n")
    return sock


def test_two_slow_uploads_do_not_stop_the_portal(one_worker_portal):
    server = one_worker_portal
    slow = [_slow_upload(server) for _ in range(2)]
    try:
        answered = []
        for _second in range(3):
            for sock in slow:
                sock.sendall(b"a")  # 1 byte per second on each connection
            started = time.monotonic()
            response = requests.get(server.url + "/healthz", timeout=10)
            answered.append((response.status_code, time.monotonic() - started))
            time.sleep(1)  # the behaviour under test: slow clients, one byte a second
        for status, took in answered:
            assert status == 200
            assert took < 1.0, answered  # a generous bound: it answers at once when free
    finally:
        for sock in slow:
            sock.close()
