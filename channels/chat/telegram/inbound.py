"""Telegram updates -> what the citizen wants. Pure: no network, no database.

An update is read from its raw JSON first (``read_update``): only ``message`` and
``callback_query`` updates are handed to python-telegram-bot's ``Update.de_json``, so an update
type we do not use (a poll, ``my_chat_member``, a channel post), even one newer than the
library, is named and ignored rather than failing to parse. A private chat's message is then
one of: ``/start`` (the menu), ``/help``, a status question (``/status NUMBER CODE``, or the
two as an answer to our prompt, or alone), ``/status`` without them (the prompt), or a contact
for the hotline (text, photo, document, voice note, location). A button press is a menu choice
or a rating of an answered case.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.warnings import PTBDeprecationWarning

from hotline.core.cases import tracking
from hotline.core.intake.submission import (
    AttachmentIn,
    ContactIn,
    LocationIn,
    RatingIn,
    Submission,
)
from hotline.core.storage.enums import ContactKind, Satisfaction

CHANNEL = "telegram"
HANDLED = ("message", "callback_query")
NUMBER = r"(\d{4}[\s-]?\d{4}[\s-]?\d{4}[\s-]?\d)"
STATUS = re.compile(rf"^\s*{NUMBER}\s+(\d{{4}}|\d{{6}})\s*$")
# after /status or in answer to our prompt, words around the two are allowed ("编号…，查询码…")
STATUS_LOOSE = re.compile(rf"(?<!\d){NUMBER}\D+?(\d{{6}}|\d{{4}})(?!\d)")
RATING_CODES = {
    "s": Satisfaction.SATISFIED,
    "b": Satisfaction.BASICALLY_SATISFIED,
    "n": Satisfaction.NOT_SATISFIED,
}
MENU_CHOICES = ("complaint", "status", "help")


class UpdateRefused(ValueError):
    """Not a Telegram update at all (the webhook answers 400); the reason holds no content."""


def read_update(raw: bytes) -> dict[str, Any]:
    """The update as a JSON object with an integer ``update_id``, or UpdateRefused."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UpdateRefused("not JSON") from exc
    if not isinstance(data, dict):
        raise UpdateRefused("not a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise UpdateRefused("no update_id")
    return data


def update_kind(data: dict[str, Any]) -> str:
    """The update's type: the one field beside ``update_id`` (``message``, ``poll``, ...)."""
    return next((key for key in data if key != "update_id"), "empty")


def handled_part(data: dict[str, Any]) -> dict[str, Any] | None:
    """The update reduced to what we read, for ``Update.de_json``; None when we do not read it."""
    kind = update_kind(data)
    if kind not in HANDLED or not isinstance(data.get(kind), dict):
        return None
    return {"update_id": data["update_id"], kind: data[kind]}


# --- what a message asks for ----------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """``/start``: the menu."""


@dataclass(frozen=True)
class Help:
    """``/help`` or an unknown command."""


@dataclass(frozen=True)
class AskStatus:
    """``/status`` alone: prompt for the number and code."""


@dataclass(frozen=True)
class StatusQuestion:
    tracking_number: str
    factor: str


@dataclass(frozen=True)
class Contact:
    """A message for the hotline. ``file_id`` is the largest photo, the document or the voice
    note; its bytes are fetched before intake."""

    text: str
    file_id: str | None = None
    file_size: int | None = None
    filename: str = ""
    voice: bool = False
    duration: int | None = None
    location: LocationIn | None = None


@dataclass(frozen=True)
class Unsupported:
    """A sticker, a video, a contact card...: the citizen is told what the bot takes."""

    what: str


Intent = Start | Help | AskStatus | StatusQuestion | Contact | Unsupported


def status_question(text: str, *, loose: bool = False) -> StatusQuestion | None:
    """A tracking number (spaces or dashes allowed) and its 6-digit lookup code or the last four
    digits of the citizen's phone: alone in the message, or (``loose``) anywhere in it."""
    found = STATUS_LOOSE.search(text) if loose else STATUS.match(text)
    if found is None:
        return None
    return StatusQuestion(tracking.clean(found.group(1)), found.group(2))


def _asked(text: str) -> StatusQuestion:
    """What someone asked with /status or in answer to our prompt; a wrong pair is looked up
    all the same (and answered "no case matches")."""
    return status_question(text, loose=True) or StatusQuestion(tracking.clean(text)[:32], "")


def _command(text: str) -> tuple[str, str] | None:
    """``/cmd@our_bot rest`` -> (``cmd``, ``rest``)."""
    if not text.startswith("/"):
        return None
    head, _, rest = text.partition(" ")
    return head[1:].split("@", 1)[0].lower(), rest.strip()


def intent_of(message: Message, prompts: frozenset[str]) -> Intent:
    """What a private chat's message asks for. ``prompts`` are the texts of our own
    status prompt in every language: a reply to one of them is a status question."""
    text = message.text or message.caption or ""
    command = _command(message.text or "")
    if command is not None:
        name, rest = command
        if name == "start":
            return Start()
        if name == "status":
            if not rest:
                return AskStatus()
            return _asked(rest)
        return Help()
    question = status_question(message.text or "")
    if question is not None:
        return question
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.is_bot:
        if (replied.text or "") in prompts:
            return _asked(message.text or "")
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Contact(text, largest.file_id, largest.file_size, "photo.jpg")
    if message.document is not None:
        doc = message.document
        return Contact(text, doc.file_id, doc.file_size, (doc.file_name or "file")[:255])
    if message.voice is not None:
        voice = message.voice
        return Contact(
            text, voice.file_id, voice.file_size, "voice.ogg", voice=True, duration=_seconds(voice)
        )
    if message.location is not None:
        where = message.location
        label = None
        if message.venue is not None:
            label = f"{message.venue.title}, {message.venue.address}"[:500]
        location = LocationIn(text=label, latitude=where.latitude, longitude=where.longitude)
        said = text or label or f"{where.latitude:.6f}, {where.longitude:.6f}"
        return Contact(said, location=location)
    if message.text:
        return Contact(message.text)
    return Unsupported(_content_kind(message))


def _seconds(voice: Any) -> int | None:
    with warnings.catch_warnings():  # an int until python-telegram-bot 23, then a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        duration = voice.duration
    if duration is None:
        return None
    return int(duration.total_seconds()) if hasattr(duration, "total_seconds") else int(duration)


def _content_kind(message: Message) -> str:
    for kind in ("sticker", "video", "video_note", "audio", "animation", "contact", "poll"):
        if getattr(message, kind, None):
            return kind
    return "other"


@dataclass(frozen=True)
class Received:
    """Who sent a contact and how it came: the parts of a Submission outside the content."""

    chat_id: int
    message_id: int
    language: str
    raw: bytes
    received_at: datetime | None = None  # when the citizen sent it (Telegram's date)
    meta: dict[str, Any] = field(default_factory=dict)


def external_id(chat_id: int, message_id: int) -> str:
    """``chat_id:message_id``: the same message delivered twice is the same case."""
    return f"{chat_id}:{message_id}"


def to_submission(contact: Contact, got: Received, data: bytes | None) -> Submission:
    """The Submission for a contact whose file (if any) has been fetched as ``data``."""
    meta = dict(got.meta)
    attachments = []
    if data is not None:
        attachments.append(AttachmentIn(filename=contact.filename, data=data))
    if contact.voice:
        # kept as audio; the transcription job hears it in the chat's language
        meta["voice"] = {"language": got.language, "duration": contact.duration}
        meta["speech_language"] = got.language
        # the app's language, not a choice of the spoken one: the engine may detect it
        meta["speech_language_guessed"] = True
    return Submission(
        channel=CHANNEL,
        external_id=external_id(got.chat_id, got.message_id),
        text=contact.text,
        language=got.language,  # type: ignore[arg-type]
        contacts=[ContactIn(kind=ContactKind.TELEGRAM, value=str(got.chat_id))],
        location=contact.location,
        attachments=attachments,
        raw=got.raw,
        received_at=got.received_at,
        meta=meta,
    )


# --- buttons ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuChoice:
    choice: str


@dataclass(frozen=True)
class RatingChoice:
    tracking_number: str
    satisfaction: Satisfaction


def menu_data(choice: str) -> str:
    return f"menu:{choice}"


def rating_data(tracking_number: str, satisfaction: Satisfaction) -> str:
    """At most 64 bytes, as Telegram allows: ``rate:<13 digits>:<s|b|n>``."""
    code = next(k for k, v in RATING_CODES.items() if v == satisfaction)
    return f"rate:{tracking_number}:{code}"


def read_button(data: str | None) -> MenuChoice | RatingChoice | None:
    """A button's callback data; None for anything we did not send (a client may send any)."""
    parts = (data or "").split(":")
    if len(parts) == 2 and parts[0] == "menu" and parts[1] in MENU_CHOICES:
        return MenuChoice(parts[1])
    if len(parts) == 3 and parts[0] == "rate" and parts[2] in RATING_CODES:
        if tracking.is_valid(parts[1]):
            return RatingChoice(parts[1], RATING_CODES[parts[2]])
    return None


def rating_submission(
    choice: RatingChoice, chat_id: int, callback_id: str, raw: bytes
) -> Submission:
    """The citizen's evaluation of an answered case (in the case's language); the caller has
    checked that the chat is the case's citizen's contact."""
    return Submission(
        channel=CHANNEL,
        external_id=f"{chat_id}:cb:{callback_id}"[:255],
        tracking_number=choice.tracking_number,
        rating=RatingIn(satisfaction=choice.satisfaction),
        contacts=[ContactIn(kind=ContactKind.TELEGRAM, value=str(chat_id))],
        raw=raw,
    )


def update_of(part: dict[str, Any], bot: Any) -> Update:
    """python-telegram-bot's Update for the part we read (raises on a malformed object)."""
    update = Update.de_json(part, bot)
    if update is None:
        raise UpdateRefused("empty update")
    return update
