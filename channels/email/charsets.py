"""Bytes -> text, one way for every header and body part of a message (and a fax's mail).

The order is the careful mail readers' one: the declared charset, read as its known superset
(a "gb2312" label usually carries GBK, "big5" carries HKSCS, "latin1" carries Windows-1252);
then UTF-8; then a detector (charset-normalizer) for bytes nobody labelled, narrowed to the
charsets real mail uses and preferring the message's own declared charsets and Chinese. A
Latin-1 or ASCII label reads any byte, so valid UTF-8 under it (a common mislabel) is UTF-8.
A label that fits all but a few bytes is kept, with U+FFFD for the bad bytes only: a UTF-8
body with one bad byte stays UTF-8, never GB18030 mojibake. The raw bytes are always kept
with the case, so a wrong guess can be read again.

RFC 2047 encoded words are decoded here too (``header_text``), adjacent words of one charset
joined as bytes first (a character split across two words survives), raw 8-bit header bytes
decoded like unlabelled body bytes.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from collections.abc import Iterable
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Label -> the codecs that read what senders really put under it, in order.
SUPERSETS: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gb_2312-80": ("gb18030",),
    "gb-2312": ("gb18030",),
    "csgb2312": ("gb18030",),
    "euc-cn": ("gb18030",),
    "chinese": ("gb18030",),
    "gbk": ("gb18030",),
    "x-gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "ms936": ("gb18030",),
    "windows-936": ("gb18030",),
    "x-mac-chinesesimp": ("gb18030",),
    "gb18030": ("gb18030",),
    "hz-gb-2312": ("hz",),
    "big5": ("big5hkscs", "cp950"),
    "x-big5": ("big5hkscs", "cp950"),
    "big5-hkscs": ("big5hkscs", "cp950"),
    "cn-big5": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_2004"),
    "shift_jis": ("cp932", "shift_jis_2004"),
    "x-sjis": ("cp932", "shift_jis_2004"),
    "sjis": ("cp932", "shift_jis_2004"),
    "euc-jp": ("euc_jp", "euc_jis_2004"),
    "euc-kr": ("cp949",),
    "ks_c_5601-1987": ("cp949",),
    "iso-8859-1": ("cp1252", "latin-1"),
    "latin1": ("cp1252", "latin-1"),
    "latin-1": ("cp1252", "latin-1"),
    "l1": ("cp1252", "latin-1"),
    "iso-8859-9": ("cp1254", "iso8859-9"),
    "tis-620": ("cp874",),
    "utf8": ("utf-8",),
    "unicode-1-1-utf-8": ("utf-8",),
    "x-unicode20utf8": ("utf-8",),
}
# Labels that say nothing: read as unlabelled bytes.
UNLABELLED = {"", "unknown-8bit", "x-unknown", "unknown", "default", "charset", "8bit", "binary"}
# What the detector may choose (real mail; never UTF-16 or EBCDIC for 8-bit mail text), in
# the order a near tie is broken: this is a hotline of mainland China first.
PLAUSIBLE = (
    "gb18030",
    "big5hkscs",
    "cp1252",
    "cp932",
    "cp949",
    "euc_jp",
    "cp1251",
    "koi8_r",
    "cp1250",
    "iso8859_15",
    "cp1254",
    "cp1253",
    "cp1255",
    "cp1256",
    "cp874",
)
NEAR_TIE = 0.1  # detector chaos within this of the best counts as a tie
# an encoded word; one that lost its closing "?=" at the end of the header is taken too
ENCODED_WORD = re.compile(
    rb"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)(?:\?=|\??$)",
)
# Labels that read any byte: UTF-8 sent under them (a common mislabel) is UTF-8.
SINGLE_BYTE = frozenset({"cp1252", "latin-1", "iso8859-1", "iso8859-15", "ascii"})
FOLD = re.compile(rb"\r?\n(?=[ \t])")


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # the codec that was used
    exact: bool  # every byte read without a replacement


def _codecs(label: str | None) -> tuple[str, ...]:
    name = (label or "").strip().strip("\"'").lower()
    if name in UNLABELLED:
        return ()
    if name in SUPERSETS:
        return SUPERSETS[name]
    try:
        codec = codecs.lookup(name).name
        "a".encode(codec).decode(codec)  # a text encoding that reads bytes (not "undefined")
    except (LookupError, ValueError, UnicodeError):  # unknown, or not a name at all
        return ()
    return (codec,)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):
        return None


def _mostly(data: bytes, codec: str) -> str | None:
    """The text when the codec reads all but a few bytes (at least four good non-ASCII
    characters for each bad spot), with U+FFFD for the bad ones; else None."""
    try:
        text = data.decode(codec, errors="replace")
    except (UnicodeError, LookupError):
        return None
    bad = text.count("\ufffd")
    good = sum(1 for c in text if ord(c) > 0x7F) - bad
    return text if good >= 4 * bad else None


def detect(data: bytes, prefer: Iterable[str] = ()) -> str | None:
    """The codec a detector finds for unlabelled bytes (None when none fits): the
    message's own declared charsets first, then the plausible ones; a near tie goes to the
    earlier one in that order."""
    order = [*dict.fromkeys([*(c for label in prefer for c in _codecs(label)), *PLAUSIBLE])]
    normalised = {codecs.lookup(c).name: c for c in order}
    found = from_bytes(data, cp_isolation=list(normalised))
    usable = [
        (match.chaos, normalised[name])
        for match in found
        for name in (codecs.lookup(c).name for c in match.could_be_from_charset)
        if name in normalised
    ]
    if not usable:
        return None
    best = min(chaos for chaos, _ in usable)
    near = {codec for chaos, codec in usable if chaos <= best + NEAR_TIE}
    return next(c for c in order if c in near)


def decode_bytes(data: bytes, declared: str | None = None, prefer: Iterable[str] = ()) -> Decoded:
    """Text from bytes: ``declared`` (through its supersets), then UTF-8, then the detector
    (``prefer``: the charsets the rest of the message declares), never an exception."""
    if not data:
        return Decoded("", "ascii", True)
    labelled = _codecs(declared)
    if labelled and labelled[0] in SINGLE_BYTE and not data.isascii():
        text = _strict(data, "utf-8")  # valid UTF-8 with accents is no Latin-1 by chance
        if text is not None:
            return Decoded(text, "utf-8", True)
    for codec in (*labelled, "utf-8"):
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, codec, True)
    for codec in labelled:  # the label fits all but a few bytes: keep it
        text = _mostly(data, codec)
        if text is not None:
            return Decoded(text, codec, False)
    prefer = list(prefer)
    for codec in (c for label in prefer for c in _codecs(label)):
        text = _strict(data, codec)
        if text is not None and codec != "utf-8":
            return Decoded(text, codec, True)
    text = _mostly(data, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", False)
    guessed = detect(data, prefer)
    if guessed is not None:
        text = _strict(data, guessed)
        if text is not None:
            return Decoded(text, guessed, True)
    codec = labelled[0] if labelled else "utf-8"
    return Decoded(data.decode(codec, errors="replace"), codec, False)


def decode_text(data: bytes, declared: str | None = None, prefer: Iterable[str] = ()) -> str:
    return decode_bytes(data, declared, prefer).text


def _word_bytes(encoding: bytes, payload: bytes) -> bytes:
    if encoding in (b"q", b"Q"):
        return quopri.decodestring(payload.replace(b"_", b" "), header=True)
    cleaned = re.sub(rb"[^A-Za-z0-9+/]", b"", payload)
    if len(cleaned) % 4 == 1:  # a truncated word: its last character carries no whole byte
        cleaned = cleaned[:-1]
    try:
        return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return payload


def header_bytes(value: str | bytes) -> bytes:
    """A header value as the bytes that came (the email package keeps 8-bit header bytes as
    surrogate escapes), unfolded."""
    if isinstance(value, str):
        try:
            value = value.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:  # real characters (a header set by code, not parsed)
            value = value.encode("utf-8", "surrogateescape")
    return FOLD.sub(b"", value)


def header_text(value: str | bytes | None, prefer: Iterable[str] = ()) -> str:
    """A header's text: encoded words decoded (adjacent ones of one charset joined first,
    whitespace between them dropped), raw 8-bit runs decoded as unlabelled bytes."""
    if value is None:
        return ""
    raw = header_bytes(value)
    prefer = list(prefer)
    pieces: list[tuple[bytes, str | None]] = []  # (bytes, charset or None for plain)
    position = 0
    for match in ENCODED_WORD.finditer(raw):
        between = raw[position : match.start()]
        follows_word = bool(pieces) and pieces[-1][1] is not None
        if between and not (follows_word and not between.strip()):
            pieces.append((between, None))
        charset = match.group(1).decode("ascii", "replace").lower()
        data = _word_bytes(match.group(2), match.group(3))
        if pieces and pieces[-1][1] == charset:
            pieces[-1] = (pieces[-1][0] + data, charset)
        else:
            pieces.append((data, charset))
        position = match.end()
    if position < len(raw):
        pieces.append((raw[position:], None))
    return "".join(
        decode_text(data, charset, prefer) if charset else _plain(data, prefer)
        for data, charset in pieces
    )


def _plain(data: bytes, prefer: list[str]) -> str:
    if b"\x1b" in data:  # raw ISO-2022 (7-bit, with escapes), as old Japanese mail sends
        for codec in SUPERSETS["iso-2022-jp"]:
            text = _strict(data, codec)
            if text is not None:
                return text
    if data.isascii():
        return data.decode("ascii")
    return decode_text(data, None, prefer)
