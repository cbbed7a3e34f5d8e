"""Word papers (.docx, .doc, .odt) to PDF with LibreOffice in headless mode.

Runs inside the bounded checking child (``worker``), once per accepted upload:

* every conversion gets its own LibreOffice profile folder, copied from a prepared one (two
  conversions at once never share a profile, and the copy saves LibreOffice's first-start work);
  the profile sets macro security to "very high", never runs macros, never updates links and
  blocks linked content (``registrymodifications.xcu`` below);
* the text is normalised to Unicode NFC in a copy of the document before LibreOffice reads it,
  and relationships to outside files (linked pictures, templates, OLE links) are removed from
  that copy, so nothing named inside a document is ever fetched;
* soffice runs in its own process group, without network where the kernel allows it (a new
  network namespace through ``unshare``), with a wall-clock limit, a CPU-time limit and an
  address-space limit; on time-out the whole group is killed. Its output is never shown to
  anyone: a failure becomes an ``OfficeFailed`` with a code the caller turns into a message.

A legacy Word 97-2003 file (.doc) is first saved as .docx by LibreOffice (so that its text can be
normalised like any other), then converted from that copy.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .docx import TOLERABLE_PARTS

# A real 180-page report takes ~10 s of CPU here; give a busy server room, never refuse a file
# LibreOffice can open for being slow.
WALL_SECONDS: Final = 300
CPU_SECONDS: Final = 240
MEMORY_MB: Final = 1536

# The profile settings: macros never run, links never updated, linked content blocked.
REGISTRY: Final = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" \
xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting">\
<prop oor:name="CheckDocumentEvents" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Writer/Content/Update">\
<prop oor:name="Link" oor:op="fuse"><value>2</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Load">\
<prop oor:name="UserDefinedSettings" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Save/Document">\
<prop oor:name="LoadPrinter" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc">\
<prop oor:name="UseLocking" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/\
Arguments"><prop oor:name="AutoCheckEnabled" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

# Parts of a package whose text is normalised (Word and OpenDocument).
_TEXT_PARTS: Final = re.compile(
    r"^(word/(document|footnotes|endnotes|comments|header\d*|footer\d*|glossary/document)"
    r"\.xml|content\.xml|styles\.xml)$"
)
_RELATIONSHIP: Final = re.compile(rb"<Relationship\b[^>]*?/>|<Relationship\b.*?</Relationship>",
                                  re.DOTALL)
_KEPT_EXTERNAL: Final = re.compile(rb'Type="[^"]*/hyperlink"')
_MAX_PART: Final = 64 * 1024 * 1024


class OfficeFailed(Exception):
    """LibreOffice could not convert the file. ``code`` is "damaged", "timeout" or "memory"."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass
class OfficeResult:
    notes: list[str]
    seconds: float


def soffice() -> str:
    return shutil.which("soffice") or shutil.which("libreoffice") or "/usr/bin/soffice"


def convert_to_pdf(
    src: Path, kind: str, dst: Path, *, timeout: float = WALL_SECONDS
) -> OfficeResult:
    """Convert ``src`` (``"docx"``, ``"doc"`` or ``"odt"``) to the PDF ``dst``."""
    started = time.monotonic()
    deadline = started + timeout
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="portal-office-") as folder:
        work = Path(folder)
        profile = _profile(work)
        source = work / f"paper.{kind}"
        shutil.copyfile(src, source)
        if kind == "doc":
            source = _run(source, "docx:MS Word 2007 XML", work / "docx", profile, deadline)
            kind = "docx"
        prepared = work / f"prepared.{kind}"
        if prepare_copy(source, prepared, notes):
            source = prepared
        pdf = _run(source, "pdf:writer_pdf_Export", work / "pdf", profile, deadline)
        shutil.copyfile(pdf, dst)
    return OfficeResult(notes=notes, seconds=time.monotonic() - started)


# -- the document copy ------------------------------------------------------------------------


def prepare_copy(src: Path, dst: Path, notes: list[str]) -> bool:
    """Write ``dst``: ``src`` with its text in NFC and no relationship to an outside file.

    Returns False (and writes nothing) when the document needs neither change.
    """
    changed = False
    try:
        with zipfile.ZipFile(src) as archive, zipfile.ZipFile(
            dst, "w", zipfile.ZIP_DEFLATED
        ) as out:
            for info in archive.infolist():
                try:
                    data = archive.read(info) if info.file_size <= _MAX_PART else None
                except (zipfile.BadZipFile, zlib.error, EOFError) as error:
                    # A damaged part the checks tolerate (themes, settings…): left out.
                    if not TOLERABLE_PARTS.match(info.filename):
                        raise OfficeFailed("damaged", f"{info.filename}: {error}") from None
                    changed = True  # a damaged part nobody needs (the checks said so): left out
                    continue
                if data is None:
                    with archive.open(info) as part, out.open(_copy_info(info), "w") as target:
                        shutil.copyfileobj(part, target)
                    continue
                new = data
                if _TEXT_PARTS.match(info.filename):
                    new = nfc_xml(data)
                if info.filename == "word/document.xml":
                    new = a4_when_unsized(new)
                elif info.filename.endswith(".rels"):
                    new = _internal_relationships(data)
                if new != data:
                    changed = True
                out.writestr(_copy_info(info), new)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        dst.unlink(missing_ok=True)
        raise OfficeFailed("damaged", f"cannot copy the package: {error}") from None
    if not changed:
        dst.unlink(missing_ok=True)
    return changed


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    # ODF wants its "mimetype" member first and stored.
    copy.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
    return copy


def nfc_xml(data: bytes) -> bytes:
    """XML text in Unicode NFC (markup is ASCII and unchanged); other encodings kept as they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    if unicodedata.is_normalized("NFC", text):
        return data
    return unicodedata.normalize("NFC", text).encode("utf-8")


_A4: Final = b'<w:pgSz w:w="11906" w:h="16838"/>'


def a4_when_unsized(document: bytes) -> bytes:
    """A4 for a Word body that names no page size at all (Word always writes one; LibreOffice
    would take US Letter, the OOXML default). A size the author chose is never changed."""
    if b"<w:pgSz" in document or b"</w:body>" not in document:
        return document
    last = document.rfind(b"<w:sectPr")
    if last >= 0 and document.find(b"</w:body>", last) >= 0 \
            and document.find(b"</w:p>", last) < 0:
        end = document.find(b">", last)
        if document[end - 1:end] == b"/":  # <w:sectPr/>
            return document[:end - 1] + b">" + _A4 + b"</w:sectPr>" + document[end + 1:]
        return document[:end + 1] + _A4 + document[end + 1:]
    body_end = document.rfind(b"</w:body>")
    return document[:body_end] + b"<w:sectPr>" + _A4 + b"</w:sectPr>" + document[body_end:]


def _internal_relationships(data: bytes) -> bytes:
    """Drop relationships to outside targets except hyperlinks (kept, filtered in the PDF)."""

    def keep(match: re.Match[bytes]) -> bytes:
        relation = match.group(0)
        if b'TargetMode="External"' not in relation or _KEPT_EXTERNAL.search(relation):
            return relation
        return b""

    return _RELATIONSHIP.sub(keep, data)


# -- the profile ------------------------------------------------------------------------------


def _profile(work: Path) -> Path:
    """A profile folder of this conversion's own: the prepared one copied, else a new one."""
    profile = work / "profile"
    prepared = _prepared_profile_dir()
    if prepared is not None and (prepared / "user").is_dir():
        with contextlib.suppress(OSError, shutil.Error):
            shutil.copytree(prepared, profile, symlinks=True)
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(REGISTRY, encoding="utf-8")
    return profile


def _prepared_profile_dir() -> Path | None:
    """Where a prepared profile is kept: a folder only this user may write to."""
    base = Path(tempfile.gettempdir()) / f"portal-office-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        status = base.stat()
    except OSError:
        return None
    if status.st_uid != os.getuid() or status.st_mode & 0o077:
        return None
    return base / "profile"


def _keep_as_prepared(profile: Path) -> None:
    """After a first successful conversion, keep its profile for the next ones (atomically)."""
    prepared = _prepared_profile_dir()
    if prepared is None or prepared.exists():
        return
    staging = prepared.with_name(f"profile.{os.getpid()}.tmp")
    try:
        shutil.copytree(profile, staging, symlinks=True,
                        ignore=shutil.ignore_patterns("registrymodifications.xcu", "*.lock",
                                                      ".lock", "temp", "backup"))
        os.rename(staging, prepared)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


# -- running soffice --------------------------------------------------------------------------


_UNSHARE: list[str] | None = None
_MEMORY_SIGNS: Final = ("bad_alloc", "Cannot allocate memory", "out of memory",
                         "failed to map segment")


def _network_off() -> list[str]:
    """``unshare -rn`` when this kernel lets us make a network namespace, else nothing."""
    global _UNSHARE
    if _UNSHARE is None:
        tool = shutil.which("unshare")
        _UNSHARE = []
        if tool:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                probe = subprocess.run([tool, "-rn", "true"], capture_output=True, timeout=10)
                if probe.returncode == 0:
                    _UNSHARE = [tool, "-rn"]
    return _UNSHARE


def _limits() -> None:  # runs in the child between fork and exec: resource calls only
    size = MEMORY_MB * 1024 * 1024
    for kind, value in ((resource.RLIMIT_AS, size), (resource.RLIMIT_CPU, CPU_SECONDS)):
        soft, hard = resource.getrlimit(kind)
        limit = value
        for current in (soft, hard):
            if current != resource.RLIM_INFINITY:
                limit = min(limit, current)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(kind, (limit, hard))


def _environment(work: Path) -> dict[str, str]:
    temp = work / "tmp"
    temp.mkdir(exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "TMPDIR": str(temp),
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",
    }


def _run(source: Path, target: str, outdir: Path, profile: Path, deadline: float) -> Path:
    """One ``soffice --convert-to`` run; the converted file, or OfficeFailed."""
    outdir.mkdir()
    remaining = deadline - time.monotonic()
    if remaining <= 1:
        raise OfficeFailed("timeout", "no time left for LibreOffice")
    command = [
        *_network_off(), soffice(), f"-env:UserInstallation={profile.as_uri()}",
        "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
        "--nolockcheck", "--nofirststartwizard", "--convert-to", target,
        "--outdir", str(outdir), str(source),
    ]
    fresh_profile = not (profile / "user" / "extensions").exists()
    process = subprocess.Popen(
        command, cwd=source.parent, env=_environment(source.parent),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=_limits,  # noqa: PLW1509 - resource calls only
    )
    try:
        _stdout, stderr = process.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise OfficeFailed("timeout", f"LibreOffice took more than {remaining:.0f} s") from None
    finally:
        _kill(process)
    produced = sorted(outdir.iterdir())
    errors = stderr.decode("utf-8", "replace")[-300:].strip()
    # soffice.bin's signal comes back negative, or as 128 + N through its launcher.
    signals = {abs(process.returncode or 0), (process.returncode or 0) - 128}
    if not produced and signals & {signal.SIGXCPU, signal.SIGKILL}:
        raise OfficeFailed("timeout", f"LibreOffice stopped by its CPU limit ({errors})")
    if not produced and (any(sign in errors for sign in _MEMORY_SIGNS)
                         or signals & {signal.SIGSEGV, signal.SIGABRT}):
        raise OfficeFailed("memory", f"LibreOffice ran out of memory ({errors})")
    if not produced or produced[0].stat().st_size == 0:
        raise OfficeFailed(
            "damaged", f"LibreOffice could not open the file (exit {process.returncode}: {errors})")
    if fresh_profile:
        _keep_as_prepared(profile)
    return produced[0]


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill soffice's whole process group and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.communicate()
