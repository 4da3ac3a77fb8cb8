"""The agent puts the caller on hold from the browser softphone and takes them back: the caller
(a real baresip) hears the agent, then the music on hold, then the agent again; the recording's
agent channel holds the same; the call's record counts one hold of about the time it lasted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.stack import SoftphoneStack
from hotline.core.shell.context import AppContext
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_queue import record_of
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    AGENT_HZ,
    STATE,
    an_agent,
    caller_meets_agent,
    line,
    pick_and_answer,
    settings,
    share,
    stack,
    the_recording,
    wait,
)
from tests.sipcallers import read_8k

pytestmark = pytest.mark.slow

HOLD_SECONDS = 5.0


def hold_and_resume(driver: Any, url: str) -> dict[str, Any]:
    """Pick and answer the call, talk 3 s, hold for HOLD_SECONDS, resume, talk 3 s, hang up."""
    pick_and_answer(driver, url)
    time.sleep(3)
    driver.execute_script("document.querySelector('[data-sp=hold]').click()")
    wait(driver, "return window.hotlineSoftphone.held === true", 5)
    seen = {
        "status": driver.execute_script(
            "return document.querySelector('[data-sp=status]').textContent"
        ),
        "button": driver.execute_script(
            "return document.querySelector('[data-sp=hold]').getAttribute('aria-pressed')"
        ),
    }
    time.sleep(HOLD_SECONDS)
    driver.execute_script("document.querySelector('[data-sp=hold]').click()")
    wait(driver, "return window.hotlineSoftphone.held === false", 5)
    time.sleep(3)
    driver.execute_script("document.querySelector('[data-sp=hangup]').click()")
    wait(driver, STATE.format("ready"), 10)
    return seen


def heard_as(audio: np.ndarray) -> str:
    """Each second of what a party sent: ``A`` the agent's tone, ``M`` music, ``.`` silence."""
    out = []
    for n in range(len(audio) // 8000):
        second = audio[n * 8000 : (n + 1) * 8000]
        if np.sqrt(np.mean(second**2)) < 0.01:
            out.append(".")
        else:
            out.append("A" if share(second, AGENT_HZ) > 0.5 else "M")
    return "".join(out)


async def test_the_caller_hears_music_while_on_hold_and_the_agent_again_after(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    target, _ivr, _book = line
    await an_agent(ctx)
    seen = await caller_meets_agent(ctx, db_url, tmp_path, target, hold_and_resume, mic=30, calls=2)
    assert seen == {"status": "等待中：来电人正在听等待音乐", "button": "true"}

    dumps = sorted(
        (tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime
    )
    caller_heard = heard_as(read_8k(dumps[-1]))
    print("the caller heard, second by second:", caller_heard)
    assert "AA" in caller_heard and "MMMM" in caller_heard
    assert caller_heard.index("MMMM") > caller_heard.index("AA")
    assert "AA" in caller_heard[caller_heard.rindex("MMMM") :]  # the agent again after

    record = await record_of(ctx)
    assert record is not None and record.holds == 1
    assert abs(record.hold_seconds - HOLD_SECONDS) < 1.5
    _left, right = await the_recording(ctx, stack, record.case_id)
    recorded = heard_as(right)
    assert "MMMM" in recorded and recorded.index("MMMM") > recorded.index("AA")
