"""Answers by SMS: how a text is split into SMS parts (pure), and sending them through
Kannel's sendsms with a delivery-report URL per part.

GSM 03.38 text (Latin letters, digits, common signs) fits 160 characters in one SMS and 153 in
each part of a long one (the rest carries the joining header); anything else (Chinese) is sent
as UCS-2: 70 in one, 67 per part, counted in UTF-16 units, so a character outside the basic
plane counts twice and is never cut in half. Parts are cut at a space or after punctuation
when one is near, so a word or a number is not split across two messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

import httpx

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


# Sending: Kannel's sendsms interface, one call per part.

DLR_MASK = 1 | 2 | 8 | 16  # delivered, not delivered, accepted by the SMSC, refused by it
TIMEOUT = 15.0


class SendsmsRefused(Exception):
    """Kannel did not take the message (a wrong user, a bad parameter, smsbox down)."""


@dataclass(frozen=True)
class Sendsms:
    """Kannel's sendsms interface: its address and the ``sendsms-user`` to call it as."""

    url: str
    username: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> Sendsms:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the sendsms URL must be http(s)://user:password@host:port/path")
        host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        bare = urlunsplit((parts.scheme, netloc, parts.path or "/cgi-bin/sendsms", "", ""))
        return cls(bare, unquote(parts.username or ""), unquote(parts.password or ""))


def concatenation_header(reference: int, total: int, number: int) -> bytes:
    """The user data header that makes a phone join the parts (8-bit reference)."""
    return bytes([5, 0, 3, reference % 256, total, number])


def sendsms_queries(
    gateway: Sendsms,
    *,
    sender: str,
    receiver: str,
    text: str,
    reference: int,
    dlr_url: str,
    max_parts: int,
) -> list[str]:
    """The query string of each sendsms call for ``text``. ``dlr_url`` gets ``part`` and
    ``of`` added, then Kannel's ``%d`` (report type) and ``%A`` (the SMSC's answer)."""
    encoding, parts = split(text)
    parts = parts[:max_parts]
    queries = []
    for number, part in enumerate(parts, start=1):
        params: dict[str, str | bytes] = {
            "username": gateway.username,
            "password": gateway.password,
            "from": sender,
            "to": receiver,
            "text": part,
            "charset": "UTF-8",
            "coding": str(encoding.coding),
            "dlr-mask": str(DLR_MASK),
            "dlr-url": f"{dlr_url}&part={number}&of={len(parts)}&type=%d&answer=%A",
        }
        if len(parts) > 1:
            params["udh"] = concatenation_header(reference, len(parts), number)
        queries.append(urlencode(params, quote_via=quote))
    return queries


async def send(gateway: Sendsms, queries: list[str]) -> str:
    """Call sendsms once per part; raises ``SendsmsRefused`` when Kannel does not take one
    (the outbox then retries the whole message)."""
    answers = []
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for query in queries:
            try:
                response = await client.get(f"{gateway.url}?{query}")
            except httpx.HTTPError as exc:
                raise SendsmsRefused(f"sendsms unreachable: {type(exc).__name__}") from exc
            if response.status_code >= 300:
                raise SendsmsRefused(f"sendsms {response.status_code}: {response.text[:200]}")
            answers.append(response.text.strip())
    return f"kannel: {len(queries)} part(s): " + "; ".join(answers)
