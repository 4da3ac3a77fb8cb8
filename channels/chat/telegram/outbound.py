"""Messages to a chat: split at Telegram's 4096-character limit, the buttons we attach, and the
outbox's delivery (``deliver``, behind ``send_reply``).

Flood control: Telegram answers 429 with ``retry_after``. A short wait (up to
``MAX_RETRY_WAIT`` seconds) is waited here and the part is sent once more; a longer one, or a
second 429, is raised so the outbox job retries the message later with its backoff (parts
already sent then go again: delivery is at least once). Any other error is raised too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import RetryAfter

from hotline.core.cases import tracking
from hotline.core.cases.replies import OutboundMessage
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import Satisfaction
from hotline.core.storage.models.cases import Interaction

from . import texts
from .api import open_bot, retry_seconds
from .inbound import menu_data, rating_data
from .texts import Gettext

log = logging.getLogger("hotline.channels.telegram")
MAX_CHARS = 4096  # per message, counted in UTF-16 units as Telegram counts
MAX_RETRY_WAIT = 30.0
# Outbox purposes that carry the answer to the case (core.workflow.dispatch.do_review queues "reply",
# core.cases.actions.do_answer "answer"): these get the rating buttons.
ANSWER_PURPOSES = frozenset({"reply", "answer"})
BREAKS = ("\n", "。！？.!?", "；;，,、 ")  # the best place to cut first

T = TypeVar("T")
Markup = InlineKeyboardMarkup | ForceReply | None


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _cut(current: list[str]) -> int:
    """Where to end a full part: after the last line break in its second half, else after a
    sentence's end, else after a comma or space; else right here."""
    for breaks in BREAKS:
        cut = max((i + 1 for i, c in enumerate(current) if c in breaks), default=0)
        if cut >= len(current) // 2:
            return cut
    return len(current)


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Parts of at most ``limit`` UTF-16 units, cut at a good place (``_cut``); a character is
    never cut in half. Whitespace around a cut is dropped, as Telegram drops it."""
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        size = _units(char)
        if used + size > limit:
            cut = _cut(current)
            parts.append("".join(current[:cut]))
            current = current[cut:]
            used = sum(_units(c) for c in current)
        current.append(char)
        used += size
    if current:
        parts.append("".join(current))
    stripped = [part.strip() for part in parts]
    return [part for part in stripped if part]  # Telegram refuses a blank message


async def with_retry(call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``; after a 429 with a short ``retry_after``, wait it and run it once more."""
    try:
        return await call()
    except RetryAfter as exc:
        wait = retry_seconds(exc)
        if wait > MAX_RETRY_WAIT:
            raise
        log.info("telegram asked us to wait", extra={"seconds": wait})
        await asyncio.sleep(wait)
        return await call()


async def send_text(bot: Bot, chat_id: int, text: str, markup: Markup = None) -> list[Message]:
    """Send ``text`` in as many messages as it needs; ``markup`` goes on the last one."""
    parts = split_text(text)
    if not parts:
        raise ValueError("nothing to send")
    sent = []
    for index, part in enumerate(parts):
        keyboard = markup if index == len(parts) - 1 else None

        async def one(part: str = part, keyboard: Markup = keyboard) -> Message:
            return await bot.send_message(chat_id, part, reply_markup=keyboard)

        sent.append(await with_retry(one))
    return sent


def menu_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_(texts.MENU_COMPLAINT), callback_data=menu_data("complaint"))],
            [InlineKeyboardButton(_(texts.MENU_STATUS), callback_data=menu_data("status"))],
            [InlineKeyboardButton(_(texts.MENU_HELP), callback_data=menu_data("help"))],
        ]
    )


def rating_keyboard(_: Gettext, tracking_number: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _(texts.SATISFACTION[choice]),
                    callback_data=rating_data(tracking_number, choice),
                )
            ]
            for choice in Satisfaction
        ]
    )


async def _purpose(ctx: AppContext, interaction_id: int) -> str:
    async with ctx.db.session() as session:
        row = await session.get(Interaction, interaction_id)
    return str((row.meta or {}).get("purpose", "")) if row is not None else ""


async def deliver(ctx: AppContext, message: OutboundMessage) -> str:
    """Send one outbox message to its chat; returns ``chat:message_id`` of the last part.
    The answer to a case ends with the rating question and its buttons."""
    chat_id = int(message.contact_value)
    _ = texts.gettext_for(ctx, message.language)
    text = f"{message.subject}\n\n{message.text}" if message.subject else message.text
    markup = None
    if await _purpose(ctx, message.interaction_id) in ANSWER_PURPOSES:
        text = f"{text}\n\n{_(texts.RATE_QUESTION)}"
        markup = rating_keyboard(_, tracking.clean(message.tracking_number))
    async with open_bot(ctx.settings) as bot:
        sent = await send_text(bot, chat_id, text, markup)
    return f"{chat_id}:{sent[-1].message_id}"
