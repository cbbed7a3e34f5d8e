"""What a presenter can do about each conversion note, shown beside the note on the paper's
page so that they fix their own document before the deadline. The notes themselves are stored
in plain English by the checking process (see notes.py); the advice is chosen from the note's
English form and translated when it is shown."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .notes import translate

NOTHING_TO_DO = _l("Nothing to do: the booklet is not affected.")

ADVICE: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"^font substituted"),
     _l("The booklet uses Liberation Serif (like Times New Roman) instead. Check the preview; "
        "if the layout moved, use Times New Roman in your document and upload it again.")),
    (re.compile(r"old Vietnamese encoding"),
     _l("Convert the text to Unicode (for example with Unikey's converter, from TCVN3 or VNI "
        "to Unicode), use a Unicode font such as Times New Roman, and upload it again.")),
    (re.compile(r"^fonts not embedded"),
     _l("Export the PDF again with the fonts embedded (in Word: Save as PDF, Options, "
        "“ISO 19005-1 compliant (PDF/A)”), or upload the Word document (.docx) instead.")),
    (re.compile(r"(chart|equation)s? left out$"),
     _l("Charts and equations are not printed from a Word file. Save your document as PDF "
        "in Word and upload the PDF, so they print as you see them.")),
    (re.compile(r"picture|pictures"),
     _l("Insert the pictures as JPEG or PNG (Insert, Pictures, This device) and upload the "
        "file again, or save it as PDF in Word and upload the PDF.")),
    (re.compile(r"^drawing shapes"),
     _l("Group the shapes and save them as a picture, or save your document as PDF in Word "
        "and upload the PDF.")),
    (re.compile(r"^Word styles shown as plain text"),
     _l("Check the preview: if headings or lists look plain, apply Word's built-in styles "
        "(Heading 1, List Bullet …) and upload the file again.")),
    (re.compile(r"^landscape pages set as portrait"),
     _l("Check the preview: if a wide table is cut, make it fit a portrait A4 page and upload "
        "the file again.")),
    (re.compile(r"no text found|appears to contain no text"),
     _l("If your paper is a scan, this is expected. Otherwise export it again from Word, or "
        "upload the Word document (.docx).")),
    (re.compile(r"^A linked picture"),
     _l("Insert the picture itself into the document and upload the file again.")),
    (re.compile(r"^A damaged part of the file"),
     _l("Check the preview; if something is missing, save the document again in Word and "
        "upload it again.")),
    (re.compile(r"encryption removed|encrypted but opens|digitally signed|repaired|macros|"
                r"XFA form|removed"),
     NOTHING_TO_DO),
]

DEFAULT_ADVICE = _l("Check the preview pages; if something looks wrong, fix it in your "
                    "document and upload it again.")


@dataclass(frozen=True)
class AdvisedNote:
    text: str  # the note, in the reader's language
    advice: str  # what to do about it, in the reader's language


def advise(note: str) -> AdvisedNote:
    note = note.strip()
    for pattern, advice in ADVICE:
        if pattern.search(note):
            return AdvisedNote(translate(note), str(advice))
    return AdvisedNote(translate(note), str(DEFAULT_ADVICE))
