"""Notes about a paper for the person who uploaded it: a code with parameters, one per fact.

The checking child has no request and no locale, so it never writes a sentence: it says
``Note("fonts_not_embedded", fonts=["Helvetica"])``. A page shows ``note.text`` and
``note.advice``, both translated then, in the reader's language. Every code has its text and
what the presenter should do about it (or, plainly, that nothing needs doing) in ``CODES``; the
templates use ``note.text`` and ``note.advice``, or the filter ``note_text``.

Stored in ``Submission.conversion_notes`` one note per line, each a small JSON object
(``Note.line()``). Revisions stored before the codes hold English sentences; ``Note.read``
maps those to codes when they are read (the one boundary: nothing English is shown), and a
sentence it does not know becomes the code ``unrecognised`` (the sentence is logged, not shown).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)

# What can be left out of or removed from a paper (the parameter ``what``).
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
    "media": _l("media"),
}

NOTHING_TO_DO = _l("Nothing to do: the booklet is not affected.")
CHECK_THE_PREVIEW = _l("Check the preview pages; if something looks wrong, fix it in your "
                       "document and upload it again.")
PICTURES = _l("Insert the pictures as JPEG or PNG (Insert, Pictures, This device) and upload the "
              "file again, or save it as PDF in Word and upload the PDF.")
CHARTS = _l("Charts and equations are not printed from a Word file. Save your document as PDF "
            "in Word and upload the PDF, so they print as you see them.")
FONTS_IN_PDF = _l("Export the PDF again with the fonts embedded (in Word: Save as PDF, Options, "
                  "“ISO 19005-1 compliant (PDF/A)”), or upload the Word document (.docx) instead.")
SUBSTITUTED = _l("The booklet uses Liberation Serif (like Times New Roman) instead. Check the "
                 "preview; if the layout moved, use Times New Roman in your document and upload "
                 "it again.")


def _thing(what: str) -> str:
    for name in (what, what.removesuffix("s")):
        if name in THINGS:
            return str(THINGS[name])
    if what.startswith("picture in ") and what.endswith(" format"):
        return _("picture in %(format)s format", format=what[11:-7])
    return _("other content")


def _fonts(params: dict[str, Any]) -> str:
    names = [str(name) for name in params.get("fonts", [])]
    return ", ".join(names) + (", …" if params.get("more") else "")


def _counted(text: str, params: dict[str, Any]) -> str:
    count = int(params.get("n") or 1)
    return f"{text} ({count})" if count > 1 else text


def _left_out_advice(params: dict[str, Any]) -> str:
    what = str(params.get("what", ""))
    if what in ("chart", "equation"):
        return str(CHARTS)
    return str(PICTURES if "picture" in what else CHECK_THE_PREVIEW)


Text = Callable[[dict[str, Any]], str]
Advice = Callable[[dict[str, Any]], str]


def _fixed(message: Any) -> Callable[[dict[str, Any]], str]:
    return lambda params: str(message)


# code -> (the note, what to do about it); both rendered in the reader's language.
CODES: dict[str, tuple[Text, Advice]] = {
    # PDF
    "encrypted": (_fixed(_l("encryption removed")), _fixed(NOTHING_TO_DO)),
    "signed": (_fixed(_l("The PDF is digitally signed; the signature does not carry over into "
                         "the proceedings.")), _fixed(NOTHING_TO_DO)),
    "xfa_form": (_fixed(_l("The PDF holds an XFA form; only its printed page content is "
                           "used.")), _fixed(NOTHING_TO_DO)),
    "repaired": (_fixed(_l("The PDF was slightly damaged and has been repaired.")),
                 _fixed(NOTHING_TO_DO)),
    "removed": (lambda p: _counted(_("removed: %(what)s", what=_thing(str(p.get("what")))), p),
                _fixed(NOTHING_TO_DO)),
    "fonts_embedded": (lambda p: _("fonts not embedded in the PDF (%(fonts)s) were embedded, "
                                   "so that the paper prints as it is shown", fonts=_fonts(p)),
                       _fixed(NOTHING_TO_DO)),
    "fonts_not_embedded": (lambda p: _("fonts not embedded in the PDF (%(fonts)s): printers "
                                       "substitute them", fonts=_fonts(p)), _fixed(FONTS_IN_PDF)),
    # Word and OpenDocument
    "no_text": (_fixed(_l("The document appears to contain no text.")),
                _fixed(_l("If your paper is a scan, this is expected. Otherwise export it again "
                          "from Word, or upload the Word document (.docx)."))),
    "damaged_part": (lambda p: _("A damaged part of the file (%(part)s) was left out; the text "
                                 "is not affected.", part=p.get("part", "")),
                     _fixed(_l("Check the preview; if something is missing, save the document "
                               "again in Word and upload it again."))),
    "linked_picture": (lambda p: _("A linked picture (%(name)s) is not inside the file and was "
                                   "left out. Insert the picture itself if it should appear.",
                                   name=p.get("name", "")),
                       _fixed(_l("Insert the picture itself into the document and upload the "
                                 "file again."))),
    "linked_content": (lambda p: _("Linked content (%(kind)s: %(target)s) is not inside the file "
                                   "and was left out.", kind=p.get("kind", ""),
                                   target=p.get("target", "")), _fixed(CHECK_THE_PREVIEW)),
    "fonts_substituted": (lambda p: _("fonts not on the server, replaced by the nearest one: "
                                      "%(fonts)s", fonts=_fonts(p)), _fixed(SUBSTITUTED)),
    "legacy_encoding": (lambda p: _("text typed in an old Vietnamese encoding (%(fonts)s) comes "
                                    "out garbled; ask for a Unicode version", fonts=_fonts(p)),
                        _fixed(_l("Convert the text to Unicode (for example with Unikey's "
                                  "converter, from TCVN3 or VNI to Unicode), use a Unicode font "
                                  "such as Times New Roman, and upload it again."))),
    # Only in revisions stored by earlier converters (read from their English sentences).
    "left_out": (lambda p: _("%(what)s left out: %(n)s", what=_thing(str(p.get("what"))),
                             n=p.get("n", 1)), _left_out_advice),
    "pictures_not_drawn": (lambda p: _("pictures that could not be drawn: %(n)s", n=p.get("n")),
                           _fixed(PICTURES)),
    "shapes_left_out": (_fixed(_l("drawing shapes (lines, boxes) left out")),
                        _fixed(_l("Group the shapes and save them as a picture, or save your "
                                  "document as PDF in Word and upload the PDF."))),
    "liberation_serif": (lambda p: _("font substituted: %(fonts)s → Liberation Serif",
                                     fonts=_fonts(p)), _fixed(SUBSTITUTED)),
    "plain_styles": (lambda p: _("Word styles shown as plain text: %(styles)s",
                                 styles=p.get("styles", "")),
                     _fixed(_l("Check the preview: if headings or lists look plain, apply "
                               "Word's built-in styles (Heading 1, List Bullet …) and upload "
                               "the file again."))),
    "landscape_as_portrait": (_fixed(_l("landscape pages set as portrait A4")),
                              _fixed(_l("Check the preview: if a wide table is cut, make it fit "
                                        "a portrait A4 page and upload the file again."))),
    "macros_ignored": (_fixed(_l("The document contains macros; they are ignored.")),
                       _fixed(NOTHING_TO_DO)),
    "unrecognised": (_fixed(_l("The conversion reported a detail about the layout.")),
                     _fixed(CHECK_THE_PREVIEW)),
}


class Note:
    """One fact about a paper: ``Note("fonts_not_embedded", fonts=["Helvetica"])``."""

    __slots__ = ("code", "params")

    def __init__(self, code: str, **params: Any) -> None:
        if code not in CODES:
            raise ValueError(f"unknown note code {code!r}")
        self.code = code
        self.params = params

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, **self.params}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Note:
        params = {key: value for key, value in data.items() if key != "code"}
        return cls(str(data["code"]), **params)

    def line(self) -> str:
        """The note as stored: one line of JSON."""
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def read(cls, line: str) -> Note:
        """A stored line: a coded note, or an English sentence of an earlier converter."""
        line = line.strip()
        if line.startswith("{"):
            try:
                return cls.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError):
                log.warning("unreadable stored note %r", line[:200])
                return cls("unrecognised")
        return from_sentence(line)

    @property
    def text(self) -> str:
        """The note in the reader's language."""
        return CODES[self.code][0](self.params)

    @property
    def advice(self) -> str:
        """What the presenter should do about it (or that nothing needs doing), translated."""
        return CODES[self.code][1](self.params)

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Note) and self.line() == other.line()

    def __hash__(self) -> int:
        return hash(self.line())

    def __repr__(self) -> str:
        params = "".join(f", {key}={value!r}" for key, value in self.params.items())
        return f"Note({self.code!r}{params})"


def merge(*groups: Iterable[Note]) -> list[Note]:
    """The notes of several steps, each fact once, in the order first said."""
    return list(dict.fromkeys(note for group in groups for note in group))


def stored(notes: Iterable[Note]) -> str:
    """The text of ``Submission.conversion_notes`` for ``notes``."""
    return "\n".join(note.line() for note in merge(notes))


def read_stored(text: str | None) -> list[Note]:
    """The notes of a stored revision (coded, or English from an earlier converter)."""
    return merge(Note.read(line) for line in (text or "").splitlines() if line.strip())


def note_text(note: Note | str) -> str:
    """The Jinja filter ``note_text``: a note, or one stored line, in the reader's language."""
    return (note if isinstance(note, Note) else Note.read(note)).text


def fonts_param(names: list[str], shown: int = 4) -> dict[str, Any]:
    """The ``fonts`` and ``more`` parameters of a note that names fonts."""
    return {"fonts": names[:shown], "more": len(names) > shown}


# -- the sentences earlier converters stored -------------------------------------------------

_SENTENCES = {
    "no text found in the document": Note("no_text"),
    "The document appears to contain no text.": Note("no_text"),
    "landscape pages set as portrait A4": Note("landscape_as_portrait"),
    "drawing shapes (lines, boxes) left out": Note("shapes_left_out"),
    "encryption removed": Note("encrypted"),
    "The PDF is encrypted but opens without a password.": Note("encrypted"),
    "digitally signed: the signature does not carry over to the booklet": Note("signed"),
    "The PDF is digitally signed; the signature does not carry over into the proceedings.":
        Note("signed"),
    "the PDF had structural errors and was repaired": Note("repaired"),
    "The PDF was slightly damaged and has been repaired.": Note("repaired"),
    "The PDF holds an XFA form; only its printed page content is used.": Note("xfa_form"),
    "XFA form removed": Note("xfa_form"),
    "The document contains macros; they are ignored.": Note("macros_ignored"),
}


def _font_list(text: str) -> dict[str, Any]:
    more = text.endswith(", …")
    names = [name.strip() for name in text.removesuffix(", …").split(",") if name.strip()]
    return {"fonts": names, "more": more}


def _what(text: str) -> str:
    text = text.strip()
    return text[:-1] if text.endswith("s") and text[:-1] in THINGS else text


_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Note]]] = [
    (re.compile(r"^(?P<n>\d+) pictures? could not be drawn$"),
     lambda m: Note("pictures_not_drawn", n=int(m["n"]))),
    (re.compile(r"^(?P<n>\d+) (?P<what>.+) left out$"),
     lambda m: Note("left_out", what=_what(m["what"]), n=int(m["n"]))),
    (re.compile(r"^font substituted: (?P<fonts>.+) → Liberation Serif$"),
     lambda m: Note("liberation_serif", **_font_list(m["fonts"]))),
    (re.compile(r"^font substituted: (?P<fonts>.+)$"),
     lambda m: Note("fonts_substituted", **_font_list(m["fonts"]))),
    (re.compile(r"^fonts not embedded in the PDF \((?P<fonts>.+)\) were embedded$"),
     lambda m: Note("fonts_embedded", **_font_list(m["fonts"]))),
    (re.compile(r"^fonts not embedded in the PDF \((?P<fonts>.+)\): printers substitute them$"),
     lambda m: Note("fonts_not_embedded", **_font_list(m["fonts"]))),
    (re.compile(r"^text typed in an old Vietnamese encoding \((?P<fonts>.+)\) comes out "
                r"garbled; ask for a Unicode version$"),
     lambda m: Note("legacy_encoding", **_font_list(m["fonts"]))),
    (re.compile(r"^Word styles shown as plain text: (?P<styles>.+)$"),
     lambda m: Note("plain_styles", styles=m["styles"])),
    (re.compile(r"^(?P<what>.+) removed(?: \((?P<n>\d+)\))?$"),
     lambda m: Note("removed", what=_what(m["what"]), n=int(m["n"] or 1))),
    (re.compile(r"^A damaged part of the file \((?P<part>.+)\) was left out; the text is not "
                r"affected\.$"),
     lambda m: Note("damaged_part", part=m["part"])),
    (re.compile(r"^A linked picture \((?P<name>.+)\) is not inside the file and was left out\. "
                r"Insert the picture itself if it should appear\.$"),
     lambda m: Note("linked_picture", name=m["name"])),
    (re.compile(r"^Linked content \((?P<kind>[^:]+): (?P<target>.*)\) is not inside the file "
                r"and was left out\.$"),
     lambda m: Note("linked_content", kind=m["kind"], target=m["target"])),
]


def from_sentence(sentence: str) -> Note:
    """The coded note for an English sentence an earlier converter stored."""
    sentence = sentence.strip()
    if sentence in _SENTENCES:
        return _SENTENCES[sentence]
    for pattern, note in _PATTERNS:
        match = pattern.match(sentence)
        if match:
            return note(match)
    log.info("a stored note without a code is shown as unrecognised: %r", sentence[:200])
    return Note("unrecognised")
