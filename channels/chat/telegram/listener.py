"""Polling mode (no webhook secret set): long-poll getUpdates while the job workers run.

The offset (the next ``update_id`` wanted) is kept in the job store's key-value table after each
update is handled, so a restart neither reads an update again nor skips one; Telegram also
forgets the updates below the offset we ask with. getUpdates is read as raw JSON with httpx
(the same client python-telegram-bot uses): each update is then parsed on its own, so one that
the library cannot parse is held or ignored instead of failing the whole batch again and again.

Only one poller may run per bot (Telegram answers 409 to a second); with several
``hotline worker`` processes use webhook mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import anyio
import httpx

from hotline.core.shell.context import AppContext

from .api import ALLOWED_UPDATES, api_base, open_bot
from .handler import handle
from .inbound import UpdateRefused

log = logging.getLogger("hotline.channels.telegram")
POLL_SECONDS = 50  # Telegram holds the request this long when nothing comes
PAUSE_SECONDS = 15.0  # after an error, before asking again
OFFSET_KEY = "telegram.getupdates.offset"

T = TypeVar("T")


class PollFailed(Exception):
    """getUpdates did not answer with updates; ``wait`` is Telegram's retry_after, if any."""

    def __init__(self, why: str, wait: float | None = None) -> None:
        self.wait = wait
        super().__init__(why)


async def load_offset(ctx: AppContext) -> int | None:
    value = await anyio.to_thread.run_sync(lambda: ctx.jobs.huey.get(OFFSET_KEY, peek=True))
    return int(value) if isinstance(value, int) else None


async def save_offset(ctx: AppContext, offset: int) -> None:
    await anyio.to_thread.run_sync(lambda: ctx.jobs.huey.put(OFFSET_KEY, offset))


async def get_updates(
    client: httpx.AsyncClient, url: str, offset: int | None, hold_seconds: int
) -> list[Any]:
    """One getUpdates call (Telegram holds it up to ``hold_seconds`` when nothing comes); the
    raw update objects, oldest first."""
    params: dict[str, Any] = {"timeout": hold_seconds, "allowed_updates": ALLOWED_UPDATES}
    if offset is not None:
        params["offset"] = offset
    response = await client.post(url, json=params, timeout=hold_seconds + 15)
    try:
        body = response.json()
    except ValueError:
        raise PollFailed(f"HTTP {response.status_code}, not JSON") from None
    if not isinstance(body, dict):
        raise PollFailed(f"HTTP {response.status_code}, not a Bot API answer")
    if body.get("ok") is True and isinstance(body.get("result"), list):
        return list(body["result"])
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    wait = parameters.get("retry_after") if parameters else None
    why = f"{body.get('error_code')} {str(body.get('description'))[:200]}"
    raise PollFailed(why, float(wait) if isinstance(wait, int | float) else None)


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event) -> tuple[bool, T | None]:
    """(True, result) when ``work`` finished; (False, None) when ``stop`` came first (the long
    poll is cancelled, so stopping does not wait for it)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        stopper.cancel()
        return True, task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False, None


async def pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def listen(ctx: AppContext, stop: asyncio.Event, *, poll_seconds: int = POLL_SECONDS) -> None:
    """Listener: handle updates as they come until ``stop`` is set."""
    settings = ctx.settings
    url = f"{api_base(settings)}/bot{settings.telegram_token}/getUpdates"
    async with open_bot(settings) as bot, httpx.AsyncClient() as client:
        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
        offset = await load_offset(ctx)
        while not stop.is_set():
            try:
                finished, updates = await unless_stopped(
                    get_updates(client, url, offset, poll_seconds), stop
                )
            except (PollFailed, httpx.HTTPError) as exc:
                wait = exc.wait if isinstance(exc, PollFailed) and exc.wait else PAUSE_SECONDS
                # the request URL carries the bot's token: name the error, never the URL
                why = str(exc) if isinstance(exc, PollFailed) else type(exc).__name__
                why = why.replace(settings.telegram_token, "<token>")[:200]
                log.warning("telegram getUpdates failed", extra={"why": why})
                await pause(stop, wait)
                continue
            if not finished:
                return
            for item in updates or []:
                update_id = item.get("update_id") if isinstance(item, dict) else None
                if not isinstance(update_id, int):
                    log.warning("telegram getUpdates gave something that is not an update")
                    continue
                raw = json.dumps(item, ensure_ascii=False).encode()
                try:
                    await handle(ctx, bot, raw, source="polling")
                except UpdateRefused as refused:
                    log.warning("telegram update refused", extra={"why": str(refused)})
                offset = update_id + 1
                await save_offset(ctx, offset)
