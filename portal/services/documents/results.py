"""What checking and converting a paper answer: typed values, and refusals with their codes.

The checking child turns a ``CheckResult`` into JSON (``to_json``) and the web process reads
it back (``from_json``): that is the one boundary where these values are JSON.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..errors import InvalidDocument
from .notes import Note, merge

PageSize = list[float]  # [width_pt, height_pt, rotation_degrees] of a page's visible box

MESSAGES: dict[str, LazyString] = {
    "empty": _l(
        "The file is empty (0 bytes). Choose the file of your paper again and upload it."
    ),
    "macros": _l(
        "The file contains macros (VBA or Basic programs), which the portal does not accept. "
        "Save your paper as a Word Document (.docx) without macros or as PDF, then upload it "
        "again."
    ),
    "unsupported_type": _l(
        "This file is neither a PDF nor a Word document (.docx, .doc) nor an OpenDocument text "
        "(.odt). Save your paper as .docx or PDF and upload it again."
    ),
    "encrypted": _l(
        "The file is protected by a password. Save it again without a password to open it, "
        "then upload it."
    ),
    "damaged": _l(
        "The file is damaged and cannot be read. Open your paper on your computer, save it "
        "again as .docx or export it as PDF, then upload the new file."
    ),
    "no_pages": _l(
        "The PDF has no pages. Export your paper to PDF again, or upload the Word document "
        "(.docx) instead."
    ),
    "unreadable_page": _l(
        "A page of the PDF cannot be read. Export your paper to PDF again, or upload the Word "
        "document (.docx) instead."
    ),
    "zip_bomb": _l(
        "The Word file unpacks to far more data than a paper needs, so it was not opened. "
        "Remove very large embedded objects, save the document again, then upload it."
    ),
    "too_complex": _l(
        "The file is too complex to be processed safely (for example, too many pages or a "
        "structure nested too deeply). Save it again as PDF with Word's \"Save as PDF\", or "
        "upload the Word document (.docx), then try again."
    ),
    "timeout": _l(
        "Checking the file took too long, so it was stopped. Save your paper again as .docx "
        "or PDF (making large pictures smaller helps), then upload it."
    ),
    "memory": _l(
        "The file needs too much memory to be checked, so it was stopped. Make large pictures "
        "smaller, save your paper again as .docx or PDF, then upload it."
    ),
    # Not the file's fault: the portal's disk is full (callers answer 503, "storage full").
    "storage_full": _l(
        "The portal could not save your file right now (the storage is full or not "
        "writable). Nothing was stored. Please try again later and tell the Office."
    ),
}

# How a full disk shows in an error's text (qpdf: "QPDFSystemError: No space left on device").
NO_SPACE_SIGNS = ("No space left on device", "Disk quota exceeded", "ENOSPC", "EDQUOT")


def is_no_space(error: BaseException | str | None) -> bool:
    """Whether ``error`` (an exception, or its text) means the disk is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(error or "")
    return any(sign in text for sign in NO_SPACE_SIGNS)


class DocumentRefused(InvalidDocument):
    """An upload is refused. ``code`` is a key of MESSAGES; ``detail`` is for the logs."""

    def __init__(self, code: str, detail: str = "") -> None:
        if code not in MESSAGES:
            detail = f"{code}: {detail}"
            code = "damaged"
        super().__init__(MESSAGES[code])
        self.code = code
        self.detail = detail or code

    def __repr__(self) -> str:
        return f"DocumentRefused({self.code!r}, {self.detail!r})"



@dataclass(frozen=True)
class Converted:
    """The normalised PDF of a paper: its pages and what converting it noted."""

    pages: int
    page_sizes: list[PageSize]
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class CheckResult:
    """An accepted file: its type, pages and notes, and its normalised PDF when one was made.

    ``pages`` and ``page_sizes`` are those of the upload itself (None and [] for a Word file,
    whose pages exist only once converted).
    """

    file_type: str
    pages: int | None = None
    page_sizes: list[PageSize] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    converted: Converted | None = None

    def with_conversion(self, converted: Converted) -> CheckResult:
        return replace(self, converted=converted)

    @property
    def print_pages(self) -> int | None:
        """The pages the booklet prints: the normalised PDF's, else the upload's."""
        return self.converted.pages if self.converted else self.pages

    @property
    def print_page_sizes(self) -> list[PageSize]:
        if self.converted and self.converted.page_sizes:
            return self.converted.page_sizes
        return self.page_sizes

    @property
    def all_notes(self) -> list[Note]:
        """Every fact once: the check's notes, then the conversion's new ones."""
        return merge(self.notes, self.converted.notes if self.converted else [])

    def to_json(self) -> dict[str, Any]:
        converted = None
        if self.converted is not None:
            converted = {"pages": self.converted.pages,
                         "page_sizes": [list(size) for size in self.converted.page_sizes],
                         "notes": [note.to_json() for note in self.converted.notes]}
        return {"file_type": self.file_type, "pages": self.pages,
                "page_sizes": [list(size) for size in self.page_sizes],
                "notes": [note.to_json() for note in self.notes], "converted": converted}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        converted = data.get("converted")
        return cls(
            file_type=str(data["file_type"]),
            pages=data.get("pages"),
            page_sizes=[list(size) for size in data.get("page_sizes") or []],
            notes=[Note.from_json(note) for note in data.get("notes") or []],
            converted=Converted(
                pages=int(converted["pages"]),
                page_sizes=[list(size) for size in converted.get("page_sizes") or []],
                notes=[Note.from_json(note) for note in converted.get("notes") or []],
            ) if converted else None,
        )
