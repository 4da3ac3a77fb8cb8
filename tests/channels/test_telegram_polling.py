"""Polling mode (no webhook secret): the listener long-polls getUpdates on the stand-in, takes
what citizens sent, keeps its offset so a restart reads nothing twice, waits out flood control,
and removes a webhook left from webhook mode (Telegram refuses getUpdates while one is set)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.channels.chat.telegram.listener import listen, load_offset
from hotline.core.cases import tracking
from hotline.core.shell.context import AppContext, Kernel, open_context
from hotline.core.storage.models.cases import Case
from tests.conftest import drain_jobs, seed_city, sqlite_app_settings
from tests.telegram_api import TelegramStandIn, message, running

TOKEN = "987654321:AAF-polling-test-token"
CHAT = 626262


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    with running(TOKEN) as api:
        yield api


@pytest.fixture
def kernel(tmp_path: Path, sqlite_template: Path, telegram_api: TelegramStandIn) -> Kernel:
    settings = sqlite_app_settings(tmp_path, sqlite_template).model_copy(
        update={"telegram_token": TOKEN, "telegram_api_url": telegram_api.url}
    )
    return Kernel(settings)


@pytest.fixture
async def ctx(kernel: Kernel) -> AsyncIterator[AppContext]:
    async with open_context(kernel.settings, kernel) as context:
        await seed_city(context)
        yield context


async def _cases(ctx: AppContext) -> list[Case]:
    async with ctx.db.session() as s:
        return list(await s.scalars(select(Case).order_by(Case.id)))


def _asked_past(api: TelegramStandIn, update_id: int) -> bool:
    """The listener asked for the updates after ``update_id``: it has handled that one."""
    return any(int(p.get("offset") or 0) > update_id for p in api.called("getUpdates"))


async def _run_until(ctx: AppContext, api: TelegramStandIn, update_id: int) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(listen(ctx, stop, poll_seconds=5))
    try:
        handled = await asyncio.to_thread(api.wait_for, lambda: _asked_past(api, update_id))
        assert handled, "the listener did not take the update"
    finally:
        stop.set()
        await task  # returns at once: the long poll is cancelled


async def test_polling_picks_updates_up_and_a_restart_reads_none_twice(
    ctx: AppContext, kernel: Kernel, telegram_api: TelegramStandIn
) -> None:
    assert [s.name for s in kernel.jobs.listeners] == ["telegram.polling"]
    telegram_api.webhook = {"url": "https://old.example/hook", "secret_token": "x"}
    telegram_api.fail_next("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    first = telegram_api.queue_update(message(CHAT, text="公园的路灯不亮了。"))
    await _run_until(ctx, telegram_api, first["update_id"])

    assert telegram_api.webhook["url"] == ""  # deleteWebhook came first
    [case] = await _cases(ctx)
    assert case.first_channel == "telegram" and case.description == "公园的路灯不亮了。"
    assert await load_offset(ctx) == first["update_id"] + 1

    calls_before = len(telegram_api.called("getUpdates"))
    second = telegram_api.queue_update(
        message(CHAT, language="en", text="And the bench is broken.")
    )
    await _run_until(ctx, telegram_api, second["update_id"])
    restarted = telegram_api.called("getUpdates")[calls_before]
    assert restarted["offset"] == first["update_id"] + 1  # where the last run stopped
    assert [c.description for c in await _cases(ctx)] == [
        "公园的路灯不亮了。",
        "And the bench is broken.",
    ]

    while await asyncio.to_thread(drain_jobs, ctx.jobs):
        pass
    receipts = telegram_api.texts_to(CHAT)
    assert len(receipts) == 2
    assert tracking.display(case.tracking_number) in receipts[0]


async def test_an_update_the_library_cannot_read_does_not_block_the_others(
    ctx: AppContext, telegram_api: TelegramStandIn
) -> None:
    broken: dict[str, Any] = {"message": {"message_id": 1, "chat": "nobody", "date": 0}}
    telegram_api.queue_update(broken)
    good = telegram_api.queue_update(message(CHAT, text="下水道井盖松动。"))
    await _run_until(ctx, telegram_api, good["update_id"])
    [case] = await _cases(ctx)
    assert case.description == "下水道井盖松动。"
