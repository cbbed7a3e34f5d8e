"""Small real documents made by the tests themselves."""

from __future__ import annotations

import functools
import io
import zipfile
from pathlib import Path

import pikepdf

A4 = (595.276, 841.89)
LETTER = (612, 792)


FONT_FILE = Path(__file__).resolve().parents[1] / "portal" / "static" / "fonts" / "liberation" \
    / "LiberationSerif-Regular.ttf"


@functools.lru_cache(maxsize=1)
def _ascii_subset() -> tuple[bytes, list[int], dict]:
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
    data, widths, metrics = _ascii_subset()
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
    """Replace the unembedded Helvetica of a PDF made by ``docmaker`` with ``embedded_font``."""
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


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def docx_bytes(paragraphs: list[str] | None = None, heading: str | None = None) -> bytes:
    """A minimal WordprocessingML document with the given paragraphs."""
    from xml.sax.saxutils import escape

    body = ""
    if heading:
        body += ('<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>'
                 f"{escape(heading)}</w:t></w:r></w:p>")
    for text in paragraphs or ["Tham luận"]:
        body += f'<w:p><w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", document)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
