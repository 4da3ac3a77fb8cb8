"""What the corpus's message makers share: the registry of messages and their expectations,
and small helpers to write headers, encoded words and multiparts by hand (so each message
has exactly the bytes its class needs)."""

from __future__ import annotations

import base64
import quopri
from pathlib import Path

HERE = Path(__file__).resolve().parent
TO = b"To: 12345@hotline.example.cn\r\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

corpus: dict[str, bytes] = {}
expected: dict[str, dict[str, object]] = {}


CODEC = {"x-gbk": "gbk", "unknown-8bit": "utf-8"}


def b64w(charset: str, text: str | bytes) -> bytes:
    data = text if isinstance(text, bytes) else text.encode(CODEC.get(charset, charset))
    return b"=?" + charset.encode() + b"?B?" + base64.b64encode(data) + b"?="


def qw(charset: str, text: str) -> bytes:
    data = quopri.encodestring(text.encode(CODEC.get(charset, charset)), header=True)
    return b"=?" + charset.encode() + b"?Q?" + data + b"?="


def message(
    name: str,
    *,
    sender: bytes = b"Citizen <citizen@example.cn>",
    subject: bytes = b"",
    mid: str | None = "auto",
    headers: bytes = b"",
    ctype: bytes = b"text/plain; charset=utf-8",
    cte: bytes = b"8bit",
    body: bytes = b"",
    expect: dict[str, object],
) -> None:
    head = b"From: " + sender + b"\r\n" + TO
    if subject:
        head += b"Subject: " + subject + b"\r\n"
    head += b"Date: Tue, 01 Dec 2026 09:30:00 +0800\r\n"
    if mid == "auto":
        mid = f"<{name.removesuffix('.eml')}@corpus.example.cn>"
    if mid:
        head += b"Message-ID: " + mid.encode() + b"\r\n"
    head += headers + b"MIME-Version: 1.0\r\nContent-Type: " + ctype + b"\r\n"
    if cte:
        head += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    corpus[name] = head + b"\r\n" + body
    expected[name] = expect


def multipart(boundary: str, *parts: bytes) -> bytes:
    b = boundary.encode()
    return b"".join(b"--" + b + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + b + b"--\r\n"


def case(subject: str, text: str | list[str] = "", **more: object) -> dict[str, object]:
    texts = [text] if isinstance(text, str) else text
    return {"outcome": "case", "subject": subject, "text_has": [t for t in texts if t], **more}
