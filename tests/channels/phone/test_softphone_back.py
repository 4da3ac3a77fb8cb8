"""A call put through to an agent's browser softphone that the agent does not take goes back to
the queue, first in line, instead of leaving the caller on a dead line: a real caller (baresip),
the line, Kamailio and rtpengine, the console in Chromium. The agent lets it ring out (the ring
time is the queue's offer time), then declines it, then answers it: the caller hears the line
again after each, and talks to the agent in the end; each ring the agent did not take is a
missed offer; the call keeps one record."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.stack import SoftphoneStack
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.axd import AgentPresence, CallRecord, QueueOffer
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_queue import record_of
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    AGENT_HZ,
    CALLER_HZ,
    PEAK,
    STATE,
    _sign_in,
    an_agent,
    caller_meets_agent,
    line,
    put_through_here,
    settings,
    share,
    stack,
    the_recording,
    wait,
)
from tests.sipcallers import read_8k

pytestmark = pytest.mark.slow


def pick_when_waiting(driver: Any, url: str) -> None:
    """The agent opens the queue until the call waits there, and picks it (a second on: the
    caller's baresip names what each call heard by the second it began)."""
    time.sleep(1.2)
    pick = "document.querySelector(\"form[action$='/pick'] button\")"
    deadline = time.monotonic() + 60
    while True:
        driver.get(f"{url}/console/queue")
        wait(driver, STATE.format("ready"), 20)
        if driver.execute_script(f"return {pick}"):
            break
        assert time.monotonic() < deadline, "no call waited in the queue"
        time.sleep(1)
    driver.execute_script(f"{pick}.click()")
    wait(driver, STATE.format("ringing"), 20)


def ring_out_decline_then_answer(driver: Any, url: str) -> dict[str, Any]:
    _sign_in(driver, url)
    out: dict[str, Any] = {}
    pick_when_waiting(driver, url)
    rang = time.monotonic()
    wait(driver, STATE.format("ready"), 30)  # nobody answered: the ring ends by itself
    out["rang_seconds"] = time.monotonic() - rang
    pick_when_waiting(driver, url)  # the call waits again
    driver.execute_script("document.querySelector('[data-sp=decline]').click()")
    wait(driver, STATE.format("ready"), 10)
    pick_when_waiting(driver, url)
    driver.execute_script("document.querySelector('[data-sp=answer]').click()")
    wait(driver, STATE.format("talking"), 10)
    peaks = []
    for _ in range(15):
        time.sleep(0.2)
        peaks.append(driver.execute_script(PEAK))
    out["peaks"] = peaks
    time.sleep(1)
    driver.execute_script("document.querySelector('[data-sp=hangup]').click()")
    wait(driver, STATE.format("ready"), 10)
    return out


async def test_a_call_the_softphone_does_not_take_waits_again_first_in_line(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    target, _ivr, _book = line
    agent = await an_agent(ctx)
    # the caller's calls: the line, back from the ring out, back from the decline, the agent
    seen = await caller_meets_agent(
        ctx, db_url, tmp_path, target, ring_out_decline_then_answer, mic=60, calls=4
    )
    print("ring out:", seen["rang_seconds"], seen["peaks"][-3:])

    # the ring lasted the queue's offer time (8 s here), not the browser's minute
    assert 6 < seen["rang_seconds"] < 14
    heard = [p for p in seen["peaks"] if p]
    assert sum(abs(hz - CALLER_HZ) < 30 for hz, _db in heard) >= len(seen["peaks"]) * 0.6, heard
    # four calls on the caller's side: the line, the line again twice, the agent at last
    dumps = [read_8k(p) for p in (tmp_path / "caller" / "dumps").glob("dump-*-dec.wav")]
    assert len(dumps) == 4
    assert sorted(share(d, AGENT_HZ) > 0.5 for d in dumps if len(d)) == [False] * 3 + [True]

    async with ctx.db.session() as s:
        offers = list(await s.scalars(select(QueueOffer).order_by(QueueOffer.id)))
        presence = await s.get(AgentPresence, agent)
    # the offer on the agent's screen ran out (the agent picked the call from the queue
    # instead), then the ring out and the decline; each pick shows the agent is there, so the
    # misses are not in a row and the agent stays available
    assert [(o.agent_id, o.outcome) for o in offers] == [(agent, "missed")] * 3
    assert presence is not None and presence.missed_offers == 3
    assert presence.state == "available"
    record = await record_of(ctx)
    async with ctx.db.session() as s:
        records = list(await s.scalars(select(CallRecord)))
    assert record is not None and len(records) == 1  # one call, one record
    assert (record.left_reason, record.agent_id) == ("answered", agent)
    assert put_through_here(record)
    assert record.menu_path.count("returned") == 2
    left, _right = await the_recording(ctx, stack, record.case_id)  # the answered ring only
    assert share(left, CALLER_HZ) > 0.5
