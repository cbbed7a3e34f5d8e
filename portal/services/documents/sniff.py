"""The kind of an uploaded file, judged by its content (never by its name or a browser's word)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Final

import filetype

from .docx import CHUNK, MAX_MEMBERS, declared_entries, main_part_name, read_small
from .results import DocumentRefused

# Readers accept junk before the PDF header within the first 1024 bytes.
PDF_HEADER_WINDOW: Final = 1024
OLE2_MAGIC: Final = bytes.fromhex("d0cf11e0a1b11ae1")
ZIP_MAGICS: Final = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
ODT_TYPE: Final = b"application/vnd.oasis.opendocument.text"

def sniff(path: Path | str) -> str:
    """The kind of file by content: "pdf", "docx", "doc", "odt", "empty" or "unknown"."""
    path = Path(path)
    if path.stat().st_size == 0:
        return "empty"
    with path.open("rb") as handle:
        head = handle.read(PDF_HEADER_WINDOW)
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(path)
    if head.startswith(OLE2_MAGIC):
        # A Word 97-2003 file, or a password-protected Office file (refused as such).
        return "doc" if ole_kind(path) in ("word", "encrypted") else "unknown"
    if b"%PDF-" in head:
        return "pdf"
    return "unknown"


def describe(path: Path | str) -> str:
    """A short description of an unsupported file for the logs (its MIME type if known)."""
    try:
        kind = filetype.guess(str(path))
    except OSError:
        kind = None
    return kind.mime if kind is not None else "unrecognised content"


def _sniff_zip(path: Path) -> str:
    declared = declared_entries(path)
    if declared is not None and declared > MAX_MEMBERS:
        return _sniff_zip_by_names(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and read_small(archive, "mimetype", 200).strip() == ODT_TYPE:
                return "odt"
            try:
                main = main_part_name(archive)
            except DocumentRefused:
                # An unreadable [Content_Types].xml in a package that has a Word body: damaged.
                return "docx" if "word/document.xml" in names else "unknown"
            return "docx" if main is not None else "unknown"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return _sniff_zip_by_names(path)


def _sniff_zip_by_names(path: Path) -> str:
    """For an archive that is not opened: "docx" when its first names are a Word package's.

    Such a file is then refused as damaged (or too complex) rather than as another format.
    """
    with path.open("rb") as handle:
        window = handle.read(CHUNK)
    if b"xl/workbook" in window or b"ppt/presentation" in window:
        return "unknown"
    if b"mimetype" + ODT_TYPE in window[:200]:
        return "odt"
    return "docx" if b"word/" in window or b"[Content_Types].xml" in window else "unknown"


def ole_kind(path: Path) -> str:
    """Classify an OLE2 compound file by its stream names: word, encrypted, other or unknown."""
    names = {
        "word": "WordDocument".encode("utf-16-le"),
        "encrypted": "EncryptedPackage".encode("utf-16-le"),
        "workbook": "Workbook".encode("utf-16-le"),
        "powerpoint": "PowerPoint Document".encode("utf-16-le"),
    }
    found: set[str] = set()
    overlap = max(len(n) for n in names.values())
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            window = tail + chunk
            found.update(key for key, name in names.items() if name in window)
            tail = window[-overlap:]
    if "word" in found:
        return "word"
    if "encrypted" in found:
        return "encrypted"
    if "workbook" in found or "powerpoint" in found:
        return "other"
    return "unknown"

