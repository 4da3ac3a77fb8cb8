"""Kannel's calls to the hotline -> a typed ``IncomingSms`` -> what the citizen wants. Pure.

smsbox calls the hotline for each message a phone sent (MO): as GET parameters
(``from``, ``to``, ``text``, ``coding``, ``charset``, ``id``, ``smsc``) from its ``get-url``, or
as a POST whose body is the text and whose ``X-Kannel-*`` headers carry the rest. Long
messages arrive joined (smsbox reassembles them); Chinese sent as UCS-2 arrives as UTF-8 when
smsbox has ``mo-recode`` on, or as UTF-16BE bytes with ``coding=2`` otherwise.

A text is one of: STOP (退订: no more messages to this number), a status question (a tracking
number and its second factor), or a message for the hotline.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from hotline.core.cases import tracking
from hotline.core.intake.submission import ContactIn, RatingIn, Submission
from hotline.core.storage.enums import ContactKind, Satisfaction

CHANNEL = "sms"
MAX_TEXT = 2000  # a joined SMS is never longer than a few hundred characters; more is junk
STOP_WORDS = frozenset({"stop", "unsubscribe", "退订", "td", "取消", "停止"})
STATUS = re.compile(
    r"^\s*(?:cx|查询|status|query)?\s*(\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d)\s+(\d{4}|\d{6})\s*$",
    re.IGNORECASE,
)


class SmsRefused(ValueError):
    """Not a message the hotline takes; the reason is safe to log (no number, no text)."""


@dataclass(frozen=True)
class IncomingSms:
    sender: str
    receiver: str
    text: str
    message_id: str | None
    smsc: str | None


@dataclass(frozen=True)
class StatusQuestion:
    tracking_number: str
    factor: str


def _first(params: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = params.get(name)
        if value:
            return str(value)
    return ""


def _decode(raw: bytes, coding: str, charset: str) -> str:
    charset = charset.lower()
    if coding == "2" or charset in ("utf-16be", "ucs-2", "ucs2", "utf-16"):
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise SmsRefused("UCS-2 text that does not decode") from exc
    try:
        return raw.decode("utf-8" if charset in ("", "utf-8", "utf8") else charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SmsRefused("text in an unknown or broken charset") from exc


def _query(query: str) -> dict[str, str]:
    """The GET parameters, each as the bytes Kannel percent-encoded, read as latin-1 (so no
    byte is lost before we know the text's coding)."""
    return dict(parse_qsl(query, keep_blank_values=True, encoding="latin-1"))


def parse_mo(query: str, headers: Mapping[str, str], body: bytes | None) -> IncomingSms:
    """One MO call from smsbox: the raw query string (GET) or the body with ``X-Kannel-*``
    headers (POST). Raises ``SmsRefused`` for what is not a readable text message (binary
    data, empty, oversized, no sender)."""
    params = _query(query)
    lowered = {k.lower(): v for k, v in headers.items()}
    if body is not None and "x-kannel-from" in lowered:
        sender = lowered.get("x-kannel-from", "")
        receiver = lowered.get("x-kannel-to", "")
        coding = lowered.get("x-kannel-coding", "0")
        content_type = lowered.get("content-type", "")
        found = re.search(r"charset=([\w-]+)", content_type)
        charset = found.group(1) if found else "utf-8"
        message_id = lowered.get("x-kannel-id") or None
        smsc = lowered.get("x-kannel-smsc") or None
        raw = body
    else:
        sender = _first(params, "from", "sender").encode("latin-1").decode("utf-8", "replace")
        receiver = _first(params, "to", "receiver").encode("latin-1").decode("utf-8", "replace")
        coding = _first(params, "coding") or "0"
        charset = _first(params, "charset") or "utf-8"
        message_id = _first(params, "id") or None
        smsc = _first(params, "smsc") or None
        raw = _first(params, "text").encode("latin-1")
    if coding == "1" and charset.lower() in ("8-bit", "binary", ""):
        raise SmsRefused("binary (8-bit data) message")
    if not sender:
        raise SmsRefused("no sender number")
    if len(raw) > MAX_TEXT * 4:
        raise SmsRefused("oversized message")
    text = _decode(raw, coding, charset).strip()
    if not text:
        raise SmsRefused("empty message")
    if len(text) > MAX_TEXT:
        raise SmsRefused("oversized message")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise SmsRefused("control characters in the text")
    return IncomingSms(sender.strip(), receiver.strip(), text, message_id, smsc)


def is_stop(sms: IncomingSms) -> bool:
    """STOP / 退订: the number asks for no more messages."""
    return sms.text.strip().lower().rstrip("。.!！") in STOP_WORDS


def status_question(sms: IncomingSms) -> StatusQuestion | None:
    """A tracking number (valid check digit) and its second factor (the lookup code, or the last
    four digits of the phone given on the case)."""
    found = STATUS.match(sms.text)
    if found is None:
        return None
    number = tracking.clean(found.group(1))
    if not tracking.is_valid(number):
        return None
    return StatusQuestion(number, found.group(2))


def to_submission(sms: IncomingSms) -> Submission:
    """A message for the hotline. Kannel's id (or, without one, the number, time-free text
    digest) makes a gateway's retry a duplicate, never a second case."""
    external = (
        sms.message_id
        or "sha256:" + hashlib.sha256(f"{sms.sender}\n{sms.text}".encode()).hexdigest()
    )
    has_chinese = re.search(r"[\u3400-\u9fff]", sms.text) is not None
    return Submission(
        channel=CHANNEL,
        external_id=external[:255],
        text=sms.text,
        language="zh_CN" if has_chinese else "en",
        contacts=[ContactIn(kind=ContactKind.PHONE, value=sms.sender)],
        meta={"to": sms.receiver, "smsc": sms.smsc} if sms.smsc else {"to": sms.receiver},
    )


# The evaluation invited by an answer: "1 satisfied, 2 basically, 3 not satisfied".
RATINGS = {
    "1": Satisfaction.SATISFIED,
    "2": Satisfaction.BASICALLY_SATISFIED,
    "3": Satisfaction.NOT_SATISFIED,
    "满意": Satisfaction.SATISFIED,
    "基本满意": Satisfaction.BASICALLY_SATISFIED,
    "不满意": Satisfaction.NOT_SATISFIED,
}


def rating_of(sms: IncomingSms) -> Satisfaction | None:
    """A text that is only an evaluation (a digit 1-3 or the words), or None."""
    return RATINGS.get(sms.text.strip().rstrip("。.!！").strip())


def rating_submission(sms: IncomingSms, tracking_number: str, satisfaction: str) -> Submission:
    """The evaluation of case ``tracking_number``; the caller checked the number is its
    citizen's and the case waits for an evaluation."""
    external = (
        sms.message_id
        or "rating:"
        + hashlib.sha256(f"{sms.sender}\n{tracking_number}\n{sms.text}".encode()).hexdigest()
    )
    return Submission(
        channel=CHANNEL,
        external_id=external[:255],
        tracking_number=tracking_number,
        rating=RatingIn(satisfaction=Satisfaction(satisfaction)),
        contacts=[ContactIn(kind=ContactKind.PHONE, value=sms.sender)],
    )
