"""A real caller (SIPp on loopback, through baresip, the IVR and the kernel's desk) chooses to
speak to an agent, waits in the AXD queue hearing their place in line, and hangs up: the call
is abandoned, with its wait time, in the queue item and in the call detail record, and a
call-back request waits in its place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.channels.phone import texts
from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.axd import CallRecord, QueueItem
from tests.channels.phone.lines import line_with
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.sipcallers import (
    Ear,
    Scenario,
    read_8k,
    run_sipp,
    similarity,
)

pytestmark = pytest.mark.slow

MENU = """
start = "main"
languages = ["en", "zh_CN"]
hours = "always"
fallback = "message"
closed = "message"
timeout_seconds = 5
announce_seconds = 10
[nodes.main]
prompt = { en = "To speak to an agent, press 1.", zh_CN = "人工服务请按1。" }
options = { "1" = "agent" }
[nodes.agent]
prompt = { en = "Please hold.", zh_CN = "请稍候。" }
action = "queue"
queue = "general"
[nodes.message]
prompt = { en = "Leave a message after the tone.", zh_CN = "请在提示音后留言。" }
action = "voicemail"
"""
WAIT = 18.0  # seconds on the line after choosing: the recording notice (~3 s), the announcement (~10 s), then music


@pytest.fixture
async def line(ctx: AppContext) -> AsyncIterator[tuple[str, Ivr, PromptBook]]:
    async with line_with(ctx, MENU) as found:
        yield found


async def record_of(
    ctx: AppContext,
    timeout: float = 10.0,
    ready: Callable[[CallRecord], bool] = lambda _record: True,
) -> CallRecord | None:
    """The call's record once written and ``ready`` (a record rewritten later, as for a call
    that came back to the line, is waited for by what the rewrite adds); else the last seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    found = None
    while asyncio.get_running_loop().time() < deadline:
        async with ctx.db.session() as s:
            found = await s.scalar(select(CallRecord))
        if found is not None and ready(found):
            return found
        await asyncio.sleep(0.2)
    return found


async def test_a_caller_waits_for_an_agent_then_hangs_up(
    ctx: AppContext, line: tuple[str, Ivr, PromptBook], tmp_path: Path
) -> None:
    target, ivr, book = line
    said = " ".join(
        [
            ivr.say("en", texts.PLACE) % {"position": 1},
            ivr.say("en", texts.WAIT_A_MINUTE),
            ivr.say("en", texts.QUEUE_KEYS),
        ]
    )
    announcement = read_8k(await book.speak(said, "en"))
    ear = await Ear().open()
    steps = [("pause", 1500), ("rfc2833", "1"), ("pause", int(WAIT * 1000))]
    try:
        run = await run_sipp(
            Scenario(steps, hangup=True, rtp_port=ear.port),
            tmp_path / "sipp",
            target,
            caller="+8613912345678",
        )
    finally:
        ear.close()
    assert run.returncode == 0, run.stdout + run.errors
    heard = ear.audio()
    # the place in line and the expected wait, spoken to the caller, then the music on hold
    # from its start (measured: 0.85 and 0.99, the music 0.4 s after the announcement ends)
    said_score, said_at = similarity(announcement, heard)
    assert said_score > 0.7, said_score
    music_score, music_at = similarity(read_8k(await book.hold())[: 2 * 8000], heard)
    assert music_score > 0.9, music_score
    assert said_at + len(announcement) / 8000 - 0.5 < music_at, (said_at, music_at)

    record = await record_of(ctx)
    assert record is not None
    async with ctx.db.session() as s:
        call, callback = list(await s.scalars(select(QueueItem).order_by(QueueItem.id)))
    assert (call.media, call.skills, call.outcome) == ("voice", ["general"], "abandoned")
    assert call.done_at is not None
    waited = (call.done_at - call.waiting_since).total_seconds()
    assert WAIT - 2 < waited < WAIT + 1.5, waited
    assert (record.caller, record.menu_path, record.queue) == (
        "+8613912345678",
        ["main", "agent"],
        "general",
    )
    assert (record.left_reason, record.hung_up_by, record.queue_item_id) == (
        "abandoned",
        "caller",
        call.id,
    )
    assert record.wait_seconds is not None and abs(record.wait_seconds - waited) < 0.2
    assert record.queued_at is not None and record.arrived_at < record.queued_at < record.ended_at
    # the number is known: a call-back request on the same case waits in the same queue
    assert (callback.media, callback.case_id, callback.skills) == (
        "callback",
        call.case_id,
        ["general"],
    )
