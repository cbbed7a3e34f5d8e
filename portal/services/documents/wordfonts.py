"""The fonts a Word document uses, judged before LibreOffice converts it: fonts the server
has not (and what stands in for them), and text typed in an old Vietnamese encoding."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
import zlib
from collections import Counter

from .notes import Note, fonts_param

_MAX_XML_SCAN = 40 * 1024 * 1024

# Fonts whose metric-compatible face is installed (fonts-liberation2), or symbol fonts used only
# for bullets.
_SAME_FONTS = frozenset({
    "times new roman", "times", "liberation serif", "tinos", "arial", "helvetica",
    "liberation sans", "arimo", "courier new", "courier", "liberation mono", "cousine",
})
_SYMBOL_FONTS = frozenset({"symbol", "wingdings", "wingdings 2", "wingdings 3", "webdings"})
_LEGACY_VN_FONT = re.compile(r"^(\.vn|vni[-_ ])", re.IGNORECASE)


def _read_part(archive: zipfile.ZipFile, name: str) -> str:
    try:
        with archive.open(name) as part:
            return part.read(_MAX_XML_SCAN).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
        return ""  # a missing or damaged part (inspect judged whether it matters)


_RFONTS = re.compile(r"<w:rFonts\b([^>]*)>")
_FONT_ATTR = re.compile(r'w:(ascii|hAnsi)(Theme)?="([^"]+)"')
_THEME_FONT = re.compile(r"<a:(minor|major)Font>\s*<a:latin\s+typeface=\"([^\"]*)\"")
_STYLE_BLOCK = re.compile(r"<w:style\b([^>]*)>(.*?)</w:style>", re.DOTALL)
_STYLE_ID = re.compile(r'w:styleId="([^"]+)"')
_BASED_ON = re.compile(r'<w:basedOn w:val="([^"]+)"')
_STYLE_USE = re.compile(r'<w:(?:pStyle|rStyle|tblStyle) w:val="([^"]+)"')
_DOC_DEFAULTS = re.compile(r"<w:docDefaults>(.*?)</w:docDefaults>", re.DOTALL)
_TIMES = re.compile(r"^times([ -]new[ -]roman)?([ -,]*(bold|italic|roman|regular|ps|psmt|mt))*$")


def docx_font_notes(archive: zipfile.ZipFile) -> list[Note]:
    """Notes naming the fonts the document uses that are not installed, with their stand-ins.

    Counts fonts set directly in the text, in the document defaults, and in the styles the
    text uses (with the styles they are based on); fonts of unused styles do not count.
    """
    theme = _read_part(archive, "word/theme/theme1.xml")
    theme_fonts = {kind: face for kind, face in _THEME_FONT.findall(theme)}
    document = _read_part(archive, "word/document.xml")
    styles_xml = _read_part(archive, "word/styles.xml")

    styles: dict[str, tuple[str, str | None]] = {}
    pending = set(_STYLE_USE.findall(document))
    for attributes, body in _STYLE_BLOCK.findall(styles_xml):
        style_id = _STYLE_ID.search(attributes)
        if not style_id:
            continue
        based_on = _BASED_ON.search(body)
        styles[style_id[1]] = (body, based_on[1] if based_on else None)
        if 'w:default="1"' in attributes:
            pending.add(style_id[1])
    used_styles: set[str] = set()
    while pending:
        style_id = pending.pop()
        if style_id in used_styles or style_id not in styles:
            continue
        used_styles.add(style_id)
        parent = styles[style_id][1]
        if parent:
            pending.add(parent)

    sources = [document, *(styles[style_id][0] for style_id in used_styles)]
    sources.extend(_DOC_DEFAULTS.findall(styles_xml))
    used: Counter[str] = Counter()
    for source in sources:
        for attributes in _RFONTS.findall(source):
            for _slot, is_theme, value in _FONT_ATTR.findall(attributes):
                name = theme_fonts.get(value[:5], "") if is_theme else value.split(";")[0]
                if name.strip():
                    used[name.strip()] += 1

    legacy = sorted(name for name in used if _LEGACY_VN_FONT.match(name))
    other = [
        name for name, _ in used.most_common()
        if name not in legacy
        and name.lower() not in _SAME_FONTS | _SYMBOL_FONTS
        and not _TIMES.match(name.lower())
    ]
    notes: list[Note] = []
    if legacy and _looks_legacy_encoded(document):
        notes.append(Note("legacy_encoding", **fonts_param(legacy, shown=3)))
    substituted = [
        f"{name} → {stand_in}" for name in other[:4]
        if (stand_in := _installed_face(name)) and stand_in.lower() != name.lower()
    ]
    if substituted:
        notes.append(Note("fonts_substituted", fonts=substituted, more=len(other) > 4))
    return notes


def _installed_face(family: str) -> str | None:
    """The family fontconfig gives LibreOffice for ``family`` (None when it cannot tell)."""
    tool = shutil.which("fc-match")
    if tool is None or not family.isprintable():
        return None
    try:
        found = subprocess.run([tool, "-f", "%{family[0]}", f"{family[:80]}"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip() or None if found.returncode == 0 else None


# Letters that TCVN3 (ABC) and VNI text shows in place of Vietnamese letters when read as
# Unicode; none of them occurs in Vietnamese written in Unicode.
_LEGACY_MARKS = frozenset("¸µ¶·¹¨ª¬\u00ad®øöäëïñûü")
_WORD_TEXT = re.compile(r"<w:t(?: [^>]*)?>([^<]*)</w:t>")


def _looks_legacy_encoded(document_xml: str) -> bool:
    text = "".join(_WORD_TEXT.findall(document_xml))
    marks = sum(1 for char in text if char in _LEGACY_MARKS)
    return marks >= 10 and marks * 50 >= sum(1 for char in text if not char.isascii())

