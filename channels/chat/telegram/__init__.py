"""The Telegram channel: the city's bot, in Chinese and English.

Hooks only. Updates arrive by webhook (``routes``, when ``HOTLINE_TELEGRAM_WEBHOOK_SECRET`` is
set) or by long polling (``listener``, otherwise); either way ``handler`` decides what each one
is: a case (text, photo, document, voice note, location), the menu, a status question, a
rating of an answer. Answers and acknowledgements go out through the outbox (``send_reply`` ->
``outbound``). With ``HOTLINE_TELEGRAM_TOKEN`` empty the channel is off. See README.md.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from hotline.core.cases.replies import OutboundMessage
from hotline.core.delivery.jobs import ListenerSpec
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind

from . import outbound
from .api import open_bot
from .handler import handle
from .inbound import CHANNEL, UpdateRefused
from .listener import listen
from .routes import telegram_webhook


@hookimpl
def register_routes(ctx: AppContext) -> Sequence[Any]:
    return [telegram_webhook] if ctx.settings.telegram_token else []


@hookimpl
def register_listeners(ctx: AppContext) -> list[ListenerSpec]:
    """Polling only when there is a bot and no webhook."""
    settings = ctx.settings
    if settings.telegram_token and not settings.telegram_webhook_secret:
        return [ListenerSpec("telegram.polling", listen)]
    return []


@hookimpl
def send_reply(ctx: AppContext, message: OutboundMessage) -> Awaitable[str] | None:
    if message.contact_kind != ContactKind.TELEGRAM or not ctx.settings.telegram_token:
        return None
    return outbound.deliver(ctx, message)


@hookimpl
def process_held(ctx: AppContext, channel: str, raw: bytes, source: str) -> Awaitable[str] | None:
    if channel != CHANNEL:
        return None

    async def again() -> str:
        async with open_bot(ctx.settings) as bot:
            try:
                return await handle(ctx, bot, raw, source=source or "held")
            except UpdateRefused:
                return "held"

    return again()
