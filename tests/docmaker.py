"""The one factory of test documents: PDFs (pikepdf), Word .docx packages (zipfile) and odd files.

Shared by every test that needs a paper. Two shapes:

* ``make_*`` functions write to a path the caller gives (usually under pytest's ``tmp_path``)
  and return that path: fine-grained documents for the checker and the converters;
* ``pdf_bytes`` and ``docx_bytes`` return the bytes of a ready paper to upload: the PDF pages
  carry text in an embedded font, so such papers pass the booklet's preflight.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

import pikepdf

A4 = (595.28, 841.89)
"""ISO A4 in PostScript points: 210 x 297 mm."""
LETTER = (612.0, 792.0)
"""US Letter in points: 8.5 x 11 inches."""

FONT_FILE = (Path(__file__).resolve().parents[1] / "portal" / "static" / "fonts" / "liberation"
             / "LiberationSerif-Regular.ttf")

DOCX_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
W_NAMESPACE = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NAMESPACE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_NAMESPACE = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_DOCUMENT_REL = R_NAMESPACE + "/officeDocument"
IMAGE_REL = R_NAMESPACE + "/image"

PageSpec = tuple[float, float] | tuple[float, float, int]


def _pdf_text(text: str) -> bytes:
    """A PDF string literal for Latin-1 text (the standard fonts cannot show more)."""
    raw = text.encode("latin-1", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def make_pdf(
    path: Path,
    pages: Sequence[PageSpec] = (A4,),
    *,
    text_per_page: Sequence[str] | None = None,
    encryption: pikepdf.Encryption | None = None,
    prefix: bytes = b"",
) -> Path:
    """A PDF with one page per ``(width, height[, rotate])`` in points.

    ``text_per_page`` writes a line of Helvetica text on each page (Latin-1 only);
    ``encryption`` saves it encrypted; ``prefix`` puts junk bytes before the header.
    """
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica,
        Encoding=pikepdf.Name.WinAnsiEncoding,
    ))
    for index, spec in enumerate(pages):
        width, height = spec[0], spec[1]
        page = pdf.add_blank_page(page_size=(width, height))
        if len(spec) > 2 and spec[2]:
            page.obj.Rotate = int(spec[2])
        if text_per_page is not None and index < len(text_per_page):
            page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
            content = (b"BT /F1 12 Tf 72 %.2f Td " % (height - 72)
                       + _pdf_text(text_per_page[index]) + b" Tj ET")
            page.obj.Contents = pdf.make_stream(content)
    if prefix:
        temporary = path.with_suffix(path.suffix + ".tmp")
        pdf.save(temporary, encryption=encryption or False)
        path.write_bytes(prefix + temporary.read_bytes())
        temporary.unlink()
    else:
        pdf.save(path, encryption=encryption or False)
    return path


def make_pdf_with_large_content(path: Path, content_mb: int, *, filler: bytes = b" ") -> Path:
    """A one-page PDF whose compressed content stream inflates to ``content_mb`` megabytes.

    Built in chunks, so neither memory nor time grows much with the size.
    """
    compressor = zlib.compressobj(6)
    block = filler * (1024 * 1024 // len(filler))
    parts = [compressor.compress(block) for _ in range(content_mb)]
    parts.append(compressor.flush())
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=A4)
    stream = pikepdf.Stream(pdf, b"".join(parts))
    stream.Filter = pikepdf.Name.FlateDecode
    page.obj.Contents = pdf.make_indirect(stream)
    pdf.save(path, compress_streams=False)
    return path


def _paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t xml:space=\"preserve\">{escape(text)}</w:t></w:r></w:p>"


def document_xml(paragraphs: Sequence[str] = ("Hello",), *, body_extra: str = "") -> str:
    """The WordprocessingML main part for plain paragraphs."""
    body = "".join(_paragraph(text) for text in paragraphs)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{W_NAMESPACE}" xmlns:r="{R_NAMESPACE}">'
        f"<w:body>{body}{body_extra}</w:body></w:document>"
    )


def content_types_xml(main_type: str = DOCX_MAIN_TYPE, main_part: str = "/word/document.xml",
                      extra_overrides: Mapping[str, str] | None = None) -> str:
    overrides = {main_part: main_type, **(extra_overrides or {})}
    items = "".join(f'<Override PartName="{name}" ContentType="{kind}"/>'
                    for name, kind in overrides.items())
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{items}</Types>"
    )


def relationships_xml(relations: Sequence[tuple[str, str, str, bool]]) -> str:
    """A .rels part from ``(id, type, target, external)`` tuples."""
    items = "".join(
        f'<Relationship Id="{rid}" Type="{kind}" Target="{escape(target)}"'
        + (' TargetMode="External"' if external else "") + "/>"
        for rid, kind, target, external in relations
    )
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{REL_NAMESPACE}">{items}</Relationships>')


def make_docx(
    path: Path,
    paragraphs: Sequence[str] = ("Hello",),
    *,
    document: str | bytes | None = None,
    main_type: str = DOCX_MAIN_TYPE,
    document_rels: Sequence[tuple[str, str, str, bool]] = (),
    extra_parts: Mapping[str, bytes | str] | None = None,
) -> Path:
    """A minimal Word package: [Content_Types].xml, _rels/.rels and word/document.xml.

    ``document`` replaces the generated main part; ``document_rels`` adds
    word/_rels/document.xml.rels; ``extra_parts`` adds or replaces any member.
    """
    parts: dict[str, bytes | str] = {
        "[Content_Types].xml": content_types_xml(main_type),
        "_rels/.rels": relationships_xml([("rId1", OFFICE_DOCUMENT_REL, "word/document.xml",
                                           False)]),
        "word/document.xml": document if document is not None else document_xml(paragraphs),
    }
    if document_rels:
        parts["word/_rels/document.xml.rels"] = relationships_xml(document_rels)
    parts.update(extra_parts or {})
    _write_package(path, parts)
    return path


def _write_package(target: Path | BinaryIO, parts: Mapping[str, bytes | str]) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data.encode("utf-8") if isinstance(data, str) else data)


def make_docx_bomb(path: Path, unpacked_mb: int = 300, *, member: str = "word/media/fill.bin",
                   ) -> Path:
    """A valid-looking Word package with one member of ``unpacked_mb`` MB of zeros.

    Written in 1 MB chunks: the test stays small in memory; the file is a few hundred KB.
    """
    make_docx(path)
    block = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open(member, "w", force_zip64=True) as handle:
            for _ in range(unpacked_mb):
                handle.write(block)
    return path


def make_png(path: Path, width: int = 4, height: int = 4) -> Path:
    """A small grey PNG image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def make_ole2(path: Path, stream_names: Sequence[str] = (), size: int = 4096) -> Path:
    """An OLE2 compound-file look-alike: the signature, padding and directory entries (the
    UTF-16 name, padded to 64 bytes, then its length in bytes with the terminator).

    Enough for content sniffing (``("WordDocument",)`` for Word 97-2003,
    ``("EncryptedPackage",)`` for a password-protected .docx); not a readable file.
    """
    data = bytearray(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(size - 8))
    offset = 1024
    for name in stream_names:
        encoded = name.encode("utf-16-le")
        data[offset:offset + len(encoded)] = encoded
        data[offset + 64:offset + 66] = (len(encoded) + 2).to_bytes(2, "little")
        offset += 128
    path.write_bytes(bytes(data))
    return path


@functools.lru_cache(maxsize=1)
def ascii_subset() -> tuple[bytes, list[int], dict]:
    """Liberation Serif cut down to printable ASCII, its widths and its metrics."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(FONT_FILE), recalcTimestamp=False)
    options = subset.Options()
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=range(32, 127))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    units = font["head"].unitsPerEm
    cmap = font.getBestCmap()
    widths = [round(font["hmtx"][cmap[code]][0] * 1000 / units) if code in cmap else 0
              for code in range(32, 127)]
    head = font["head"]
    metrics = {"ascent": round(font["hhea"].ascent * 1000 / units),
               "descent": round(font["hhea"].descent * 1000 / units),
               "bbox": [round(v * 1000 / units)
                        for v in (head.xMin, head.yMin, head.xMax, head.yMax)]}
    return buffer.getvalue(), widths, metrics


def embedded_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """An embedded TrueType font (a subset of the bundled Liberation Serif) for ASCII text,
    as a print shop wants every font: papers made by the tests pass the booklet's preflight."""
    data, widths, metrics = ascii_subset()
    program = pdf.make_stream(data)
    program.Length1 = len(data)
    descriptor = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name("/AAAAAA+LiberationSerif"),
        Flags=32, FontBBox=metrics["bbox"], ItalicAngle=0, Ascent=metrics["ascent"],
        Descent=metrics["descent"], CapHeight=662, StemV=80, FontFile2=program))
    return pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.TrueType,
        BaseFont=pikepdf.Name("/AAAAAA+LiberationSerif"), FirstChar=32, LastChar=126,
        Widths=widths, Encoding=pikepdf.Name.WinAnsiEncoding, FontDescriptor=descriptor))


def embed_fonts(path: Path) -> Path:
    """Replace the unembedded Helvetica of a PDF made by ``make_pdf`` with ``embedded_font``."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        font = embedded_font(pdf)
        for page in pdf.pages:
            fonts = page.obj.get("/Resources", {}).get("/Font")
            if isinstance(fonts, pikepdf.Dictionary):
                for name in list(fonts.keys()):
                    if fonts[name].get("/BaseFont") == pikepdf.Name.Helvetica:
                        fonts[name] = font
        pdf.save(path)
    return path


def pdf_bytes(pages: int = 1, size: tuple[float, float] = A4, marker: str = "PAPER",
              rotate: int = 0, password: str | None = None) -> bytes:
    """A PDF whose every page shows ``marker`` and its page number in an embedded font."""
    pdf = pikepdf.new()
    font = embedded_font(pdf)
    for number in range(1, pages + 1):
        text = f"{marker} page {number}".encode("latin-1")
        stream = b"BT /F1 18 Tf 72 %d Td (%s) Tj ET" % (int(size[1]) - 100, text)
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=[0, 0, size[0], size[1]],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pdf.make_stream(stream),
        )
        if rotate:
            page.Rotate = rotate
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    if password is not None:
        pdf.save(out, encryption=pikepdf.Encryption(user=password, owner="owner-pw"))
    else:
        pdf.save(out)
    return out.getvalue()


def docx_bytes(paragraphs: Sequence[str] | None = None, heading: str | None = None) -> bytes:
    """The bytes of a minimal Word document (``make_docx``) with an optional Heading 1."""
    heading_xml = ""
    if heading:
        heading_xml = ('<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>'
                       f"{escape(heading)}</w:t></w:r></w:p>")
    body = heading_xml + "".join(_paragraph(text) for text in (paragraphs or ["Tham luận"]))
    out = io.BytesIO()
    _write_package(out, {
        "[Content_Types].xml": content_types_xml(),
        "_rels/.rels": relationships_xml([("rId1", OFFICE_DOCUMENT_REL, "word/document.xml",
                                           False)]),
        "word/document.xml": document_xml((), body_extra=body),
    })
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` and return the path."""
    path.write_bytes(data)
    return path
