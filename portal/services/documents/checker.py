"""The web process's side of the checking child: ``run_checked`` sends a file to a warm
checker (``worker --serve``), bounds it in wall-clock time, and reads its one line of JSON
back into a ``CheckResult`` (or a ``DocumentRefused``)."""

from __future__ import annotations

import json
import logging
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Final

from ...settings import PROJECT_ROOT
from .results import CheckResult, DocumentRefused, is_no_space
from .sniff import sniff

log = logging.getLogger(__name__)

MEMORY_SIGNS: Final = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")


# What the checking child inherits: never the portal's secrets (SECRET_KEY, DATABASE_URL,
# MAIL_PASSWORD…), since it parses files from outside.
_WORKER_ENV = {"PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH", "FONTCONFIG_PATH",
               "FONTCONFIG_FILE", "XDG_CACHE_HOME", "VIRTUAL_ENV"}


# Wall-clock budgets of the checking child: a PDF is checked (and its fonts embedded) within a
# minute; a Word file LibreOffice can open is given the time a long report needs (see office).
PDF_SECONDS: Final = 60.0
WORD_SECONDS: Final = 330.0


def time_budget(src: Path | str, convert: bool = True) -> float:
    """The wall-clock limit for checking (and converting) ``src``, judged by its content."""
    try:
        kind = sniff(src)
    except OSError:
        return PDF_SECONDS
    return WORD_SECONDS if convert and kind in ("docx", "doc", "odt") else PDF_SECONDS


def run_checked(
    src: Path | str,
    convert_to: Path | str | None = None,
    timeout: float | None = None,
    memory_mb: int = 1536,
) -> CheckResult:
    """Check (and convert) a file in a child process bounded in time and memory.

    Returns what the worker found (with the normalised PDF's pages when it converted the
    file) or raises DocumentRefused. The child, and any
    process it starts, is killed on timeout; none is left running, and no partial output file
    survives. Without ``timeout``, the limit is ``time_budget(src)``.

    The child is forked from a warm checker (``worker --serve``, one per web process,
    started on first use with a clean environment), which has the checks imported already;
    the limits (address space, CPU time) are applied in the child after the fork, and the
    wall-clock limit is kept here by killing the child's process group.
    """
    if timeout is None:
        timeout = time_budget(src, convert_to is not None)
    try:
        return _run_in_checker(src, convert_to, timeout, memory_mb)
    finally:
        if convert_to is not None:
            _remove_partial(Path(convert_to))


def _run_in_checker(src: Path | str, convert_to: Path | str | None, timeout: float,
                    memory_mb: int) -> CheckResult:
    request = {
        "src": str(Path(src).resolve()),
        "convert_to": str(Path(convert_to).resolve()) if convert_to is not None else None,
        "memory_mb": int(memory_mb),
        "cpu_seconds": math.ceil(timeout) + 1,
    }
    deadline = time.monotonic() + timeout
    checker = _Checker.take()
    try:
        try:
            checker.send(request)
            started = checker.receive(deadline)
        except (OSError, EOFError, ValueError):
            # A checker that has gone (killed, or its pipe broken): one fresh start.
            checker.close()
            checker = _Checker()
            checker.send(request)
            started = checker.receive(deadline)
        if started is None:
            raise DocumentRefused("timeout", f"no answer within {timeout:g} s")
        child = int(started["pid"])
        try:
            done = checker.receive(deadline)
        except (OSError, EOFError, ValueError) as error:
            _kill_child_group(child)
            raise DocumentRefused("damaged", f"the checker ended: {error}") from None
        if done is None:
            _kill_child_group(child)
            raise DocumentRefused("timeout", f"no answer within {timeout:g} s")
    except BaseException:
        checker.close()  # a request left half-way: this checker is not used again
        raise
    checker.give_back()
    return _read_answer(int(done["returncode"]), str(done.get("stdout", "")).encode(),
                        str(done.get("stderr", "")).encode())


def _kill_child_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _checker_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key in _WORKER_ENV or key.startswith(("PORTAL_DOCWORKER_", "LC_"))}
    env["PORTAL_DOCWORKER_PARENT"] = str(os.getpid())  # it ends if we are killed
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if part)
    return env


def _remove_partial(target: Path) -> None:
    """The converter writes ``.<name>.*.part`` beside its target and renames it (pikepdf
    adds its own ``.pikepdf.<that name>…``); a child killed (timeout, memory) or failing (full
    disk) leaves them: no .part survives its check. The target's name is unique (mkstemp)."""
    try:
        for partial in target.parent.iterdir():
            if f".{target.name}." in partial.name and partial.name != target.name:
                partial.unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove the partial files of %s", target)


class _Checker:
    """One warm checker process (``worker --serve``) and its pipes; used by one thread at
    a time (a web process with threads starts one per concurrent upload)."""

    _idle: list[_Checker] = []
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.owner = os.getpid()
        self.buffer = b""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "portal.services.documents.worker", "--serve"],
            cwd=PROJECT_ROOT, env=_checker_env(), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    @classmethod
    def take(cls) -> _Checker:
        with cls._lock:
            while cls._idle:
                checker = cls._idle.pop()
                if checker.owner == os.getpid() and checker.process.poll() is None:
                    return checker
                checker.close()
        return cls()

    def give_back(self) -> None:
        with self._lock:
            self._idle.append(self)

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """The checker's next line as a dict; None when the deadline passes first."""
        assert self.process.stdout is not None
        stream = self.process.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([stream], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(stream, 1 << 16)
            if not chunk:
                raise EOFError("the checker closed its output")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        """Kill the checker (and its group) and reap it."""
        if self.owner != os.getpid():
            return  # inherited across a fork: the process that started it ends it
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.returncode is None:
            self.process.kill()
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        self.process.wait()


def forget_checker() -> None:
    """After a fork (a new web worker): the parent's idle checkers are not ours to use."""
    with _Checker._lock:
        _Checker._idle = []


def _read_answer(returncode: int, stdout: bytes, stderr: bytes) -> CheckResult:
    answer: dict[str, Any] | None = None
    for line in reversed(stdout.decode("utf-8", "replace").splitlines()):
        if line.strip().startswith("{"):
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            break
    errors = stderr.decode("utf-8", "replace")[-500:]
    if answer is None and is_no_space(errors):
        raise DocumentRefused("storage_full", errors.strip())
    if answer is not None and not answer.get("ok") and is_no_space(answer.get("detail")):
        raise DocumentRefused("storage_full", str(answer.get("detail")))
    if answer is None:
        if returncode == -signal.SIGXCPU:
            raise DocumentRefused("timeout", "CPU time limit reached")
        if returncode == -signal.SIGKILL or any(sign in errors for sign in MEMORY_SIGNS):
            raise DocumentRefused("memory", f"worker ended ({returncode}): {errors.strip()}")
        raise DocumentRefused("damaged", f"worker ended ({returncode}) without an answer: "
                                         f"{errors.strip()}")
    if not answer.get("ok"):
        raise DocumentRefused(str(answer.get("code") or "damaged"), str(answer.get("detail")))
    return CheckResult.from_json(answer["result"])
