"""Raw e-mail -> a typed ``ParsedMail`` -> a ``Submission``. Pure functions, no I/O.

The standard library's modern policy reads the structure (RFC 2047 words, RFC 2231 file
names); bodies are decoded here, with the Chinese charsets read as their supersets (a
"gb2312" label usually carries GBK, "big5" carries HKSCS). HTML is never kept as HTML: nh3 (the
ammonia sanitiser) strips it to text. Auto-replies, bounces and delivery reports are told
apart so they never become cases; a bounce names the message of ours that failed.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import nh3

from hotline.core import tracking
from hotline.core.enums import CaseKind, ContactKind
from hotline.core.storage import ALLOWED_TYPES, sniff
from hotline.core.submission import AttachmentIn, ContactIn, Submission

SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
}
AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|out of (the )?office|自动回复|自動回覆|休假|外出)", re.I
)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery status notification|delivery failure|returned mail|mail delivery"
    r" failed|退信|投递失败|系统退信)",
    re.I,
)
DAEMONS = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
NUMBER_IN_SUBJECT = re.compile(r"(?<!\d)(\d{4}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d)(?!\d)")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
REPORT_PARTS = (
    "message/delivery-status",
    "text/rfc822-headers",
    "message/disposition-notification",
)


class MailParseError(ValueError):
    """The bytes are not a message the hotline can read; the reason says why."""


@dataclass
class MailFile:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str | None
    from_address: str
    from_name: str
    to: list[str]
    subject: str
    text: str
    date: datetime | None = None
    from_html: bool = False
    files: list[MailFile] = field(default_factory=list)
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    # "auto_reply", "bounce" or "report" when the message is not a citizen's writing
    automatic: str | None = None
    bounced: list[str] = field(default_factory=list)  # Message-IDs of ours that failed
    bounce_reason: str = ""
    defects: list[str] = field(default_factory=list)

    def tracking_numbers(self) -> list[str]:
        """Valid tracking numbers written in the subject."""
        found = (tracking.clean(m) for m in NUMBER_IN_SUBJECT.findall(self.subject))
        return [n for n in found if tracking.is_valid(n)]


def _charset(part: Message) -> str:
    declared = (part.get_content_charset() or "utf-8").lower()
    return SUPERSETS.get(declared, declared)


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = _charset(part)
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError):
        for fallback in ("utf-8", "gb18030", "big5hkscs"):
            try:
                return payload.decode(fallback)
            except UnicodeDecodeError:
                continue
        return payload.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    """Sanitised to plain text: scripts and styles dropped, blocks kept as lines."""
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])>", "\n", markup)
    text = html.unescape(nh3.clean(markup, tags=set()))
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _ids(value: str | None) -> list[str]:
    return MESSAGE_ID.findall(str(value or ""))


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError) as exc:  # a header the policy cannot read
        raw = msg.get_all(name, failobj=[]) if hasattr(msg, "get_all") else []
        return str(raw[0]) if raw else f"(unreadable: {type(exc).__name__})"
    return "" if value is None else str(value)


def _automatic(msg: Message, sender: str, subject: str) -> str | None:
    if msg.get("X-Hotline-Case"):
        return "loop"  # one of our own messages came back
    if msg.get_content_type() == "multipart/report":
        kind = str(msg.get_param("report-type") or "").lower()
        if kind != "delivery-status":
            return "report"  # read receipts and other notifications
        # a delay or a relay is news, not a failure
        actions = re.findall(r"(?im)^Action:\s*(\w+)", msg.as_string())
        return "bounce" if "failed" in [a.lower() for a in actions] or not actions else "report"
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return "auto_reply"
    if _header(msg, "Precedence").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "auto_reply"
    if any(msg.get(h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")):
        if AUTO_SUBJECT.search(subject) or msg.get("X-Autoreply") or msg.get("X-Autorespond"):
            return "auto_reply"
    if DAEMONS.match(sender) or BOUNCE_SUBJECT.search(subject):
        return "bounce" if DAEMONS.match(sender) or _header(msg, "Return-Path") == "<>" else None
    if AUTO_SUBJECT.search(subject):
        return "auto_reply"
    return None


def _bounced(msg: Message) -> tuple[list[str], str]:
    """The Message-IDs a bounce returns (from its attached original or headers) and why."""
    ids: list[str] = []
    reason = ""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload() if part.is_multipart() else []:
                status = block.get("Diagnostic-Code") or block.get("Status")
                if status and not reason:
                    reason = str(status)[:300]
        elif kind in ("message/rfc822", "text/rfc822-headers"):
            if kind == "message/rfc822" and part.is_multipart():
                inner = part.get_payload()[0]
                ids += _ids(inner.get("Message-ID"))
            else:
                headers = email.message_from_bytes(
                    part.get_payload(decode=True) or b"", policy=email.policy.compat32
                )
                ids += _ids(headers.get("Message-ID"))
    if not ids:  # a plain-text bounce quotes the original's headers
        body = msg.get_body(preferencelist=("plain",)) if isinstance(msg, EmailMessage) else None
        text = _decode(body) if body is not None else ""
        ids = [m for m in re.findall(r"Message-ID:\s*(<[^<>\s]+>)", text, re.I)]
        reason = reason or next(
            (line.strip() for line in text.splitlines() if re.search(r"\b5\.\d\.\d\b", line)), ""
        )
    return ids, reason[:300]


def _body_and_files(msg: EmailMessage) -> tuple[str, bool, list[MailFile]]:
    files: list[MailFile] = []
    body = msg.get_body(preferencelist=("plain", "html"))
    text, from_html = "", False
    if body is not None:
        if body.get_content_type() == "text/html":
            text, from_html = html_to_text(_decode(body)), True
        else:
            text = _decode(body)
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and part.is_multipart():  # a forwarded message: quoted
            inner = part.get_payload()[0]
            forwarded = inner.get_body(preferencelist=("plain", "html"))
            quoted = ""
            if forwarded is not None:
                quoted = _decode(forwarded)
                if forwarded.get_content_type() == "text/html":
                    quoted = html_to_text(quoted)
            text += f"\n\n---- {inner.get('Subject', '')} ----\n{quoted}"
            continue
        if part is body or part.is_multipart() or kind in REPORT_PARTS:
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename() or ""
        if kind in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            continue  # the alternative of the body, or the forwarded message's own body
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        files.append(
            MailFile(
                filename=filename
                or f"part-{len(files) + 1}{mimetypes.guess_extension(kind) or '.bin'}",
                content_type=kind,
                data=data,
                inline=disposition == "inline" or bool(part.get("Content-ID")),
            )
        )
    return text.strip(), from_html, files


def parse_mail(raw: bytes) -> ParsedMail:
    """Read one message. Raises ``MailParseError`` when it has no readable sender."""
    if not raw.strip():
        raise MailParseError("empty message")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):
        raise MailParseError("not a message")
    defects = [type(d).__name__ for d in msg.defects]
    try:
        senders = getaddresses([_header(msg, "From")])
    except (ValueError, IndexError):
        senders = []
    name, address = senders[0] if senders else ("", "")
    if not address or "@" not in address:
        raise MailParseError("no sender address (From)")
    subject = re.sub(r"\s+", " ", _header(msg, "Subject")).strip()[:300]
    try:
        text, from_html, files = _body_and_files(msg)
    except (LookupError, ValueError, TypeError, AssertionError) as exc:
        raise MailParseError(f"unreadable body: {type(exc).__name__}: {exc}") from exc
    try:
        date = parsedate_to_datetime(_header(msg, "Date")) if msg.get("Date") else None
    except (TypeError, ValueError, IndexError):
        date, defects = None, [*defects, "InvalidDate"]
    automatic = _automatic(msg, address, subject)
    bounced, reason = _bounced(msg) if automatic == "bounce" else ([], "")
    message_ids = _ids(_header(msg, "Message-ID"))
    return ParsedMail(
        message_id=message_ids[0] if message_ids else None,
        from_address=address.strip(),  # normalised by intake, as every contact is
        from_name=name.strip(),
        to=[a for _, a in getaddresses([_header(msg, "To"), _header(msg, "Cc")]) if a],
        subject=subject,
        text=text,
        date=date,
        from_html=from_html,
        files=files,
        in_reply_to=_ids(_header(msg, "In-Reply-To")),
        references=_ids(_header(msg, "References")),
        automatic=automatic,
        bounced=bounced,
        bounce_reason=reason,
        defects=defects,
    )


@dataclass(frozen=True)
class Limits:
    """What the hotline accepts per message (the site's attachment settings)."""

    max_bytes: int
    max_files: int


CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002a6df]")
PURPOSE_KIND = {"director": CaseKind.DIRECTOR_MAILBOX}


def external_id(mail: ParsedMail, raw: bytes) -> str:
    """What makes a second fetch of the same message a duplicate: its Message-ID, or, for a
    message without one, its bytes' digest."""
    if mail.message_id and len(mail.message_id) <= 255:
        return mail.message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


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
    return Submission(
        channel=channel,
        external_id=external_id(mail, raw),
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
