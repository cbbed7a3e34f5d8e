"""Take out of an uploaded PDF what must not reach the booklet: JavaScript, launch, submit,
import and remote actions, links other than http, https and mailto, embedded files, media,
XFA forms and open actions. Nothing here fetches or opens anything a document names."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name

# PDF actions removed from uploaded PDFs (URI links and in-document jumps stay).
_BAD_ACTIONS = frozenset(
    {
        "/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE",
        "/Rendition", "/Movie", "/Sound", "/RichMediaExecute",
    }
)
_DROPPED_ANNOTATIONS = frozenset({"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia"})


def sanitise_pdf(pdf: pikepdf.Pdf) -> Counter[str]:
    """Remove JavaScript, launch/submit/import/remote actions, links other than http, https
    and mailto, embedded files, media, XFA and open actions from ``pdf`` in place. Returns what
    was removed, counted."""
    removed: Counter[str] = Counter()
    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        for key, label in (("/JavaScript", "JavaScript"), ("/EmbeddedFiles", "embedded files")):
            if key in names:
                del names[key]
                removed[label] += 1
    if "/OpenAction" in root:  # a page to open at is harmless; a script is not
        label = _action_kind(root.get("/OpenAction"))
        if label:
            removed[label] += 1
        del root["/OpenAction"]
    for key, label in (
        ("/AA", "automatic actions"), ("/Collection", "portfolio view"),
        ("/AF", "embedded files"), ("/NeedsRendering", "XFA form"),
    ):
        if key in root:
            del root[key]
            removed[label] += 1
    acroform = root.get("/AcroForm")
    if isinstance(acroform, Dictionary) and "/XFA" in acroform:
        del acroform["/XFA"]
        removed["XFA form"] += 1
    for obj in pdf.objects:
        if isinstance(obj, (Dictionary, pikepdf.Stream)):
            _clean_dictionary(obj, removed, 0)
    return removed


def _action_kind(value: Any) -> str | None:
    if isinstance(value, Dictionary):
        subtype = value.get("/S")
        if isinstance(subtype, Name) and str(subtype) in _BAD_ACTIONS:
            return "JavaScript" if str(subtype) == "/JavaScript" else "unsafe actions"
        if subtype == Name.URI and not is_safe_uri(value.get("/URI")):
            return "unsafe links"
    return None


_SAFE_SCHEME = re.compile(r"^(https?|mailto):", re.IGNORECASE)
_IGNORED_IN_URI = re.compile(r"[\x00-\x20\x7f]")


def is_safe_uri(value: Any) -> bool:
    """Whether a link target is an http, https or mailto URL (javascript:, file:, data:, UNC
    paths, relative and scheme-less targets are not)."""
    if not isinstance(value, pikepdf.String):
        return False
    try:
        text = str(value)
    except (UnicodeDecodeError, ValueError):
        return False
    # Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
    return bool(_SAFE_SCHEME.match(_IGNORED_IN_URI.sub("", text)))


def _annotation_kind(value: Any) -> str | None:
    if isinstance(value, Dictionary) and value.get("/Type", Name.Annot) == Name.Annot:
        subtype = value.get("/Subtype")
        if isinstance(subtype, Name) and str(subtype) in _DROPPED_ANNOTATIONS:
            return "file attachments" if str(subtype) == "/FileAttachment" else "media"
    return None


def _holds_file_spec(value: Any) -> bool:
    items = list(value) if isinstance(value, Array) else [value]
    return any(
        isinstance(item, (Dictionary, pikepdf.Stream))
        and ("/EF" in item or item.get("/Type") == Name.Filespec)
        for item in items
    )


def _clean_dictionary(obj: Any, removed: Counter[str], depth: int) -> None:
    """Drop dangerous keys and values of one dictionary, and of the direct dictionaries and
    arrays inside it (indirect ones are visited on their own)."""
    if depth > 32:
        return
    for key in list(obj.keys()):
        if key == "/AA":
            del obj[key]
            removed["automatic actions"] += 1
            continue
        value = obj.get(key)
        if key in ("/EF", "/RF") or (key == "/AF" and _holds_file_spec(value)):
            del obj[key]
            removed["embedded files"] += 1
            continue
        label = _action_kind(value) or _annotation_kind(value)
        if label:
            del obj[key]
            removed[label] += 1
        elif isinstance(value, Array):
            _clean_array(value, removed, depth + 1)
        elif isinstance(value, Dictionary) and not value.is_indirect:
            _clean_dictionary(value, removed, depth + 1)


def _clean_array(array: Any, removed: Counter[str], depth: int) -> None:
    if depth > 32:
        return
    kept = []
    changed = False
    for item in array:
        label = _action_kind(item) or _annotation_kind(item)
        if label:
            removed[label] += 1
            changed = True
            continue
        if isinstance(item, Dictionary) and not item.is_indirect:
            _clean_dictionary(item, removed, depth + 1)
        elif isinstance(item, Array):
            _clean_array(item, removed, depth + 1)
        kept.append(item)
    if changed:
        array[:] = kept

