"""One update, whichever way it came (webhook or polling): our own small dispatcher.

A contact becomes a case through intake (its photo, document or voice note fetched first, so
intake stores everything or nothing); menu, help and status questions are answered at once;
a rating button rates the case when the chat is that case's citizen's contact. What intake
refuses, or what fails on the way, is held whole for a person (``hold_message``) and the
citizen is told; an update type we do not use is ignored with a log line. Log lines name the
update's type and the reason, never a chat, a name or what was written.
"""

from __future__ import annotations

import logging

from telegram import Bot, CallbackQuery, ForceReply, InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from hotline.core.cases import tracking
from hotline.core.cases.lookup import (
    LookupLimits,
    LookupRefused,
    is_citizens_contact,
    verified_timeline,
)
from hotline.core.intake.checks import find_intake
from hotline.core.intake.held import hold_message
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused
from hotline.core.reference import labels
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind

from . import texts
from .api import MAX_DOWNLOAD_BYTES
from .inbound import (
    CHANNEL,
    AskStatus,
    Contact,
    Help,
    MenuChoice,
    Received,
    Start,
    StatusQuestion,
    external_id,
    handled_part,
    intent_of,
    rating_submission,
    read_button,
    read_update,
    to_submission,
    update_kind,
    update_of,
)
from .outbound import menu_keyboard, send_text, with_retry

log = logging.getLogger("hotline.channels.telegram")
LANGUAGES = ("zh_CN", "en")


async def handle(ctx: AppContext, bot: Bot, raw: bytes, *, source: str) -> str:
    """Act on one raw update; returns what became of it: ``case``, ``duplicate``,
    ``answered``, ``rated``, ``refused``, ``held`` or ``ignored``. Raises UpdateRefused for
    input that is not an update at all, and whatever keeps it from being held (the database
    down): then the update comes again (webhook retry, polling offset not moved)."""
    data = read_update(raw)
    kind = update_kind(data)
    part = handled_part(data)
    if part is None:
        log.info("telegram update ignored", extra={"kind": kind})
        return "ignored"
    try:
        update = update_of(part, bot)
        if update.callback_query is not None:
            return await _button(ctx, bot, update.callback_query, raw)
        if update.message is not None:
            return await _message(ctx, bot, update.message, raw, source)
    except Exception as exc:  # kept for a person rather than lost or retried forever
        log.warning("telegram update held", extra={"kind": kind, "why": type(exc).__name__})
        await hold_message(ctx, CHANNEL, raw, f"failed: {type(exc).__name__}", source=source)
        return "held"
    log.info("telegram update ignored", extra={"kind": kind})
    return "ignored"


async def _say(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | ForceReply | None = None,
) -> None:
    """An immediate answer in the chat; one that cannot be sent is logged (the citizen may ask
    again), never held: only outbox messages are retried."""
    try:
        await send_text(bot, chat_id, text, markup)
    except TelegramError as exc:
        log.warning("telegram answer not sent", extra={"why": type(exc).__name__})


def _prompts(ctx: AppContext) -> frozenset[str]:
    return frozenset(texts.gettext_for(ctx, lang)(texts.ASK_STATUS) for lang in LANGUAGES)


async def _message(ctx: AppContext, bot: Bot, message: Message, raw: bytes, source: str) -> str:
    if message.chat.type != "private" or message.from_user is None:
        log.info("telegram message ignored", extra={"why": f"{message.chat.type} chat"})
        return "ignored"
    language = texts.language_of(message.from_user.language_code, ctx.settings.default_language)
    _ = texts.gettext_for(ctx, language)
    chat_id = message.chat.id
    intent = intent_of(message, _prompts(ctx))
    if isinstance(intent, Start):
        await _say(bot, chat_id, _(texts.WELCOME), menu_keyboard(_))
        return "answered"
    if isinstance(intent, Help):
        await _say(bot, chat_id, _(texts.HELP))
        return "answered"
    if isinstance(intent, AskStatus):
        await _say(bot, chat_id, _(texts.ASK_STATUS), ForceReply())
        return "answered"
    if isinstance(intent, StatusQuestion):
        await _say(bot, chat_id, await _status(ctx, chat_id, intent, language))
        return "answered"
    if isinstance(intent, Contact):
        got = Received(
            chat_id=chat_id,
            message_id=message.message_id,
            language=language,
            raw=raw,
            received_at=message.date,
        )
        return await _contact(ctx, bot, intent, got, source)
    await _say(bot, chat_id, _(texts.UNSUPPORTED))
    log.info("telegram message refused", extra={"why": f"unsupported {intent.what}"})
    return "refused"


async def _status(ctx: AppContext, chat_id: int, question: StatusQuestion, language: str) -> str:
    """The case's status and last public step, when the number and code fit; the same answer
    for a wrong number and a wrong code."""
    _ = texts.gettext_for(ctx, language)
    try:
        case, events = await verified_timeline(
            ctx.db,
            ctx.secret_key,
            question.tracking_number,
            question.factor,
            f"telegram:{chat_id}",
            limits=LookupLimits.from_settings(ctx.settings),
        )
    except LookupRefused as refused:
        if refused.code in ("too_many_attempts", "wait"):
            return _(texts.TOO_MANY_TRIES)
        return _(texts.NO_MATCH)
    last = events[-1].action if events else "received"
    return _(texts.STATUS_ANSWER) % {
        "number": tracking.display(case.tracking_number),
        "status": _(labels.STATUS.get(case.status, case.status)),
        "last": _(labels.EVENT.get(last, last)),
    }


async def _contact(ctx: AppContext, bot: Bot, contact: Contact, got: Received, source: str) -> str:
    _ = texts.gettext_for(ctx, got.language)
    settings = ctx.settings
    if len(contact.text) > settings.max_text_chars:
        await _say(bot, got.chat_id, _(texts.TOO_LONG) % {"limit": settings.max_text_chars})
        log.info("telegram message refused", extra={"why": "text too long"})
        return "refused"
    limit = min(settings.max_attachment_bytes, MAX_DOWNLOAD_BYTES)
    if contact.file_id and (contact.file_size or 0) > limit:
        megabytes = max(1, limit // (1024 * 1024))
        await _say(bot, got.chat_id, _(texts.FILE_TOO_LARGE) % {"limit": megabytes})
        log.info("telegram message refused", extra={"why": "file too large"})
        return "refused"
    ext_id = external_id(got.chat_id, got.message_id)
    if await find_intake(ctx, CHANNEL, [ext_id]) is not None:
        return "duplicate"  # delivered again: no second download, no second case
    data = None
    if contact.file_id is not None:
        file_id = contact.file_id

        async def fetch() -> bytes:
            found = await bot.get_file(file_id)
            return bytes(await found.download_as_bytearray())

        data = await with_retry(fetch)
    try:
        result = await receive(ctx, to_submission(contact, got, data))
    except IntakeRefused as refused:
        reason = "; ".join(f"{p.field}: {p.code}" for p in refused.problems)
        await hold_message(
            ctx, CHANNEL, got.raw, f"refused: {reason}", source=source, external_id=ext_id
        )
        await _say(bot, got.chat_id, _(texts.NOT_TAKEN))
        log.info("telegram message held", extra={"why": reason})
        return "held"
    # The acknowledgement with the tracking number goes out through the outbox.
    return "duplicate" if result.duplicate else "case"


async def _answer_query(bot: Bot, query: CallbackQuery, text: str | None = None) -> None:
    """Stop the button's spinner (and show ``text`` briefly)."""
    try:
        await with_retry(lambda: bot.answer_callback_query(query.id, text=text))
    except TelegramError as exc:
        log.warning("telegram button not answered", extra={"why": type(exc).__name__})


async def _button(ctx: AppContext, bot: Bot, query: CallbackQuery, raw: bytes) -> str:
    language = texts.language_of(query.from_user.language_code, ctx.settings.default_language)
    _ = texts.gettext_for(ctx, language)
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    choice = read_button(query.data)
    if choice is None:
        await _answer_query(bot, query)
        log.info("telegram button ignored", extra={"why": "unknown data"})
        return "ignored"
    if isinstance(choice, MenuChoice):
        await _answer_query(bot, query)
        if choice.choice == "complaint":
            await _say(bot, chat_id, _(texts.HOW_TO_SUBMIT))
        elif choice.choice == "status":
            await _say(bot, chat_id, _(texts.ASK_STATUS), ForceReply())
        else:
            await _say(bot, chat_id, _(texts.HELP))
        return "answered"
    if not await is_citizens_contact(
        ctx.db, choice.tracking_number, ContactKind.TELEGRAM, str(chat_id)
    ):
        await _answer_query(bot, query, _(texts.NO_MATCH))
        log.warning("telegram rating refused", extra={"why": "not the case's citizen"})
        return "refused"
    try:
        await receive(ctx, rating_submission(choice, chat_id, query.id, raw))
    except IntakeRefused as refused:
        await _answer_query(bot, query, _(texts.NO_MATCH))
        codes = ",".join(p.code for p in refused.problems)
        log.info("telegram rating refused", extra={"why": codes})
        return "refused"
    await _answer_query(bot, query, _(texts.RATED))
    if query.message is not None:
        try:  # the buttons go, so the answer is not rated twice by accident
            await bot.edit_message_reply_markup(chat_id, query.message.message_id)
        except TelegramError as exc:
            log.info("telegram buttons not removed", extra={"why": type(exc).__name__})
    return "rated"
