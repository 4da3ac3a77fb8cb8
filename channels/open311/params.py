"""Open311 parameters, read strictly from the raw query string and body.

One reader for every path, so every parameter obeys the same rules: valid UTF-8, only
characters XML can carry (no NUL, no vertical tab...), each single-valued parameter given once
(or repeated with the same value), comma lists and repetitions merged for the list
parameters. POST parameters may come in the body (form-encoded or multipart) or in the query
string, as the specification's own swagger declares them. A refusal is an ``Open311Error``
naming the parameter as the specification names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from urllib.parse import unquote_to_bytes
from zoneinfo import ZoneInfo

from multipart import (  # litestar's own multipart parser
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
)

from .formats import NOT_XML, Open311Error

MAX_PARAMETERS = 200
MAX_NAME = 100


@dataclass
class Upload:
    name: str
    filename: str
    data: bytes = field(repr=False)


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Open311Error(400, f"{what} is not valid UTF-8") from None


def check_text(name: str, value: str) -> str:
    """Refuse a character XML cannot carry: it would be stored, then break every answer."""
    bad = NOT_XML.search(value)
    if bad:
        char = f"U+{ord(bad.group()):04X}"
        raise Open311Error(400, f"{name} contains a control character ({char}) it may not hold")
    return value


def _pair(name_raw: bytes, value_raw: bytes) -> tuple[str, str]:
    name = _decode(unquote_to_bytes(name_raw.replace(b"+", b" ")), "a parameter name")
    check_text("a parameter name", name)
    if len(name) > MAX_NAME:
        raise Open311Error(400, "a parameter name is too long")
    value = _decode(unquote_to_bytes(value_raw.replace(b"+", b" ")), f"parameter {name}")
    return name, check_text(f"parameter {name}", value)


def parse_urlencoded(raw: bytes) -> list[tuple[str, str]]:
    pairs = []
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        pairs.append(_pair(name, value))
    return pairs


def parse_multipart(
    body: bytes, boundary: str, max_file_bytes: int
) -> tuple[list[tuple[str, str]], list[Upload]]:
    fields: list[tuple[str, str]] = []
    uploads: list[Upload] = []
    segment: MultipartSegment | None = None
    data = bytearray()
    try:
        with PushMultipartParser(boundary.encode("latin-1"), max_segment_count=MAX_PARAMETERS) as p:
            for part in (*p.parse(body), *p.parse(b"")):
                if isinstance(part, MultipartSegment):
                    segment, data = part, bytearray()
                elif part:
                    data.extend(part)
                    if len(data) > max_file_bytes:
                        raise Open311Error(
                            413, f"{segment.name if segment else 'a part'} is too large"
                        )
                elif segment is not None:
                    name = check_text("a parameter name", segment.name)
                    if segment.filename:
                        uploads.append(Upload(name, segment.filename[:255], bytes(data)))
                    else:
                        value = _decode(bytes(data), f"parameter {name}")
                        fields.append((name, check_text(f"parameter {name}", value)))
                    segment = None
            if not p.closed:
                raise Open311Error(400, "the multipart body ends too early")
    except (ParserError, ParserLimitReached):
        raise Open311Error(400, "the body is not a valid multipart/form-data document") from None
    return fields, uploads


class Params:
    """The parameters of one request: a multi-dict of checked strings, plus any files."""

    def __init__(self, pairs: list[tuple[str, str]], uploads: list[Upload] | None = None) -> None:
        if len(pairs) > MAX_PARAMETERS:
            raise Open311Error(400, f"at most {MAX_PARAMETERS} parameters")
        self.pairs = pairs
        self.uploads = uploads or []
        self._by_name: dict[str, list[str]] = {}
        for name, value in pairs:
            self._by_name.setdefault(name, []).append(value)

    def names(self) -> list[str]:
        return list(self._by_name)

    def all(self, name: str) -> list[str]:
        return self._by_name.get(name, [])

    def one(self, name: str) -> str:
        """A single-valued parameter, stripped; "" when absent. Repeated with different
        values is refused (which one the client meant cannot be known)."""
        values = {v.strip() for v in self.all(name)}
        values.discard("")
        if len(values) > 1:
            raise Open311Error(400, f"{name} was given more than once with different values")
        return values.pop() if values else ""

    def listed(self, name: str) -> list[str]:
        """A list parameter: comma-separated, repeated, or both; in order, without repeats."""
        seen: dict[str, None] = {}
        for value in self.all(name):
            for item in value.split(","):
                if item.strip():
                    seen[item.strip()] = None
        return list(seen)


async def read_params(query: bytes, body: bytes, content_type: str, max_file_bytes: int) -> Params:
    pairs = parse_urlencoded(query)
    uploads: list[Upload] = []
    kind, _, options = content_type.partition(";")
    kind = kind.strip().lower()
    if body:
        if kind == "application/x-www-form-urlencoded":
            pairs += parse_urlencoded(body)
        elif kind == "multipart/form-data":
            boundary = re.search(r'boundary="?([^";]+)"?', options)
            if boundary is None:
                raise Open311Error(400, "the multipart body names no boundary")
            fields, uploads = parse_multipart(body, boundary.group(1), max_file_bytes)
            pairs += fields
        else:
            raise Open311Error(
                415, "the body must be application/x-www-form-urlencoded or multipart/form-data"
            )
    return Params(pairs, uploads)


_SPACE_FOR_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def parse_date(value: str, name: str, tz: ZoneInfo) -> datetime | None:
    """A W3C date and time. ``+08:00`` sent unencoded arrives as `` 08:00`` (a ``+`` in a
    query string is a space): read it as the offset it was. A date alone is that day's start
    in the hotline's time zone; a time without a zone is refused (it could be any)."""
    if not value:
        return None
    text = _SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        if "T" not in text and "t" not in text:
            return datetime.combine(date.fromisoformat(text), time(), tz)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(
            400, f"{name} must be a W3C date and time, e.g. 2026-01-31T08:00:00+08:00"
        ) from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{name} must include a time zone (Z or +08:00)")
    return parsed
