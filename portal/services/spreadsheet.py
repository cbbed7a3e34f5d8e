"""Text leaving the portal for a spreadsheet (the Office's CSV and Excel downloads): one rule for
neutralising a cell and one way of writing a CSV file that Excel opens in Vietnamese."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

# A formula character at the start of a cell, or right after a ";" or "," (where a spreadsheet
# that splits on the other list separator would start a cell).
_FORMULA_START = re.compile(r"(^|[;,])(\s*)([=+\-@\t\r])")


def cell(value: str | None) -> str:
    """A text cell that a spreadsheet will not run as a formula, whichever list separator it
    uses (Vietnamese settings often use ``;``): every formula character that could start a
    cell gets a ``'`` before it. ``excel_csv`` also quotes every cell, so a ``;``, ``,``,
    quote or line break stays inside its cell."""
    return _FORMULA_START.sub(lambda m: f"{m.group(1)}{m.group(2)}'{m.group(3)}", value or "")


def excel_csv(rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 with a BOM (so Excel shows Vietnamese), CRLF line ends, every cell quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
