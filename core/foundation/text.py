"""Text strangers send, checked and normalised the same way on every database and channel.

Two rules, applied at the edge before anything is stored or queried:

- **Refused**: NUL and the other C0 control characters (tab, line feed and carriage return
  excepted), DEL, the C1 controls (U+0080-U+009F), lone surrogates (they cannot be encoded as
  UTF-8, so PostgreSQL and SQLite would disagree about them) and the non-characters U+FFFE and
  U+FFFF. ``bad_text`` names the first problem; the form or API answers 400 and stores nothing.
- **Normalised** (NFKC): codes and numbers people type, so full-width digits and letters from a
  Chinese input method (``１２３``, ``ＡＢＣ``) mean what they look like.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

ALLOWED_CONTROLS = frozenset("\t\n\r")
# C0 without tab/LF/CR, DEL, C1, surrogates, the two non-characters at the end of the BMP.
_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# The same minus line breaks and tabs: one-line fields (names, codes, numbers, subjects).
_BAD_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def bad_text(value: str, *, one_line: bool = False) -> str | None:
    """Why ``value`` cannot be taken (``control_character`` or ``not_unicode``), or None."""
    found = (_BAD_LINE if one_line else _BAD).search(value)
    if found is None:
        return None
    return "not_unicode" if "\ud800" <= found.group() <= "\udfff" else "control_character"


# Spaces (not control characters: those stay, to be refused) and the dashes people type.
_SPACES_AND_DASHES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000\-\u2010-\u2015\u2212\u30fc]")


def code(value: str) -> str:
    """A code or number as typed: NFKC (full-width to ASCII), spaces and dashes dropped."""
    return _SPACES_AND_DASHES.sub("", unicodedata.normalize("NFKC", value))


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def walk(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a nested structure (dicts' keys too), with a dotted path to it."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield where, key
            yield from walk(item, where)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}.{index}" if path else str(index))


def first_bad(fields: dict[str, list[str]] | dict[str, str]) -> tuple[str, str] | None:
    """The first field (name, problem code) of a form whose name or value is not text."""
    for name, where_value in walk(fields):
        problem = bad_text(where_value)
        if problem:
            return name.split(".", 1)[0] or "form", problem
    return None
