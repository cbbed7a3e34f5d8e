"""The fonts of the papers: which are not embedded (the preflight), and subset names made
unique across papers (a print shop's RIP may mix up two subsets sharing a tag)."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Pdf

from portal.services.documents.pdf import page_rotation

from .parts import PaperCheck, Part, Preflight, size_name


def preflight_pdf(pdf: Pdf, position: int = 0) -> PaperCheck:
    """Page sizes and fonts not embedded of one paper."""
    check = PaperCheck(position=position, pages=len(pdf.pages))
    for page in pdf.pages:
        try:
            box = [float(v) for v in page.mediabox]
            label = size_name(abs(box[2] - box[0]), abs(box[3] - box[1]), page_rotation(page))
        except (TypeError, ValueError, pikepdf.PdfError):
            label = "?"
        if label not in check.sizes:
            check.sizes.append(label)
    for font, descriptor in iter_fonts(pdf):
        if font.get("/Subtype") == Name.Type3:
            continue
        if descriptor is None or not any(
            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            name = str(font.get("/BaseFont", "?")).lstrip("/")
            if name not in check.unembedded:
                check.unembedded.append(name)
    return check


# What preflight_pdf found in a file, per file (its path, inode, size, modification and
# change times): the booklet page, the command's printed preflight and the build's own check read
# the same converted PDFs, which never change in place (storage places a new file).
_CHECKS_KEPT = 64
_checks: dict[tuple, PaperCheck] = {}
_checks_lock = threading.Lock()


def _file_key(path: Path) -> tuple | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (os.fspath(path), status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
            status.st_ctime_ns)


def check_paper(path: Path, position: int = 0, pdf: Pdf | None = None) -> PaperCheck:
    """``preflight_pdf`` of the paper at ``path`` (``pdf``, when given, is that file already
    open), scanned once per process for the same file."""
    key = _file_key(path)
    with _checks_lock:
        found = _checks.get(key) if key is not None else None
    if found is None:
        if pdf is None:
            with pikepdf.open(path) as opened:
                found = preflight_pdf(opened)
        else:
            found = preflight_pdf(pdf)
        if key is not None:
            with _checks_lock:
                _checks[key] = found
                while len(_checks) > _CHECKS_KEPT:
                    del _checks[next(iter(_checks))]
    return PaperCheck(position=position, pages=found.pages, sizes=list(found.sizes),
                      unembedded=list(found.unembedded))


def preflight_sources(parts: Sequence[Part], sources: Sequence[Pdf | None]) -> Preflight:
    return Preflight([
        check_paper(part.pdf, part.position, source) if part.pdf is not None
        else preflight_pdf(source, part.position)
        for part, source in zip(parts, sources, strict=True) if source is not None
    ])


def iter_fonts(pdf: Pdf) -> Any:
    """Every font dictionary used by the pages (forms included), once, with its descriptor
    (the descendant's for a Type 0 font; None when there is none)."""
    seen: set[tuple[int, int]] = set()

    def fonts_of(resources: Any, depth: int) -> Any:
        if not isinstance(resources, Dictionary) or depth > 12:
            return
        if resources.is_indirect:
            if resources.objgen in seen:
                return
            seen.add(resources.objgen)
        fonts = resources.get("/Font")
        if isinstance(fonts, Dictionary):
            for _name, font in fonts.items():
                if not isinstance(font, Dictionary):
                    continue
                if font.is_indirect:
                    if font.objgen in seen:
                        continue
                    seen.add(font.objgen)
                descriptor = font.get("/FontDescriptor")
                if font.get("/Subtype") == Name.Type0:
                    descendants = font.get("/DescendantFonts")
                    if isinstance(descendants, Array) and len(descendants):
                        descendant = descendants[0]
                        if isinstance(descendant, Dictionary):
                            descriptor = descendant.get("/FontDescriptor")
                yield font, descriptor if isinstance(descriptor, Dictionary) else None
                if font.get("/Subtype") == Name.Type3:
                    yield from fonts_of(font.get("/Resources"), depth + 1)
        xobjects = resources.get("/XObject")
        if isinstance(xobjects, Dictionary):
            for _name, xobject in xobjects.items():
                if isinstance(xobject, pikepdf.Stream) and xobject.get("/Subtype") == Name.Form:
                    if xobject.objgen in seen:
                        continue
                    seen.add(xobject.objgen)
                    yield from fonts_of(xobject.get("/Resources"), depth + 1)

    for page in pdf.pages:
        yield from fonts_of(page.obj.get("/Resources"), 0)
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, Array):
            for annotation in annotations:
                appearance = annotation.get("/AP") if isinstance(annotation, Dictionary) else None
                normal = appearance.get("/N") if isinstance(appearance, Dictionary) else None
                if isinstance(normal, pikepdf.Stream):
                    yield from fonts_of(normal.get("/Resources"), 1)



def _subset_tag(material: bytes) -> str:
    return "".join(chr(ord("A") + byte % 26) for byte in hashlib.sha256(material).digest()[:6])


def unique_subset_names(pdf: Pdf) -> int:
    """Give every distinct embedded font program its own subset name: papers made by the
    same tool often reuse a tag ("BAWKYD+DejaVu-Serif") for different subsets, which a
    print shop's RIP may mix up. Fonts whose name is shared by different programs get a
    tag derived from their program's hash. Returns how many fonts were renamed."""
    fonts: list[tuple[Dictionary, Dictionary, str, bytes]] = []
    programs: dict[str, set[bytes]] = {}
    for font, descriptor in iter_fonts(pdf):
        if descriptor is None:
            continue
        name = str(descriptor.get("/FontName", font.get("/BaseFont", ""))).lstrip("/")
        if len(name) < 8 or name[6] != "+" or not name[:6].isupper():
            continue
        program = next((descriptor[key] for key in ("/FontFile2", "/FontFile3", "/FontFile")
                        if isinstance(descriptor.get(key), pikepdf.Stream)), None)
        if program is None:
            continue
        try:
            digest = hashlib.sha256(program.read_bytes()).digest()
        except pikepdf.PdfError:
            digest = hashlib.sha256(program.read_raw_bytes()).digest()
        fonts.append((font, descriptor, name, digest))
        programs.setdefault(name, set()).add(digest)
    renamed = 0
    done: set[tuple[int, int]] = set()
    for font, descriptor, name, digest in fonts:
        if len(programs[name]) < 2:
            continue
        tag = _subset_tag(digest + name.encode())
        new = tag + name[6:]
        if not descriptor.is_indirect or descriptor.objgen not in done:
            descriptor.FontName = Name("/" + new)
            if descriptor.is_indirect:
                done.add(descriptor.objgen)
        targets = [font]
        descendants = font.get("/DescendantFonts")
        if isinstance(descendants, Array):
            targets += [item for item in descendants if isinstance(item, Dictionary)]
        for target in targets:
            base = str(target.get("/BaseFont", "")).lstrip("/")
            if base[:7] == name[:7]:
                target.BaseFont = Name("/" + tag + base[6:])
        renamed += 1
    return renamed


# -- page numbers and the draft mark --------------------------------------------------------

