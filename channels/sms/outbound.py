"""Answers by SMS: how a text is split into SMS parts. Pure.

GSM 03.38 text (Latin letters, digits, common signs) fits 160 characters in one SMS and 153 in
each part of a long one (the rest carries the joining header); anything else (Chinese) is sent
as UCS-2: 70 in one, 67 per part, counted in UTF-16 units, so a character outside the basic
plane counts twice and is never cut in half. Parts are cut at a space or after punctuation
when one is near, so a word or a number is not split across two messages.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€")  # two septets each
BREAKS = " ，。！？；、,.!?;\n"


@dataclass(frozen=True)
class Encoding:
    coding: int  # Kannel's coding: 0 = GSM 7-bit, 2 = UCS-2
    single: int  # units in one SMS
    part: int  # units in each part of a long SMS


GSM = Encoding(0, 160, 153)
UCS2 = Encoding(2, 70, 67)


def encoding_of(text: str) -> Encoding:
    return GSM if all(c in GSM7 or c in GSM7_EXTENDED for c in text) else UCS2


def _units(char: str, encoding: Encoding) -> int:
    if encoding is GSM:
        return 2 if char in GSM7_EXTENDED else 1
    return 2 if ord(char) > 0xFFFF else 1


def split(text: str) -> tuple[Encoding, list[str]]:
    """The encoding and the parts ``text`` is sent as."""
    encoding = encoding_of(text)
    if sum(_units(c, encoding) for c in text) <= encoding.single:
        return encoding, [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        size = _units(char, encoding)
        if used + size > encoding.part:
            cut = max((i + 1 for i, c in enumerate(current) if c in BREAKS), default=0)
            if cut < len(current) // 2:  # no break in the second half: cut where we are
                cut = len(current)
            parts.append("".join(current[:cut]))
            current = current[cut:]
            used = sum(_units(c, encoding) for c in current)
        current.append(char)
        used += size
    if current:
        parts.append("".join(current))
    return encoding, parts
