"""Raw e-mail -> a typed ``ParsedMail`` -> a ``Submission``. Pure functions, no I/O.

The standard library reads the structure; every header and body part is decoded by one
function (``charsets``: the declared charset through its supersets, then UTF-8, then a
detector), the parts are opened by ``parts`` (forwarded messages in any transfer encoding,
winmail.dat), automatic mail is told apart by ``automatic``. HTML is never kept as HTML.

A message's identity is its Message-ID *and* a digest of what its sender wrote (the headers
that make it, and the body): a re-delivered or re-read copy is the same message, a reused
Message-ID with other content is a new one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from hotline.core.cases import tracking
from hotline.core.intake.submission import AttachmentIn, ContactIn, Submission
from hotline.core.storage.enums import CaseKind, ContactKind
from hotline.core.storage.files import ALLOWED_TYPES, sniff

from .automatic import bounced, classify, ids
from .charsets import header_bytes, header_text
from .parts import MailFile, declared_charsets, html_to_text, parse_bytes, raw_header, read_content

NUMBER_IN_SUBJECT = re.compile(r"(?<!\d)(\d{4}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d)(?!\d)")
# The headers that make a message what its sender wrote (not the ones relays add).
IDENTITY = ("message-id", "from", "to", "cc", "subject", "date", "in-reply-to", "references")
MAX_HEADER_CHARS = 300
HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")

__all__ = ["MailFile", "MailParseError", "ParsedMail", "html_to_text", "parse_mail"]


class MailParseError(ValueError):
    """The bytes are not a message the hotline can read; the reason says why."""


@dataclass
class ParsedMail:
    message_id: str | None
    from_address: str
    from_name: str
    to: list[str]
    subject: str
    text: str
    digest: str = ""  # what the sender wrote, see ``content_digest``
    date: datetime | None = None
    from_html: bool = False
    files: list[MailFile] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    # the kind of automatic mail (automatic.KINDS) when no person wrote it, and why
    automatic: str | None = None
    automatic_why: str = ""
    bounced: list[str] = field(default_factory=list)  # Message-IDs of ours that failed
    bounce_reason: str = ""
    defects: list[str] = field(default_factory=list)

    def tracking_numbers(self) -> list[str]:
        """Valid tracking numbers written in the subject."""
        found = (tracking.clean(m) for m in NUMBER_IN_SUBJECT.findall(self.subject))
        return [n for n in found if tracking.is_valid(n)]


def content_digest(raw: bytes) -> str:
    """SHA-256 of what the sender wrote: the identity headers (unfolded, spaces collapsed)
    and the body (line ends and trailing spaces evened out). Relays' headers (Received,
    Delivered-To, Return-Path, spam scores) do not count: a copy delivered twice is the same.
    The body starts at the first line that is no header (as the parser reads it), so a
    message without the blank line loses none of its words to the digest."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    headers: list[bytes] = []
    start = 1 if lines and lines[0].startswith(b"From ") else 0  # an mbox separator
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip():
            start = index + 1
            break
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1] += b" " + line.strip()
        elif HEADER_LINE.match(line):
            headers.append(line)
        else:  # not a header: the body begins here
            start = index
            break
    else:
        start = len(lines)
    digest = hashlib.sha256()
    kept: dict[bytes, list[bytes]] = {}
    for line in headers:
        name, _, value = line.partition(b":")
        if name.strip().lower().decode("latin-1") in IDENTITY:
            kept.setdefault(name.strip().lower(), []).append(re.sub(rb"\s+", b" ", value).strip())
    for name in sorted(kept):
        for value in kept[name]:
            digest.update(name + b":" + value + b"\n")
    digest.update(b"\n")
    digest.update(b"\n".join(line.rstrip() for line in lines[start:]).rstrip(b"\n"))
    return digest.hexdigest()


def _addresses(value: str | None) -> list[tuple[str, str]]:
    try:
        return getaddresses([header_bytes(value or "").decode("ascii", "surrogateescape")])
    except (ValueError, IndexError, TypeError):
        return []


def parse_mail(raw: bytes) -> ParsedMail:
    """Read one message. Raises ``MailParseError`` when it has no readable sender."""
    if not raw.strip():
        raise MailParseError("empty message")
    msg = parse_bytes(raw)
    defects = [type(d).__name__ for d in msg.defects]
    prefer = declared_charsets(msg)
    senders = _addresses(raw_header(msg, "From"))
    name, address = senders[0] if senders else ("", "")
    address = header_text(address, prefer).strip()
    if not address or "@" not in address:
        raise MailParseError("no sender address (From)")
    subject = re.sub(r"\s+", " ", header_text(raw_header(msg, "Subject"), prefer)).strip()
    try:
        content = read_content(msg, prefer)
    except (LookupError, ValueError, TypeError, AssertionError, RecursionError) as exc:
        raise MailParseError(f"unreadable body: {type(exc).__name__}: {exc}") from exc
    date = None
    if raw_header(msg, "Date") is not None:
        try:
            date = parsedate_to_datetime(header_text(raw_header(msg, "Date")))
        except (TypeError, ValueError, IndexError):
            defects.append("InvalidDate")
    automatic = classify(msg, address, subject)
    kind = automatic.kind if automatic else None
    returned, reason = bounced(msg, content.text) if kind == "bounce" else ([], "")
    message_ids = ids(header_text(raw_header(msg, "Message-ID")))
    recipients = [*_addresses(raw_header(msg, "To")), *_addresses(raw_header(msg, "Cc"))]
    return ParsedMail(
        message_id=message_ids[0] if message_ids else None,
        from_address=address,  # normalised by intake, as every contact is
        from_name=re.sub(r"\s+", " ", header_text(name, prefer)).strip().strip("\"'"),
        to=[header_text(a) for _, a in recipients if a],
        subject=subject[:MAX_HEADER_CHARS],
        text=content.text,
        digest=content_digest(raw),
        date=date,
        from_html=content.from_html,
        files=content.files,
        in_reply_to=ids(header_text(raw_header(msg, "In-Reply-To"))),
        references=ids(header_text(raw_header(msg, "References"))),
        automatic=kind,
        automatic_why=automatic.why if automatic else "",
        bounced=returned,
        bounce_reason=reason,
        defects=[*defects, *content.defects],
    )


@dataclass(frozen=True)
class Limits:
    """What the hotline accepts per message (the site's attachment settings)."""

    max_bytes: int
    max_files: int
    max_text: int = 20_000  # longer text is cut (the whole message stays in the raw)


CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002a6df]")
PURPOSE_KIND = {"director": CaseKind.DIRECTOR_MAILBOX}


def external_id(mail: ParsedMail, purpose: str) -> str:
    """What makes a second copy of a message a duplicate, per mailbox: the digest of its
    Message-ID with what its sender wrote (``content_digest``). The same message read again
    (a lost cursor, a renumbered mailbox, an import replayed, a copy delivered twice) is
    known; another message under a reused Message-ID is not. The Message-ID follows (when it
    fits), for the answer's In-Reply-To."""
    identity = f"{purpose[:16]}:{mail.digest}"
    if mail.message_id and len(identity) + 1 + len(mail.message_id) <= 255:
        return f"{identity} {mail.message_id}"
    return identity


def accepted_files(
    files: list[MailFile], limits: Limits
) -> tuple[list[AttachmentIn], list[dict[str, str]]]:
    """The files the hotline keeps, and the ones it refuses with the reason (the message itself
    is never refused for a bad file: it is kept whole, raw, and the refusal noted)."""
    kept: list[AttachmentIn] = []
    refused: list[dict[str, str]] = []
    for file in files:
        sniffed = sniff(file.data)
        if len(file.data) > limits.max_bytes:
            reason = "too_large"
        elif sniffed not in ALLOWED_TYPES:
            reason = "type_not_accepted"  # executables and the unknown, whatever the name says
        elif len(kept) >= limits.max_files:
            reason = "too_many"
        else:
            kept.append(AttachmentIn(filename=file.filename[:255], data=file.data))
            continue
        refused.append({"filename": file.filename[:255], "reason": reason})
    return kept, refused


def to_submission(
    mail: ParsedMail,
    raw: bytes,
    *,
    purpose: str,
    limits: Limits,
    tracking_number: str | None = None,
    channel: str = "email",
) -> Submission:
    """The message as intake takes it: the sender as the contact, the body (or the subject of
    a message without one) as the text, the files it may keep, the raw bytes for inspection."""
    attachments, refused = accepted_files(mail.files, limits)
    text = mail.text or mail.subject
    cut = len(text) > limits.max_text
    text = text[: limits.max_text]
    language = "zh_CN" if CJK.search(f"{mail.subject}{text}") else "en"
    meta: dict[str, Any] = {"mailbox": purpose, "to": mail.to[:10]}
    if mail.message_id:
        meta["message_id"] = mail.message_id
    if mail.from_html:
        meta["from_html"] = True
    if refused:
        meta["refused_files"] = refused
    if mail.defects:
        meta["defects"] = mail.defects[:10]
    if cut:
        meta["text_cut"] = len(mail.text)
    return Submission(
        channel=channel,
        external_id=external_id(mail, purpose),
        kind=PURPOSE_KIND.get(purpose, CaseKind.COMPLAINT),
        subject=mail.subject[:300],
        text=text,
        language=language,
        citizen_name=mail.from_name[:200] or None,
        contacts=[ContactIn(kind=ContactKind.EMAIL, value=mail.from_address)],
        tracking_number=tracking_number,
        attachments=attachments,
        raw=raw,
        meta=meta,
    )
