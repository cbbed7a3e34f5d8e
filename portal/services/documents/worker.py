"""The child process that checks (and converts) one uploaded file within a budget.

    python -m portal.services.documents.worker SRC [--convert-to DST] [--memory-mb N]
        [--cpu-seconds N]

It limits its own address space and CPU time before importing anything heavy, then prints one
line of JSON: ``{"ok": true, "result": CheckResult.to_json()}`` or ``{"ok": false, "code",
"detail"}`` — the one place the result becomes JSON. The web process starts it through
``checker.run_checked``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal.services.documents.results import CheckResult

DEFAULT_MEMORY_MB = 1536
DEFAULT_CPU_SECONDS = 120
MEMORY_ENV = "PORTAL_DOCWORKER_MEMORY_MB"
CPU_ENV = "PORTAL_DOCWORKER_CPU_SECONDS"
PARENT_ENV = "PORTAL_DOCWORKER_PARENT"
PR_SET_PDEATHSIG = 1


class CpuTimeExceeded(Exception):
    """Raised from the SIGXCPU handler when the CPU time limit is reached."""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m portal.services.documents.worker")
    parser.add_argument("src", type=Path)
    parser.add_argument("--convert-to", type=Path, default=None)
    parser.add_argument("--memory-mb", type=int,
                        default=int(os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_MB))
    parser.add_argument("--cpu-seconds", type=int,
                        default=int(os.environ.get(CPU_ENV) or DEFAULT_CPU_SECONDS))
    return parser.parse_args(argv)


_prctl: Any = None  # libc's prctl, found once (the warm checker's children inherit it)


def die_with_parent() -> None:
    """End this process when the web worker that started it ends (Linux), so that a worker
    killed in the middle of an upload leaves no checker behind writing into its folder."""
    global _prctl
    expected = os.environ.get(PARENT_ENV)
    if sys.platform.startswith("linux"):
        try:
            if _prctl is None:
                import ctypes

                _prctl = ctypes.CDLL(None, use_errno=True).prctl
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os._exit(70)  # the parent ended before the signal was armed


def _lower_limit(kind: int, soft: int, hard: int) -> None:
    """Lower a resource limit, never above the hard limit the process already has."""
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def apply_limits(memory_mb: int, cpu_seconds: int) -> None:
    """Bound the address space and CPU time of this process."""
    if memory_mb > 0:
        size = memory_mb * 1024 * 1024
        _lower_limit(resource.RLIMIT_AS, size, size)
    if cpu_seconds > 0:
        # SIGXCPU at the soft limit lets the worker answer; SIGKILL follows at the hard one.
        signal.signal(signal.SIGXCPU, _on_cpu_limit)
        _lower_limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 2)


def _on_cpu_limit(signum: int, frame: object) -> None:
    raise CpuTimeExceeded("CPU time limit reached")


def work(src: Path, convert_to: Path | None) -> dict[str, Any]:
    """Check SRC and, if asked, convert it to a PDF at CONVERT_TO; the answer as JSON data."""
    try:
        from portal.services.documents.check import inspect
        from portal.services.documents.results import DocumentRefused

        try:
            result = inspect(src)
            if convert_to is not None:
                result = _convert(src, convert_to, result)
            return {"ok": True, "result": result.to_json()}
        except DocumentRefused as refused:
            return {"ok": False, "code": refused.code, "detail": refused.detail}
    except MemoryError:
        return {"ok": False, "code": "memory", "detail": "MemoryError"}
    except CpuTimeExceeded:
        return {"ok": False, "code": "timeout", "detail": "CPU time limit reached"}
    except Exception as error:  # every failure must become an answer
        return {"ok": False, "code": "damaged",
                "detail": f"{type(error).__name__}: {str(error)[:300]}"}


def _convert(src: Path, convert_to: Path, result: CheckResult) -> CheckResult:
    from portal.services.documents.convert import ConversionError, normalise
    from portal.services.documents.results import DocumentRefused

    try:
        converted = normalise(Path(src), result.file_type, Path(convert_to))
    except ConversionError as error:  # a paper that cannot be converted is refused with its code
        raise DocumentRefused(error.code, str(error)) from None
    return result.with_conversion(converted)


def main(argv: list[str] | None = None) -> int:
    if (argv if argv is not None else sys.argv[1:]) == ["--serve"]:
        return serve()
    args = _arguments(argv)
    die_with_parent()
    apply_limits(args.memory_mb, args.cpu_seconds)
    answer = work(args.src, args.convert_to)
    try:
        line = json.dumps(answer)
    except (TypeError, ValueError) as error:
        line = json.dumps({"ok": False, "code": "damaged",
                           "detail": f"unserialisable answer: {error}"})
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------------------------
# The warm checker: ``python -m portal.services.documents.worker --serve``
#
# Started once per web worker (lazily, by ``checker.run_checked``) with a clean environment,
# it imports the checks once and then, for every file, forks a child that applies the limits
# after the fork and does the work above. The cost of a check is then the check itself, not a
# fresh interpreter and its imports (~0.3 s).
#
# Protocol, one JSON object per line: the web worker writes ``{"src", "convert_to",
# "memory_mb", "cpu_seconds"}``; the checker answers ``{"pid": N}`` as soon as the child runs
# (the web worker kills the child's process group, whose id is N, when its time is up), then
# ``{"returncode", "stdout", "stderr"}`` when the child has ended.


def serve() -> int:
    die_with_parent()  # also finds prctl once, for every child
    import gc

    # The point: the checks and the converter imported once, here.
    from portal.services.documents import check, convert  # noqa: F401
    _warm_up()
    # What is imported stays out of the collector's sight: a child that collects garbage
    # would otherwise touch (and so copy) every page it shares with the checker.
    gc.collect()
    gc.freeze()

    requests = sys.stdin.buffer
    answers = sys.stdout
    while True:
        line = requests.readline()
        if not line:
            return 0  # the web worker closed the pipe: it has gone, or no longer needs us
        try:
            request = json.loads(line)
        except ValueError:
            continue
        answers.write(json.dumps(_check_in_child(request, answers)) + "\n")
        answers.flush()


def _warm_up() -> None:
    """Check and normalise a small PDF made here, once, so that what the first check of a
    process loads on first use (pikepdf's XMP support and the lxml it imports, compiled
    patterns) is loaded in the checker and shared by every child, instead of being loaded
    again in each of them (a fork starts from the checker's state, so every child would be
    a "first" check). A failure here only leaves the children cold."""
    import tempfile

    try:
        import pikepdf

        with tempfile.TemporaryDirectory(prefix="portal-warm-") as folder:
            src, dst = Path(folder) / "warm.pdf", Path(folder) / "warm-normalised.pdf"
            with pikepdf.new() as pdf:
                pdf.add_blank_page(page_size=(595, 842))
                with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                    meta["dc:title"] = "warm-up"
                pdf.save(src)
            work(src, dst)
    except Exception:  # noqa: BLE001 - never a reason for the checker not to serve
        pass


def _check_in_child(request: dict[str, Any], answers: Any) -> dict[str, Any]:
    import tempfile

    server = os.getpid()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                os.close(ready_r)
                os.setsid()  # its own process group: killed with whatever it starts
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                os.environ[PARENT_ENV] = str(server)
                die_with_parent()
                apply_limits(int(request.get("memory_mb") or DEFAULT_MEMORY_MB),
                             int(request.get("cpu_seconds") or DEFAULT_CPU_SECONDS))
                os.write(ready_w, b"1")  # its group and limits are in place
                os.close(ready_w)
                convert_to = request.get("convert_to")
                answer = work(Path(request["src"]), Path(convert_to) if convert_to else None)
                try:
                    line = json.dumps(answer)
                except (TypeError, ValueError) as error:
                    line = json.dumps({"ok": False, "code": "damaged",
                                       "detail": f"unserialisable answer: {error}"})
                os.write(1, (line + "\n").encode())
                code = 0
            except BaseException as error:  # noqa: BLE001  (the child reports, then ends)
                try:
                    os.write(2, f"{type(error).__name__}: {error}\n".encode())
                except BaseException:  # noqa: BLE001
                    pass
            finally:
                os._exit(code)
        os.close(ready_w)
        os.read(ready_r, 1)  # empty when the child ended before it was ready
        os.close(ready_r)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
        _, status = os.waitpid(pid, 0)
        returncode = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
                      else os.WEXITSTATUS(status))
        return {"returncode": returncode,
                "stdout": _tail(out, 1 << 20), "stderr": _tail(err, 4096)}


def _tail(handle: Any, limit: int) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - limit))
    return handle.read().decode("utf-8", "replace")


if __name__ == "__main__":
    sys.exit(main())
