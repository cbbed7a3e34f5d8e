"""Conversion notes in the reader's language.

The checking child process writes its notes in plain English (it has no request and no
locale); they are stored as they are and translated here when a page shows them. A note
that matches no pattern is shown unchanged.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

THINGS = {
    "picture": _l("picture"),
    "external or unreadable picture": _l("linked or unreadable picture"),
    "picture over 20 MB": _l("picture over 20 MB"),
    "chart": _l("chart"),
    "equation": _l("equation"),
    "JavaScript": _l("JavaScript"),
    "embedded files": _l("embedded files"),
    "automatic actions": _l("automatic actions"),
    "portfolio view": _l("portfolio view"),
    "XFA form": _l("XFA form"),
    "file attachment": _l("file attachment"),
    "unsafe links": _l("links other than http, https and mailto"),
    "unsafe actions": _l("actions that open files or other documents"),
}


def _thing(text: str) -> str:
    text = text.strip()
    singular = text[:-1] if text.endswith("s") and text[:-1] in THINGS else text
    if singular in THINGS:
        return str(THINGS[singular])
    if singular.startswith("picture in ") and singular.endswith(" format"):
        return _("picture in %(format)s format", format=singular[11:-7])
    return text


PATTERNS: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"^(?P<n>\d+) (?P<what>.+) left out$"),
     lambda m: _("%(what)s left out: %(n)s", what=_thing(m["what"]), n=m["n"])),
    (re.compile(r"^(?P<n>\d+) pictures? could not be drawn$"),
     lambda m: _("pictures that could not be drawn: %(n)s", n=m["n"])),
    (re.compile(r"^font substituted: (?P<fonts>.+) → Liberation Serif$"),
     lambda m: _("font substituted: %(fonts)s → Liberation Serif", fonts=m["fonts"])),
    (re.compile(r"^font substituted: (?P<fonts>.+)$"),
     lambda m: _("fonts not on the server, replaced by the nearest one: %(fonts)s",
                 fonts=m["fonts"])),
    (re.compile(r"^fonts not embedded in the PDF \((?P<fonts>.+)\) were embedded$"),
     lambda m: _("fonts not embedded in the PDF (%(fonts)s) were embedded, so that the paper "
                 "prints as it is shown", fonts=m["fonts"])),
    (re.compile(r"^text typed in an old Vietnamese encoding \((?P<fonts>.+)\) comes out garbled; "
                r"ask for a Unicode version$"),
     lambda m: _("text typed in an old Vietnamese encoding (%(fonts)s) comes out garbled; ask "
                 "for a Unicode version", fonts=m["fonts"])),
    (re.compile(r"^fonts not embedded in the PDF \((?P<fonts>.+)\): printers substitute them$"),
     lambda m: _("fonts not embedded in the PDF (%(fonts)s): printers substitute them",
                 fonts=m["fonts"])),
    (re.compile(r"^Word styles shown as plain text: (?P<styles>.+)$"),
     lambda m: _("Word styles shown as plain text: %(styles)s", styles=m["styles"])),
    (re.compile(r"^(?P<what>.+) removed(?: \((?P<n>\d+)\))?$"),
     lambda m: _("removed: %(what)s", what=_thing(m["what"])) +
     (f" ({m['n']})" if m["n"] else "")),
    (re.compile(r"^A damaged part of the file \((?P<part>.+)\) was left out; the text is not "
                r"affected\.$"),
     lambda m: _("A damaged part of the file (%(part)s) was left out; the text is not "
                 "affected.", part=m["part"])),
    (re.compile(r"^A linked picture \((?P<name>.+)\) is not inside the file and was left out\. "
                r"Insert the picture itself if it should appear\.$"),
     lambda m: _("A linked picture (%(name)s) is not inside the file and was left out. Insert "
                 "the picture itself if it should appear.", name=m["name"])),
]

FIXED = {
    "no text found in the document": _l("no text found in the document"),
    "landscape pages set as portrait A4": _l("landscape pages set as portrait A4"),
    "drawing shapes (lines, boxes) left out": _l("drawing shapes (lines, boxes) left out"),
    "encryption removed": _l("encryption removed"),
    "digitally signed: the signature does not carry over to the booklet":
        _l("digitally signed: the signature does not carry over to the booklet"),
    "the PDF had structural errors and was repaired":
        _l("the PDF had structural errors and was repaired"),
    "The PDF is encrypted but opens without a password.":
        _l("The PDF is encrypted but opens without a password."),
    "The PDF was slightly damaged and has been repaired.":
        _l("The PDF was slightly damaged and has been repaired."),
    "The PDF holds an XFA form; only its printed page content is used.":
        _l("The PDF holds an XFA form; only its printed page content is used."),
    "The document contains macros; they are ignored.":
        _l("The document contains macros; they are ignored."),
    "The document appears to contain no text.": _l("The document appears to contain no text."),
    "The PDF is digitally signed; the signature does not carry over into the proceedings.":
        _l("The PDF is digitally signed; the signature does not carry over into the "
           "proceedings."),
}


def translate(note: str) -> str:
    note = note.strip()
    if note in FIXED:
        return str(FIXED[note])
    for pattern, render in PATTERNS:
        match = pattern.match(note)
        if match:
            return render(match)
    return note
