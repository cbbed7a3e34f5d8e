"""Embed the fonts a PDF only names, with Ghostscript's pdfwrite.

A printer rejects (or silently substitutes) fonts that are not inside the PDF. Ghostscript
(Debian's ``ghostscript``, with the URW base-35 fonts it depends on) re-distils the file with
every font embedded and subset: the standard 14 (Times-Roman, Helvetica, Courier…) by their
metric-compatible URW faces, TrueType names such as TimesNewRomanPSMT through fontconfig. It is
the usual tool for this; qpdf and pikepdf copy objects but cannot make font programs.

Runs in the bounded checking child: ``-dSAFER`` (no file access beyond its input and output),
its own process group, killed with it on time-out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Final

log = logging.getLogger(__name__)

GS_SECONDS: Final = 45.0


def ghostscript() -> str | None:
    return shutil.which("gs")


def embed_fonts(src: Path, dst: Path, *, timeout: float = GS_SECONDS) -> bool:
    """Write ``src`` to ``dst`` with all fonts embedded; False when Ghostscript cannot."""
    tool = ghostscript()
    if tool is None:
        return False
    command = [
        tool, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOPROMPT", "-sDEVICE=pdfwrite",
        # /prepress: the default settings also leave fonts unembedded where a scan's pages
        # reuse them for their invisible OCR text; the image settings below still apply.
        "-dPDFSETTINGS=/prepress", "-dEmbedAllFonts=true", "-dSubsetFonts=true",
        "-dCompatibilityLevel=1.7",
        "-dAutoRotatePages=/None", "-dPassThroughJPEGImages=true",
        "-dDownsampleColorImages=false", "-dDownsampleGrayImages=false",
        "-dDownsampleMonoImages=false", "-sColorConversionStrategy=LeaveColorUnchanged",
        f"-sOutputFile={dst}",
        # The standard 14 fonts are on pdfwrite's never-embed list unless it is emptied.
        "-c", "<</NeverEmbed [ ]>> setdistillerparams", "-f", str(src),
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                     "HOME": str(dst.parent), "LANG": "C.UTF-8"},
    )
    try:
        _, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.info("Ghostscript took over %g s on %s", timeout, src.name)
        return False
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.returncode is None:
            process.kill()
            process.communicate()
    if process.returncode != 0:  # its words go to the log, never to a note
        log.info("Ghostscript could not embed the fonts of %s: %s", src.name,
                 errors.decode("utf-8", "replace").strip()[-500:])
    return process.returncode == 0 and dst.is_file() and dst.stat().st_size > 0
