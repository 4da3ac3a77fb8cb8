"""The parts of a message opened: its text, the messages it forwards, its files.

Every text part is decoded by ``charsets.decode_text`` (the one function). In a
multipart/alternative the plain text is chosen (HTML only when there is none, turned to text);
every other inline text part is kept, in order (a body split around an inline image is not
cut short). A forwarded ``message/rfc822`` is opened whatever its transfer encoding (base64 or
quoted-printable ones are decoded, then parsed) and quoted into the text, its own files kept.
A ``winmail.dat`` (TNEF, from Outlook) is unpacked with tnefparse into its real files and, when
the message has no text of its own, its body (plain, or RTF decompressed and stripped). Broken
structure (a multipart without its boundary, a truncated part) is read as far as it goes and
named in ``defects``; the raw message is always kept whole with the case.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import html
import mimetypes
import quopri
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import Any

import nh3

from .charsets import decode_text, header_bytes, header_text

MAX_DEPTH = 8  # forwarded messages inside forwarded messages, at most
REPORT_PARTS = frozenset(
    {"message/delivery-status", "text/rfc822-headers", "message/disposition-notification"}
)
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})


@dataclass
class MailFile:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class Content:
    pieces: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)  # text/plain, text/html: where text came from
    files: list[MailFile] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)  # a TNEF body, used when nothing else

    @property
    def from_html(self) -> bool:
        return self.kinds == {"text/html"}

    @property
    def text(self) -> str:
        text = "\n\n".join(p for p in self.pieces if p.strip())
        return (text or "\n\n".join(self.fallback)).strip()


def parse_bytes(raw: bytes) -> EmailMessage:
    """The structure only (headers stay raw: ``charsets`` decodes them)."""
    msg = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.compat32)
    assert isinstance(msg, EmailMessage)
    return msg


def raw_header(msg: Message, name: str) -> str | None:
    """A header's value as it came (8-bit bytes as surrogate escapes), or None."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def declared_charsets(msg: Message, depth: int = 0) -> list[str]:
    """Every charset the message's parts declare, forwarded messages' included: the best hint
    for its unlabelled bytes."""
    found: list[str] = []
    for part in msg.walk():
        charset = part.get_param("charset")
        if isinstance(charset, str) and charset.lower() not in found:
            found.append(charset.lower())
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        wrapped = part.get_content_type() == "message/rfc822" and encoding in _ENCODED
        if wrapped and depth < MAX_DEPTH:
            inner = _inner(part, Content())
            if inner is not None:
                found += [c for c in declared_charsets(inner, depth + 1) if c not in found]
    return found


_ENCODED = ("base64", "quoted-printable")


def html_to_text(markup: str) -> str:
    """Sanitised to plain text: scripts and styles dropped, blocks kept as lines."""
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])>", "\n", markup)
    text = html.unescape(nh3.clean(markup, tags=set()))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def payload_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("ascii", "surrogateescape") if isinstance(payload, str) else b""


def part_text(part: Message, prefer: list[str]) -> str:
    charset = part.get_param("charset")
    text = decode_text(payload_bytes(part), charset if isinstance(charset, str) else None, prefer)
    text = text.replace("\x00", "")  # NUL bytes are never a citizen's words
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def filename(part: Message, prefer: list[str]) -> str:
    """The part's file name: RFC 2231 (with its charset) or RFC 2047 words, or the bytes."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value: Any = part.get_param(param, header=header)
        if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded text)
            charset, _language, text = value
            return decode_text(str(text).encode("latin-1", "replace"), charset or None, prefer)
        if isinstance(value, str) and value:
            return header_text(email.utils.unquote(value), prefer).strip()
    return ""


def _inner(part: Message, content: Content) -> Message | None:
    """The forwarded message of a message/rfc822 part, its transfer encoding undone."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding not in ("base64", "quoted-printable") and isinstance(inner, Message):
        return inner
    body = flatten(inner) if isinstance(inner, Message) else payload_bytes(part)
    if encoding == "base64":
        try:
            body = base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", body) + b"==")
        except (binascii.Error, ValueError):
            content.defects.append("ForwardedMessageUndecodable")
    elif encoding == "quoted-printable":
        body = quopri.decodestring(body)
    return parse_bytes(body) if body.strip() else None


def flatten(msg: Message) -> bytes:
    """The message's bytes again; for a damaged one the generator cannot write, its headers
    and text as they were kept."""
    try:
        return msg.as_bytes()
    except (UnicodeError, LookupError, ValueError, TypeError):
        head = "".join(f"{name}: {value}\n" for name, value in msg.raw_items())
        payload = msg.get_payload()
        body = payload if isinstance(payload, str) else ""
        return (head + "\n" + body).encode("utf-8", "surrogateescape")


def _forwarded(part: Message, content: Content, prefer: list[str], depth: int) -> None:
    inner = _inner(part, content)
    if inner is None:
        content.defects.append("EmptyForwardedMessage")
        return
    if depth >= MAX_DEPTH:
        content.defects.append("ForwardedTooDeep")
        return
    quoted = Content()
    _collect(inner, quoted, [*prefer, *declared_charsets(inner)], depth + 1)
    subject = header_text(raw_header(inner, "Subject"), prefer).strip()
    sender = header_text(raw_header(inner, "From"), prefer).strip()
    heading = " · ".join(x for x in (subject, sender) if x)
    content.pieces.append(f"---- {heading} ----\n{quoted.text}")
    content.files += quoted.files
    content.defects += quoted.defects


def _tnef(data: bytes, name: str, content: Content, prefer: list[str]) -> None:
    """A winmail.dat opened into its files and body; kept as it is when it cannot be read."""
    from tnefparse.tnef import TNEF  # tnefparse: a pure-Python TNEF reader

    try:
        tnef = TNEF(data, do_checksum=False)
    except Exception as exc:  # any failure of a third-party reader on untrusted bytes
        content.defects.append(f"TnefUnreadable: {type(exc).__name__}")
        content.files.append(MailFile(name or "winmail.dat", "application/ms-tnef", data))
        return
    codepage = tnef.codepage or "cp1252"
    for index, attachment in enumerate(tnef.attachments):
        long_name = _first(attachment.long_filename()) if attachment.mapi_attrs else ""
        short = _first(attachment._name)
        title = long_name or (
            decode_text(short.rstrip(b"\x00"), codepage, prefer)
            if isinstance(short, bytes)
            else str(short)
        )
        content.files.append(
            MailFile(title.strip("\x00 ") or f"winmail-{index + 1}.bin", "", attachment.data)
        )
    body = _first(tnef.body)
    if isinstance(body, bytes):
        body = decode_text(body.rstrip(b"\x00"), codepage, prefer)
    if not body and tnef.htmlbody:
        markup = _first(tnef.htmlbody)
        body = html_to_text(
            decode_text(markup, codepage, prefer) if isinstance(markup, bytes) else str(markup)
        )
    if not body:
        body = _rtf_text(tnef)
    if body and str(body).strip("\x00 \r\n"):
        content.fallback.append(str(body).strip("\x00 \r\n"))


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _rtf_text(tnef: Any) -> str:
    """The text of an RTF body (compressed in the TNEF): its \\'hh bytes in the code page
    it names (\\ansicpg936 for Chinese Outlook), its \\u characters as they are."""
    try:
        rtf = tnef.rtfbody
        from striprtf.striprtf import rtf_to_text
    except Exception:  # a broken RTF body: the files and the raw message are kept
        return ""
    if not isinstance(rtf, bytes) or not rtf.lstrip().startswith(b"{\\rtf"):
        return ""
    page = re.search(rb"\\ansicpg(\d+)", rtf)
    codec = _codecs_name(f"cp{int(page.group(1))}") if page else "cp1252"
    try:
        return str(rtf_to_text(rtf.decode("latin-1"), encoding=codec, errors="replace"))
    except (ValueError, LookupError, IndexError):
        return ""


def _codecs_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"


def _alternative(children: list[Message]) -> Message | None:
    for wanted in ("text/plain", "multipart/", "text/html"):
        for child in children:
            kind = child.get_content_type()
            if kind == wanted or (wanted.endswith("/") and kind.startswith(wanted)):
                return child
    return children[-1] if children else None


def _collect(part: Message, content: Content, prefer: list[str], depth: int = 0) -> None:
    kind = part.get_content_type()
    payload = part.get_payload()
    if part.get_content_maintype() == "multipart":
        if not isinstance(payload, list):  # no boundary, or a broken one: keep it as text
            content.defects.append("MultipartWithoutParts")
            content.pieces.append(decode_text(payload_bytes(part), None, prefer))
            return
        chosen = _alternative(payload) if kind == "multipart/alternative" else None
        for child in payload:
            if chosen is None or child is chosen:
                _collect(child, content, prefer, depth)
            else:  # the other alternatives: their files only (an HTML's inline images)
                _collect(child, Content(files=content.files), prefer, depth)
        return
    if kind in ("message/rfc822", "message/global"):
        _forwarded(part, content, prefer, depth)
        return
    if kind in REPORT_PARTS:
        return
    name = filename(part, prefer)
    disposition = part.get_content_disposition()
    if kind in ("text/plain", "text/html") and disposition != "attachment" and not name:
        content.pieces.append(part_text(part, prefer).strip())
        content.kinds.add(kind)
        return
    data = payload_bytes(part)
    if kind in TNEF_TYPES or name.lower() == "winmail.dat":
        _tnef(data, name, content, prefer)
        return
    content.files.append(
        MailFile(
            filename=name
            or f"part-{len(content.files) + 1}{mimetypes.guess_extension(kind) or '.bin'}",
            content_type=kind,
            data=data,
            inline=disposition == "inline" or bool(part.get("Content-ID")),
        )
    )


def read_content(msg: Message, prefer: list[str]) -> Content:
    content = Content()
    _collect(msg, content, prefer)
    return content


__all__ = ["Content", "MailFile", "header_bytes", "parse_bytes", "raw_header", "read_content"]
