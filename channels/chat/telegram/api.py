"""The Bot API client: python-telegram-bot's ``Bot`` pointed at ``HOTLINE_TELEGRAM_API_URL``.

A ``Bot`` is made for each piece of work and closed after it (``open_bot``): its HTTP client
belongs to the event loop that made it, and the web app, each job thread and the polling
listener each run their own loop. The webhook's address and the calls that set it up are here
too (``set_up``), for ``python -m hotline.channels.chat.telegram``.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio
from telegram import Bot
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from hotline.core.foundation.settings import Settings

WEBHOOK_PATH = "/channels/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
ALLOWED_UPDATES = ["message", "callback_query"]
READ_SECONDS = 30.0
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # what the cloud Bot API's getFile serves


def api_base(settings: Settings) -> str:
    return settings.telegram_api_url.rstrip("/")


def make_bot(settings: Settings) -> tuple[Bot, list[HTTPXRequest]]:
    """A Bot and the request objects to close after it (see ``open_bot``)."""
    api = api_base(settings)
    requests = [HTTPXRequest(connection_pool_size=4, read_timeout=READ_SECONDS) for _ in "ab"]
    bot = Bot(
        settings.telegram_token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=requests[0],
        get_updates_request=requests[1],
    )
    return bot, requests


@asynccontextmanager
async def open_bot(settings: Settings) -> AsyncIterator[Bot]:
    """A Bot for one piece of work. Not ``async with bot``: that calls getMe every time."""
    # off the event loop: each request object builds an SSL context (the CA store is read)
    bot, requests = await anyio.to_thread.run_sync(make_bot, settings)
    try:
        yield bot
    finally:
        for request in requests:
            await request.shutdown()


def retry_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait (an int before python-telegram-bot 22.2, a timedelta
    after it opts in; reading it as an int warns of the change)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def webhook_url(settings: Settings) -> str:
    return settings.url.rstrip("/") + WEBHOOK_PATH


async def set_up(settings: Settings) -> str:
    """Webhook mode: point Telegram at our webhook with the secret. Polling mode: remove any
    webhook (getUpdates is refused while one is set). Returns what was done."""
    if not settings.telegram_token:
        return "HOTLINE_TELEGRAM_TOKEN is empty: Telegram is off"
    async with open_bot(settings) as bot:
        if settings.telegram_webhook_secret:
            url = webhook_url(settings)
            await bot.set_webhook(
                url,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            return f"webhook set to {url}"
        await bot.delete_webhook()
        return "webhook removed: the bot polls getUpdates"
