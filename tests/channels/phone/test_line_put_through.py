"""A real caller (baresip) asks for an agent, waits in the AXD queue, and the agent who takes
the call in the console talks to them on their desk phone (a third baresip): the line transfers
the call at once (SIP REFER, which the caller's phone follows), and each side hears the other. The queue item stays the agent's until they finish it; the call detail record says
where the call went."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.core.axd.state import accept, set_profile, set_state
from hotline.core.people.accounts import hash_password
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.axd import CallRecord, QueueItem
from hotline.core.storage.models.people import User
from tests.channels.phone.lines import line_with
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_queue import MENU, record_of
from tests.sipcallers import BaresipCaller, DeskPhone, read_8k, similarity, speech

pytestmark = pytest.mark.slow


@pytest.fixture
async def line(ctx: AppContext) -> AsyncIterator[tuple[str, Ivr, PromptBook]]:
    async with line_with(ctx, MENU) as found:
        yield found


async def an_agent(ctx: AppContext, desk_phone: str) -> int:
    async with ctx.db.transaction() as s:
        user = User(
            username="agent-on-desk",
            display_name="Agent",
            role="agent",
            password_hash=hash_password("x"),
        )
        s.add(user)
    await set_profile(
        ctx,
        user.id,
        capacity={"voice": 1},
        skills={},
        languages=["en", "zh_CN"],
        desk_phone=desk_phone,
    )
    await set_state(ctx, user.id, AgentState.AVAILABLE)
    return user.id


async def take_the_call(ctx: AppContext, agent: int, within: float = 40.0) -> int:
    """The agent accepts the call as soon as it waits in the queue (as from the console)."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        async with ctx.db.session() as s:
            item = await s.scalar(select(QueueItem.id).where(QueueItem.media == "voice"))
        if item is not None and await accept(ctx, item, agent):
            return item
        await asyncio.sleep(0.3)
    raise AssertionError("no call waited in the queue")


async def test_the_agent_talks_to_the_caller_on_their_desk_phone(
    ctx: AppContext, line: tuple[str, Ivr, PromptBook], tmp_path: Path
) -> None:
    target, _ivr, _book = line
    words = read_8k(speech(tmp_path / "c.wav", "The street light outside my house is broken"))
    # said from the start of each call: ignored by the menu, heard by the agent
    caller_voice = np.concatenate(
        [np.zeros(4000, np.float32), words, np.zeros(40 * 8000, np.float32)]
    )
    greeting = read_8k(speech(tmp_path / "a.wav", "City hotline, this is Lin speaking", pitch=30))
    async with DeskPhone(tmp_path / "desk") as desk:
        desk.says(
            np.concatenate([np.zeros(8000, np.float32), greeting, np.zeros(3 * 8000, np.float32)])
        )
        agent = await an_agent(ctx, desk.address)
        caller = BaresipCaller(tmp_path / "caller", "+8613912345678")
        calling = asyncio.ensure_future(
            caller.call(target, caller_voice, [(1.5, "1")], within=90, calls=2)
        )
        item = await take_the_call(ctx, agent)
        heard = await calling
        at_desk = desk.heard()
    assert similarity(greeting, heard)[0] > 0.7  # the caller heard the agent
    [agent_heard] = at_desk
    assert similarity(words, agent_heard)[0] > 0.7  # and the agent heard the caller

    record = await record_of(ctx)
    assert record is not None
    assert (record.left_reason, record.agent_id, record.hung_up_by, record.put_through_to) == (
        "answered",
        agent,
        "transfer",
        desk.address,
    )
    async with ctx.db.session() as s:
        call = await s.get(QueueItem, item)
        assert call is not None
        # the agent's until they finish it in the console: no call-back request was made
        assert (call.state, call.outcome, call.agent_id) == (QueueState.ASSIGNED, "answered", agent)
        assert await s.scalar(select(CallRecord.id).where(CallRecord.agent_id == agent))
        assert len(list(await s.scalars(select(QueueItem)))) == 1
