"""Checks of Word (.docx), Word 97-2003 (.doc) and OpenDocument (.odt) files before any
conversion: one guarded opening of a ZIP package with one set of limits (members, unpacked size,
compression ratio), judged from the central directory before anything is inflated; macros,
passwords and broken parts refused."""

from __future__ import annotations

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as xml_fromstring
from defusedxml.ElementTree import iterparse as xml_iterparse

from .notes import Note
from .results import CheckResult, DocumentRefused

MACRO_CONTENT_TYPES: Final = frozenset({
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
})
# Storages a VBA project lives in, inside a Word 97-2003 file.
OLE_MACRO_STORAGES: Final = ("Macros", "_VBA_PROJECT_CUR", "VBA", "_VBA_PROJECT")

WORD_MAIN_CONTENT_TYPES: Final = frozenset({
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "application/vnd.ms-word.document.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    "application/vnd.ms-word.template.macroEnabledTemplate.main+xml",
})

# The one set of package limits (Word and OpenDocument alike), and the size below which the
# compression ratio is not judged.
MAX_UNPACKED_BYTES: Final = 200 * 1024 * 1024
MAX_RATIO: Final = 100
MAX_MEMBERS: Final = 5000
RATIO_FLOOR_BYTES: Final = 10 * 1024 * 1024
MAX_XML_PART_BYTES: Final = 16 * 1024 * 1024
CHUNK: Final = 1 << 20

# Parts of a Word package that no converter reads for the text; damage there is tolerable.
TOLERABLE_PARTS: Final = re.compile(
    r"^(docProps/|customXml/|word/theme/|word/glossary/|word/printerSettings/|word/fonts/"
    r"|word/(fontTable|webSettings|settings|stylesWithEffects|people|commentsExtended"
    r"|commentsIds|commentsExtensible)\.xml$|word/_rels/(fontTable|settings)\.xml\.rels$)"
)

def inspect_docx(
    path: Path | str,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    max_ratio: float = MAX_RATIO,
    max_members: int = MAX_MEMBERS,
) -> CheckResult:
    """Check a Word package: a sound ZIP within size limits, with a well-formed main part.

    The limits are judged from the central directory before anything is decompressed.
    """
    path = Path(path)
    notes: list[Note] = []
    with open_package(path, max_unpacked_bytes, max_ratio, max_members) as archive:
        main = main_part_name(archive)
        if main is None:
            raise DocumentRefused("unsupported_type", "a ZIP package without a Word document")
        if main not in archive.NameToInfo:
            raise DocumentRefused("damaged", f"the main part {main} is missing")
        notes.extend(_check_members(archive, main))
        words, pictures = _check_main_part(archive, main)
        notes.extend(_external_relationship_notes(archive))
        if _macro_main_type(archive) or any(
                name.lower().endswith("vbaproject.bin") for name in archive.namelist()):
            raise DocumentRefused("macros", "a Word package with a VBA project")
        if words == 0 and pictures == 0:
            notes.append(Note("no_text"))
    return CheckResult("docx", notes=notes)


def open_package(path: Path, max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
                 max_ratio: float = MAX_RATIO, max_members: int = MAX_MEMBERS) -> zipfile.ZipFile:
    """The ZIP of a Word or OpenDocument file, opened only when its central directory keeps
    within the limits (members, unpacked size, ratio); refused otherwise, nothing inflated."""
    declared = declared_entries(path)
    if declared is not None and declared > max_members:
        raise DocumentRefused("too_complex", f"{declared} members (limit {max_members})")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise DocumentRefused("damaged", f"not a readable ZIP archive: {error}") from None
    try:
        _check_zip_limits(archive, path, max_unpacked_bytes, max_ratio, max_members)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_zip_limits(
    archive: zipfile.ZipFile, path: Path, max_unpacked: int, max_ratio: float, max_members: int
) -> None:
    members = archive.infolist()
    if len(members) > max_members:
        raise DocumentRefused("too_complex", f"{len(members)} members (limit {max_members})")
    names = [member.filename for member in members]
    if len(set(names)) != len(names):
        raise DocumentRefused("damaged", "the ZIP archive holds two members with the same name")
    unpacked = sum(member.file_size for member in members)
    packed = max(sum(member.compress_size for member in members), 1)
    if unpacked > max_unpacked:
        raise DocumentRefused(
            "zip_bomb", f"unpacks to {unpacked} bytes (limit {max_unpacked})")
    ratio = unpacked / min(packed, path.stat().st_size or 1)
    if unpacked > RATIO_FLOOR_BYTES and ratio > max_ratio:
        raise DocumentRefused(
            "zip_bomb", f"compression ratio {ratio:.0f} (limit {max_ratio}), {unpacked} bytes")
    for member in members:
        if member.flag_bits & 0x1:
            raise DocumentRefused("encrypted", f"ZIP member {member.filename} is encrypted")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise DocumentRefused(
                "damaged", f"ZIP member {member.filename} uses compression {member.compress_type}")


def declared_entries(path: Path) -> int | None:
    """The number of members the end-of-central-directory record declares (ZIP64 aware).

    Read before the archive is opened, so that a huge directory is never loaded.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 65536 - 22))
        tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) < end + 22:
        return None
    count = struct.unpack_from("<H", tail, end + 10)[0]
    if count != 0xFFFF:
        return count
    locator = tail.rfind(b"PK\x06\x07", 0, end)
    record = tail.rfind(b"PK\x06\x06", 0, locator if locator >= 0 else end)
    if record < 0 or len(tail) < record + 40:
        return None
    return int(struct.unpack_from("<Q", tail, record + 32)[0])


def read_small(archive: zipfile.ZipFile, name: str, limit: int = MAX_XML_PART_BYTES) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise DocumentRefused("too_complex", f"{name} is {info.file_size} bytes")
    with archive.open(info) as handle:
        return handle.read(limit + 1)[:limit]


def _parse_small_xml(archive: zipfile.ZipFile, name: str) -> Any:
    try:
        return xml_fromstring(read_small(archive, name), forbid_dtd=True)
    except DocumentRefused:
        raise
    except DefusedXmlException as error:
        raise DocumentRefused("damaged", f"{name}: forbidden XML construct ({error!r})") \
            from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError) as error:
        raise DocumentRefused("damaged", f"{name}: {type(error).__name__}: {error}") from None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def main_part_name(archive: zipfile.ZipFile) -> str | None:
    """The member that holds the Word main document, as declared in [Content_Types].xml."""
    if "[Content_Types].xml" not in archive.NameToInfo:
        return None
    types = _parse_small_xml(archive, "[Content_Types].xml")
    for element in types.iter():
        if _local(element.tag) != "Override":
            continue
        if (element.get("ContentType") or "").strip() in WORD_MAIN_CONTENT_TYPES:
            return (element.get("PartName") or "").lstrip("/")
    return None


def _check_members(archive: zipfile.ZipFile, main: str) -> list[Note]:
    """Read every member once to verify its CRC; tolerate damage only in parts nobody reads."""
    notes: list[Note] = []
    for member in archive.infolist():
        if member.is_dir():
            continue
        try:
            with archive.open(member) as handle:
                while handle.read(CHUNK):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
            if member.filename != main and TOLERABLE_PARTS.match(member.filename):
                notes.append(Note("damaged_part", part=member.filename))
                continue
            raise DocumentRefused(
                "damaged", f"{member.filename}: {type(error).__name__}: {error}") from None
    return notes


def _check_main_part(archive: zipfile.ZipFile, main: str) -> tuple[int, int]:
    """Parse the main document as a stream; return the number of text runs and pictures."""
    words = pictures = 0
    root_seen = body_seen = False
    try:
        with archive.open(main) as handle:
            for event, element in xml_iterparse(
                handle, events=("start", "end"), forbid_dtd=True
            ):
                name = _local(element.tag)
                if event == "start":
                    if not root_seen:
                        root_seen = True
                        if name != "document":
                            raise DocumentRefused("damaged", f"{main}: root element is {name}")
                    body_seen = body_seen or name == "body"
                    continue
                if name == "t" and element.text:
                    words += 1
                elif name in ("drawing", "pict", "object"):
                    pictures += 1
                element.clear()
    except DocumentRefused:
        raise
    except DefusedXmlException as error:
        raise DocumentRefused("damaged", f"{main}: forbidden XML construct ({error!r})") \
            from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError) as error:
        raise DocumentRefused("damaged", f"{main}: {type(error).__name__}: {error}") from None
    if not body_seen:
        raise DocumentRefused("damaged", f"{main}: no document body")
    return words, pictures


def _relationship_parts(archive: zipfile.ZipFile) -> Iterator[str]:
    for name in archive.namelist():
        if name.endswith(".rels") and not TOLERABLE_PARTS.match(name):
            yield name


def _external_relationship_notes(archive: zipfile.ZipFile) -> list[Note]:
    """Notes about linked (external) content: it is never fetched, so it is left out."""
    notes: list[Note] = []
    for name in _relationship_parts(archive):
        relations = _parse_small_xml(archive, name)
        for relation in relations.iter():
            if _local(relation.tag) != "Relationship":
                continue
            if (relation.get("TargetMode") or "").lower() != "external":
                continue
            kind = (relation.get("Type") or "").rstrip("/").rsplit("/", 1)[-1]
            if kind in ("hyperlink", "attachedTemplate"):
                continue
            target = posixpath.basename((relation.get("Target") or "").rstrip("/"))[:80]
            if kind == "image":
                note = Note("linked_picture", name=target)
            else:
                note = Note("linked_content", kind=kind, target=target)
            if note not in notes:
                notes.append(note)
    return notes


def _macro_main_type(archive: zipfile.ZipFile) -> bool:
    if "[Content_Types].xml" not in archive.NameToInfo:
        return False
    types = _parse_small_xml(archive, "[Content_Types].xml")
    return any((element.get("ContentType") or "").strip() in MACRO_CONTENT_TYPES
               for element in types.iter())


# --------------------------------------------------------------------------------------------
# Word 97-2003 (.doc) and OpenDocument text (.odt): LibreOffice reads them; checked here for
# what the portal refuses before any conversion (macros, passwords, broken packages).


def inspect_doc(path: Path | str) -> CheckResult:
    """Check a Word 97-2003 compound file: refused when it carries a VBA project."""
    path = Path(path)
    if _ole_has_storage(path, OLE_MACRO_STORAGES):
        raise DocumentRefused("macros", "a Word 97-2003 file with a VBA project")
    return CheckResult("doc")


def _ole_has_storage(path: Path, names: tuple[str, ...]) -> bool:
    """Whether a directory entry of the compound file has one of ``names``.

    Directory entries are 128-byte records (sectors start at 512): the UTF-16 name padded to 64
    bytes, then its length in bytes including the terminator. Text that merely contains the word
    is not such a record.
    """
    wanted = {name.encode("utf-16-le") + b"\x00\x00": len(name) * 2 + 2 for name in names}
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            for entry in range(0, len(chunk) - 127, 128):
                record = chunk[entry:entry + 128]
                length = struct.unpack_from("<H", record, 64)[0]
                for encoded, size in wanted.items():
                    if length == size and record.startswith(encoded):
                        return True
    return False


def inspect_odt(path: Path | str) -> CheckResult:
    """Check an OpenDocument text: a sound ZIP within limits, well-formed, without macros."""
    path = Path(path)
    with open_package(path) as archive:
        names = archive.namelist()
        if "content.xml" not in names:
            raise DocumentRefused("damaged", "the OpenDocument has no content.xml")
        if any(re.match(r"^(Basic/[^/]+/(?!script-lb\.xml$)[^/]+\.xml|Scripts/.+[^/])$", name)
               for name in names):
            raise DocumentRefused("macros", "an OpenDocument with Basic or script macros")
        manifest = "META-INF/manifest.xml"
        if manifest in names and b"encryption-data" in read_small(archive, manifest):
            raise DocumentRefused("encrypted", "an encrypted OpenDocument")
        _check_members(archive, "content.xml")
        _check_well_formed(archive, "content.xml")
    return CheckResult("odt")


def _check_well_formed(archive: zipfile.ZipFile, name: str) -> None:
    try:
        with archive.open(name) as handle:
            for _event, element in xml_iterparse(handle, events=("end",), forbid_dtd=True):
                element.clear()
    except DefusedXmlException as error:
        raise DocumentRefused("damaged", f"{name}: forbidden XML construct ({error!r})") \
            from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, SyntaxError) as error:
        raise DocumentRefused("damaged", f"{name}: {type(error).__name__}: {error}") from None


