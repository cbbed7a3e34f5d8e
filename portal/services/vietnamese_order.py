"""Lists of people in the order Vietnamese offices use: by the given name (the last word of
the full name), then the rest of the name, in Vietnamese letter order (a ă â b c d đ e ê …,
then the tones), with ICU's Vietnamese collation (PyICU): the Unicode Collation Algorithm alone
(pyuca) treats ă, â, ê, ô, ơ, ư as accents on a, e, o, u, which sorts "Ăn" between "An" and
"Anh"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

import icu

T = TypeVar("T")


@lru_cache(maxsize=1)
def _collator() -> icu.Collator:
    collator = icu.Collator.createInstance(icu.Locale("vi_VN"))
    collator.setStrength(icu.Collator.TERTIARY)
    return collator


def name_key(full_name: str) -> tuple[bytes, bytes, bytes]:
    """The sort key of a Vietnamese full name: given name, then family and middle names."""
    words = (full_name or "").split()
    given = words[-1] if words else ""
    rest = " ".join(words[:-1])
    collator = _collator()
    return (collator.getSortKey(given), collator.getSortKey(rest),
            collator.getSortKey(full_name or ""))


def sort_people(items: Iterable[T], name: Callable[[T], str] | None = None) -> list[T]:
    """``items`` (users, or anything ``name`` turns into a full name) in Vietnamese order."""
    get = name or (lambda item: item.full_name)
    return sorted(items, key=lambda item: (name_key(get(item)), getattr(item, "email", "")))
