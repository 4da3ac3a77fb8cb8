"""Mail no person wrote to the hotline: auto-replies, bulk and list mail, delivery and read
reports, bounces, and our own mail coming back. Each is told apart with the header (or
subject) that shows it, so the trace staff see says why it made no case; a bounce names the
message of ours that failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from .charsets import header_text
from .parts import parse_bytes, payload_bytes, raw_header

AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|out of (the )?office|自动回复|自動回覆|休假|外出)", re.I
)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery status notification|delivery failure|returned mail|mail delivery"
    r" failed|退信|投递失败|系统退信)",
    re.I,
)
DAEMONS = re.compile(r"^(mailer-daemon|postmaster)@", re.I)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# the kinds, in the words the trace list shows (see admin/traces.py)
KINDS = ("auto_reply", "bulk", "list", "report", "bounce", "loop")


@dataclass(frozen=True)
class Automatic:
    kind: str  # one of KINDS
    why: str  # the header or subject that shows it, as staff read it


def ids(value: str | None) -> list[str]:
    return MESSAGE_ID.findall(str(value or ""))


def _header(msg: Message, name: str) -> str:
    return header_text(raw_header(msg, name)).strip()


def _said(name: str, value: str) -> str:
    return f"{name}: {value}"[:200]


def _report(msg: Message) -> Automatic | None:
    if msg.get_content_type() != "multipart/report":
        return None
    kind = str(msg.get_param("report-type") or "").lower()
    if kind != "delivery-status":
        return Automatic("report", _said("report-type", kind or "?"))  # read receipts...
    actions: list[bytes] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        if isinstance(blocks, list):  # one header block per recipient
            for block in blocks:
                said = raw_header(block, "Action") if isinstance(block, Message) else None
                if said:
                    actions.append(said.strip().lower().encode("ascii", "replace"))
        else:
            actions += [
                a.lower() for a in re.findall(rb"(?im)^Action:\s*(\w+)", payload_bytes(part))
            ]
    if b"failed" in actions or not actions:
        return Automatic("bounce", "multipart/report delivery-status: failed")
    # a delay or a relay is news, not a failure
    return Automatic("report", "delivery-status: " + ", ".join(a.decode() for a in actions))


def classify(msg: Message, sender: str, subject: str) -> Automatic | None:
    """Why no person wrote this message to the hotline, or None when one did."""
    if raw_header(msg, "X-Hotline-Case") is not None:
        return Automatic("loop", _said("X-Hotline-Case", _header(msg, "X-Hotline-Case")))
    report = _report(msg)
    if report is not None:
        return report
    auto = _header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return Automatic("auto_reply", _said("Auto-Submitted", auto))
    for name in ("X-Autoreply", "X-Autorespond"):
        if raw_header(msg, name) is not None:
            return Automatic("auto_reply", _said(name, _header(msg, name)))
    precedence = _header(msg, "Precedence").lower()
    if precedence == "auto_reply":
        return Automatic("auto_reply", _said("Precedence", precedence))
    if precedence in ("bulk", "junk", "list"):
        return Automatic("bulk", _said("Precedence", precedence))
    if raw_header(msg, "List-Id") is not None:
        return Automatic("list", _said("List-Id", _header(msg, "List-Id")))
    if DAEMONS.match(sender):
        return Automatic("bounce", _said("From", sender))
    if BOUNCE_SUBJECT.search(subject) and _header(msg, "Return-Path") == "<>":
        return Automatic("bounce", _said("Subject", subject))
    if AUTO_SUBJECT.search(subject):
        return Automatic("auto_reply", _said("Subject", subject))
    return None


def bounced(msg: Message, text: str) -> tuple[list[str], str]:
    """The Message-IDs a bounce returns (from its attached original or headers) and why."""
    found: list[str] = []
    reason = ""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            blocks = part.get_payload() if part.is_multipart() else []
            for block in blocks if isinstance(blocks, list) else []:
                status = block.get("Diagnostic-Code") or block.get("Status")
                if status and not reason:
                    reason = str(status)[:300]
        elif kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                found += ids(raw_header(inner[0], "Message-ID"))
        elif kind == "text/rfc822-headers":
            found += ids(raw_header(parse_bytes(payload_bytes(part)), "Message-ID"))
    if not found:  # a plain-text bounce quotes the original's headers
        found = re.findall(r"Message-ID:\s*(<[^<>\s]+>)", text, re.I)
        reason = reason or next(
            (line.strip() for line in text.splitlines() if re.search(r"\b5\.\d\.\d\b", line)), ""
        )
    return found, reason[:300]
