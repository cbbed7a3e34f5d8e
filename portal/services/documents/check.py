"""Sniff a file and check it by its kind: the one entry point of the checks."""

from __future__ import annotations

from pathlib import Path

from .docx import inspect_doc, inspect_docx, inspect_odt
from .pdf import inspect_pdf
from .results import CheckResult, DocumentRefused
from .sniff import describe, ole_kind, sniff


def inspect(path: Path | str) -> CheckResult:
    """Sniff and check a file; its type, pages, page sizes and notes, or DocumentRefused."""
    path = Path(path)
    kind = sniff(path)
    if kind == "empty":
        raise DocumentRefused("empty", "the file has no bytes")
    if kind == "doc":
        if ole_kind(path) == "encrypted":
            raise DocumentRefused("encrypted", "a password-protected Office document")
        return inspect_doc(path)
    if kind == "pdf":
        return inspect_pdf(path)
    if kind == "docx":
        return inspect_docx(path)
    if kind == "odt":
        return inspect_odt(path)
    raise DocumentRefused("unsupported_type", describe(path))
