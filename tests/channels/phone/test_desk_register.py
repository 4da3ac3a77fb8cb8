"""A desk phone registers to the hotline with its agent's extension and the password set in
the profile (baresip over UDP, SIP digest against the HA1 the line gives Kamailio), and a
call its agent takes is put through to it by the registrar and the relay, so it is recorded
like a softphone's: each party hears the other, the recording is on the case. A wrong
password does not register; an extension removed from the profile is unregistered."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from hotline.channels.phone.desk_accounts import DeskAccounts
from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.stack import SoftphoneStack
from hotline.core.axd.desk_phones import ha1
from hotline.core.axd.state import set_profile, set_state
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import CallTransfer
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_put_through import an_agent, take_the_call
from tests.channels.phone.test_line_queue import record_of
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    AGENT_HZ,
    CALLER_HZ,
    STATE,
    caller_meets_agent,
    line,
    pick_and_answer,
    put_through_here,
    settings,
    share,
    stack,
    the_recording,
    tone,
    wait,
)
from tests.channels.phone.test_softphone_call import an_agent as browser_agent
from tests.channels.phone.test_softphone_consult import ask_first, click, made_available
from tests.channels.phone.test_softphone_monitor import levels, loud
from tests.sipcallers import BaresipCaller, DeskPhone, read_8k

pytestmark = pytest.mark.slow

PASSWORD = "desk-phone-password-1"


async def registered(relay: SoftphoneStack, extension: str, within: float = 10.0) -> bool:
    for _ in range(int(within * 10)):
        if await relay.registered(extension):
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_desk_phone_registers_with_its_extension_and_takes_its_agents_calls(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
) -> None:
    target, _ivr, _book = line
    agent = await an_agent(ctx, "8012")
    profile = {"capacity": {"voice": 1}, "skills": {}, "languages": ["en", "zh_CN"]}
    await set_profile(ctx, agent, **profile, desk_phone="8012", desk_ha1=ha1("8012", PASSWORD))
    accounts = DeskAccounts(ctx, stack)
    await accounts.sync()
    registrar = f"{stack.sip[0]}:{stack.sip[1]}"

    async with DeskPhone(tmp_path / "wrong", "8012", registrar=registrar, password="not-it-1234"):
        assert not await registered(stack, "8012", within=3)

    async with DeskPhone(tmp_path / "desk", "8012", registrar=registrar, password=PASSWORD) as desk:
        assert await registered(stack, "8012")
        desk.says(np.concatenate([np.zeros(8000, np.float32), tone(AGENT_HZ, 4, 8000)]))
        caller = BaresipCaller(tmp_path / "caller", "+8613912345678")
        voice = np.concatenate([np.zeros(4000, np.float32), tone(CALLER_HZ, 40, 8000)])
        calling = asyncio.ensure_future(
            caller.call(target, voice, [(1.5, "1")], within=90, calls=2)
        )
        await take_the_call(ctx, agent)
        await calling
        [at_desk] = desk.heard()

        # the extension removed from the profile: the phone is unregistered at the next look
        await set_profile(ctx, agent, **profile, desk_phone=None)
        await accounts.sync()
        assert not await stack.registered("8012")

    assert share(at_desk, CALLER_HZ) > 0.5
    dumps = sorted(
        (tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime
    )
    assert share(read_8k(dumps[-1]), AGENT_HZ) > 0.5  # the caller heard the desk phone
    record = await record_of(ctx)
    assert record is not None and record.agent_id == agent
    assert put_through_here(record), (record.put_through_to, record.menu_path)
    left, right = await the_recording(ctx, stack, record.case_id)
    assert share(left, CALLER_HZ) > 0.5 and share(right, AGENT_HZ) > 0.5


OTHER_HZ = 600.0  # the consulted agent's desk phone


def consult_the_desk(other: int, available: Any) -> Any:
    def agent_does(driver: Any, url: str) -> dict[str, Any]:
        pick_and_answer(driver, url)
        available()
        ask_first(driver, other)
        wait(driver, "return window.hotlineSoftphone.consult === 'talking'", 15)  # it answers
        time.sleep(2.5)
        heard = levels(driver, "window.hotlineSoftphone.consultIn", OTHER_HZ, OTHER_HZ)
        click(driver, "hand-over")
        wait(driver, STATE.format("ready"), 20)
        return {"agent_hears": heard}

    return agent_does


@pytest.mark.parametrize("reached", ["extension", "address"])
async def test_an_agent_on_a_desk_phone_can_be_consulted_and_handed_the_caller(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
    db_url: str,  # noqa: F811
    reached: str,
) -> None:
    """The agent in the browser talks first to an agent with no softphone whose desk phone
    registers here (``extension``) or is a SIP address on their profile (``address``): the
    browser's WebRTC meets the desk phone's plain RTP in the relay; then the caller is handed
    over to the desk phone."""
    target, _ivr, _book = line
    await browser_agent(ctx)
    other = await an_agent(ctx, "8013")
    profile = {"capacity": {"voice": 1}, "skills": {}, "languages": ["en", "zh_CN"]}
    registers = reached == "extension"
    registrar = f"{stack.sip[0]}:{stack.sip[1]}" if registers else ""
    password = PASSWORD if registers else ""
    if registers:  # the registrar knows the extension before the phone starts
        await set_profile(ctx, other, **profile, desk_phone="8013", desk_ha1=ha1("8013", PASSWORD))
        await DeskAccounts(ctx, stack).sync()
    async with DeskPhone(tmp_path / "desk", "8013", registrar=registrar, password=password) as desk:
        if registers:
            assert await registered(stack, "8013")
        else:
            await set_profile(ctx, other, **profile, desk_phone=desk.address)
        await set_state(ctx, other, AgentState.AWAY)  # not offered the caller before the first
        available = made_available(ctx, other)
        desk.says(np.concatenate([np.zeros(4000, np.float32), tone(OTHER_HZ, 20, 8000)]))
        seen = await caller_meets_agent(
            ctx, db_url, tmp_path, target, consult_the_desk(other, available), mic=60, calls=4
        )
        heard = desk.heard()
    assert loud(seen["agent_hears"])  # the first agent heard the desk phone
    assert len(heard) == 2  # the consultation, then the caller
    assert share(heard[0], AGENT_HZ) > 0.3 and share(heard[0], CALLER_HZ) < 0.05
    assert share(heard[1], CALLER_HZ) > 0.5
    async with ctx.db.session() as s:
        [moved] = await s.scalars(select(CallTransfer))
    assert (moved.kind, moved.target, moved.attended) == ("agent", str(other), True)
