"""An agent on a call in the browser softphone transfers the caller (blind) to another agent:
the panel lists the queues and the agents available now; the softphone refers the caller to
the line's transfer number, the line takes the transfer and puts the caller through to the
other agent's desk phone, who hears the caller; the first agent's call ends, the transfer and
both legs are recorded."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.stack import SoftphoneStack
from hotline.core.axd.state import set_state
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import CallRecord, CallTransfer, QueueItem, SkillGroup
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_put_through import an_agent as desk_agent
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    CALLER_HZ,
    STATE,
    an_agent,
    caller_meets_agent,
    line,
    pick_and_answer,
    put_through_here,
    settings,
    share,
    stack,
    the_recordings,
    tone,
    wait,
)
from tests.sipcallers import DeskPhone, read_8k

pytestmark = pytest.mark.slow

OTHER_HZ = 600.0  # the second agent's desk phone


def transfer_to(other: int, available: Any) -> Any:
    def agent_does(driver: Any, url: str) -> dict[str, Any]:
        pick_and_answer(driver, url)
        time.sleep(2)
        available()  # the other agent comes back to their desk
        driver.execute_script("document.querySelector('[data-sp=transfer]').click()")
        wait(
            driver, "return document.querySelectorAll('[data-sp=transfer-to] option').length > 1", 5
        )
        options = driver.execute_script(
            "return [...document.querySelectorAll('[data-sp=transfer-to] option')]"
            ".map(o => [o.value, o.textContent, o.parentElement.label || ''])"
        )
        driver.execute_script(
            f"document.querySelector('[data-sp=transfer-to]').value = 'agent:{other}';"
            "document.querySelector('[data-sp=transfer-form] button').click()"
        )
        wait(driver, STATE.format("ready"), 15)  # the caller's phone left this call
        return {"options": options}

    return agent_does


async def test_an_agent_transfers_the_caller_to_another_agent(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    target, _ivr, _book = line
    async with ctx.db.transaction() as s:
        s.add(SkillGroup(code="water", name_zh="供水", name_en="Water supply"))
    first = await an_agent(ctx)
    loop = asyncio.get_running_loop()
    async with DeskPhone(tmp_path / "desk") as desk:
        desk.says(np.concatenate([np.zeros(4000, np.float32), tone(OTHER_HZ, 4, 8000)]))
        other = await desk_agent(ctx, desk.address)
        await set_state(ctx, other, AgentState.AWAY)  # not there when the call comes in

        def available() -> None:
            asyncio.run_coroutine_threadsafe(
                set_state(ctx, other, AgentState.AVAILABLE), loop
            ).result(5)

        seen = await caller_meets_agent(
            ctx, db_url, tmp_path, target, transfer_to(other, available), mic=30, calls=4
        )
        [at_desk] = desk.heard()

    assert ["agent:" + str(other), "Agent", "在线的话务员"] in seen["options"]
    assert ["queue:water", "供水", "队列"] in seen["options"]
    assert share(at_desk, CALLER_HZ) > 0.5  # the other agent heard the caller
    dumps = sorted(
        (tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime
    )
    assert len(dumps) == 4  # the line, the first agent, the line again, the other agent
    assert share(read_8k(dumps[-1]), OTHER_HZ) > 0.5

    async with ctx.db.session() as s:
        [moved] = await s.scalars(select(CallTransfer))
        item = await s.get(QueueItem, moved.item_id)
        records = list(await s.scalars(select(CallRecord).order_by(CallRecord.id)))
    assert (moved.kind, moved.target, moved.from_agent_id) == ("agent", str(other), first)
    assert moved.taken_at is not None and item is not None and item.agent_id == other
    assert [(r.agent_id, r.menu_path[-1], r.queue_item_id) for r in records] == [
        (first, "agent", item.id),
        (other, "transferred", item.id),
    ]
    assert put_through_here(records[1])  # by the relay
    # both agents' talk recorded, the desk phone's by the relay too: the caller on the left,
    # each agent on the right
    both = await the_recordings(ctx, stack, item.case_id, 2)
    assert all(share(left, CALLER_HZ) > 0.5 for left, _right in both)
    assert sorted(share(right, OTHER_HZ) > 0.5 for _left, right in both) == [False, True]
