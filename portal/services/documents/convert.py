"""Normalise one uploaded paper (Word or PDF) into the PDF the booklet is built from.

Runs once per accepted revision, at upload time, in the bounded checking child; the booklet
build then only merges these results.

* A Word paper (.docx, .doc, .odt) is converted by LibreOffice in headless mode (``office``),
  which keeps its page size, margins, alignment, tables, page breaks, pictures, footnotes,
  headers and footers; Times New Roman and Arial resolve to the metric-compatible Liberation
  fonts. Its text is normalised to Unicode NFC first.
* A PDF is kept as it is, minus JavaScript, dangerous actions, embedded files and XFA, and saved
  without encryption; fonts it uses without embedding them are embedded by Ghostscript
  (``fonts``).
* In every normalised paper only ``http``, ``https`` and ``mailto`` links survive.

Nothing here ever fetches a URL or reads a file named inside a document. The notes are codes
(``notes.Note``); free text from LibreOffice, qpdf or Ghostscript never becomes one.

Results are cacheable by ``(sha256 of the upload, CONVERTER_VERSION)``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import zipfile
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary

from ...fileio import temporary_path
from . import fonts, office
from .notes import Note, fonts_param
from .pdf import broken_streams, describe_pdf, facts, page_rotation, unembedded_fonts
from .results import Converted
from .sanitise import sanitise_pdf
from .wordfonts import docx_font_notes

log = logging.getLogger(__name__)

_WORD_KINDS = frozenset({"docx", "doc", "odt"})


class ConversionError(Exception):
    """The paper cannot be turned into a booklet PDF; the message says why, in English.

    ``code`` is the refusal code (see ``results.MESSAGES``) the presenter is shown.
    """

    def __init__(self, message: str, code: str = "damaged") -> None:
        super().__init__(message)
        self.code = code


# -- entry point ----------------------------------------------------------------------------


def normalise(src: Path, file_type: str, dst: Path) -> Converted:
    """Convert ``src`` (``"docx"``, ``"doc"``, ``"odt"`` or ``"pdf"``) into the PDF ``dst``.

    Raises ``ConversionError`` with a plain message when the paper cannot be used.
    ``dst`` is written through a temporary file and renamed, so it is never half written.
    """
    src, dst = Path(src), Path(dst)
    kind = file_type.lower().lstrip(".")
    tmp = temporary_path(dst)
    notes: list[Note] = []
    try:
        if kind in _WORD_KINDS:
            _word_to_pdf(src, kind, tmp, notes)
        elif kind == "pdf":
            _clean_pdf(src, tmp, notes)
        else:
            raise ValueError(f"unknown file type {file_type!r}")
        pages, sizes = describe_pdf(tmp)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return Converted(pages=pages, page_sizes=sizes, notes=list(dict.fromkeys(notes)))


# -- DOCX -----------------------------------------------------------------------------------


def _word_to_pdf(src: Path, kind: str, dst: Path, notes: list[Note]) -> None:
    if kind == "docx":
        try:
            with zipfile.ZipFile(src) as archive:
                notes.extend(docx_font_notes(archive))
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise ConversionError(f"not a valid Word (.docx) file: {error}") from error
    raw = temporary_path(dst)
    try:
        try:
            office.convert_to_pdf(src, kind, raw)  # what soffice prints is logged, not noted
        except office.OfficeFailed as failed:
            raise ConversionError(failed.detail, failed.code) from None
        _clean_pdf(raw, dst, notes)
    finally:
        raw.unlink(missing_ok=True)


# -- PDF ------------------------------------------------------------------------------------


def _clean_pdf(src: Path, dst: Path, notes: list[Note]) -> None:
    """Rewrite the PDF ``src`` at ``dst``: sanitised, unencrypted, fonts embedded. Its notes
    are the facts the check notes too (``pdf.facts``), so the two never say one thing twice."""
    try:
        pdf = pikepdf.open(src, password="")
    except pikepdf.PasswordError as error:
        raise ConversionError("the PDF needs a password to open") from error
    except (pikepdf.PdfError, OSError, ValueError, RecursionError) as error:
        raise ConversionError(f"the PDF cannot be read: {_short(error)}") from error
    with pdf:
        opening = pdf.get_warnings()
        repaired = bool(opening)
        try:
            count = len(pdf.pages)
        except (pikepdf.PdfError, RecursionError) as error:
            raise ConversionError(f"the PDF's page tree cannot be read: {_short(error)}") from error
        if count == 0:
            raise ConversionError("the PDF has no pages")
        if repaired and broken_streams(pdf):
            raise ConversionError("the PDF is damaged: some pages or pictures cannot be read")
        notes.extend(facts(pdf, repaired=repaired))
        unembedded = unembedded_fonts(pdf)
        removed = sanitise_pdf(pdf)
        for what, number in sorted(removed.items()):
            if what != "XFA form":  # the fact "xfa_form" says it
                notes.append(Note("removed", what=what, n=number))
        acroform = pdf.Root.get("/AcroForm")
        if isinstance(acroform, Dictionary):
            if acroform.get("/NeedAppearances"):
                with contextlib.suppress(pikepdf.PdfError):
                    pdf.generate_appearance_streams()
        try:
            pdf.save(
                dst,
                object_stream_mode=pikepdf.ObjectStreamMode.generate,
                compress_streams=True,
                encryption=False,
                deterministic_id=True,
            )
        except (pikepdf.PdfError, OSError, RecursionError) as error:
            raise ConversionError(f"the PDF cannot be rewritten: {_short(error)}") from error
        warnings = pdf.get_warnings()
    if opening or warnings:  # qpdf's own words go to the log; the note is the code "repaired"
        log.info("qpdf repaired %s: %s", src.name, "; ".join((opening + warnings)[:5]))
    damaged = [w for w in warnings if "stream" in w.lower() and "decod" in w.lower()]
    if damaged:
        raise ConversionError("the PDF has damaged content that cannot be read")
    if warnings:
        notes.append(Note("repaired"))
    if unembedded:
        embedded = _embed_fonts(dst, count)
        notes.append(Note("fonts_embedded" if embedded else "fonts_not_embedded",
                          **fonts_param(unembedded)))


def _embed_fonts(path: Path, pages: int) -> bool:
    """Replace the PDF at ``path`` by a copy with every font embedded, if that succeeds
    (same page count, no font left unembedded); links and actions cleaned again.

    Ghostscript turns a page's /Rotate into its content and moves the page's origin to 0 0, so
    the rotation is taken off before and put back after, and the boxes are restored (the
    content shifted back to where it was), so that the page reads and stamps as before.
    """
    unrotated, distilled, final = (temporary_path(path) for _ in range(3))
    try:
        with pikepdf.open(path) as original:
            geometry = [_page_geometry(page) for page in original.pages]
            for page in original.pages:
                page.obj.Rotate = 0
            original.save(unrotated)
        if not fonts.embed_fonts(unrotated, distilled):
            return False
        with pikepdf.open(distilled) as pdf:
            if len(pdf.pages) != pages or unembedded_fonts(pdf):
                return False
            for page, (boxes, rotation) in zip(pdf.pages, geometry, strict=True):
                _restore_geometry(pdf, page, boxes, rotation)
            sanitise_pdf(pdf)
            pdf.save(final, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                     compress_streams=True, encryption=False, deterministic_id=True)
        os.replace(final, path)
        return True
    except (pikepdf.PdfError, OSError, RecursionError, ValueError):
        return False
    finally:
        for temporary in (unrotated, distilled, final):
            temporary.unlink(missing_ok=True)


_BOXES = ("/MediaBox", "/CropBox", "/TrimBox", "/BleedBox", "/ArtBox")


def _page_geometry(page: pikepdf.Page) -> tuple[dict[str, list[float]], int]:
    boxes = {
        "/MediaBox": [float(v) for v in page.mediabox],
        "/CropBox": [float(v) for v in page.cropbox],
        "/TrimBox": [float(v) for v in page.trimbox],
        "/BleedBox": [float(v) for v in page.bleedbox],
        "/ArtBox": [float(v) for v in page.artbox],
    }
    return boxes, page_rotation(page)


def _restore_geometry(pdf: pikepdf.Pdf, page: pikepdf.Page, boxes: dict[str, list[float]],
                      rotation: int) -> None:
    media = boxes["/MediaBox"]
    x0, y0 = min(media[0], media[2]), min(media[1], media[3])
    if x0 or y0:
        page.contents_add(pdf.make_stream(f"1 0 0 1 {x0:g} {y0:g} cm\n".encode()),
                          prepend=True)
        for annotation in page.obj.get("/Annots", Array()):
            rect = annotation.get("/Rect") if isinstance(annotation, Dictionary) else None
            if isinstance(rect, Array) and len(rect) == 4:
                annotation.Rect = Array([float(rect[0]) + x0, float(rect[1]) + y0,
                                         float(rect[2]) + x0, float(rect[3]) + y0])
    for key in _BOXES:
        page.obj[key] = Array(boxes[key])
    if rotation:
        page.obj.Rotate = rotation
    elif "/Rotate" in page.obj:
        del page.obj["/Rotate"]


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:160]


