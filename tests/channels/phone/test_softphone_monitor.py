"""A supervisor listens in to an agent's call from the team board, in a second Chromium: in
silent listening they hear both parties (the caller's tone and the agent's) and nobody hears
them; whispering, the agent's softphone receives them and the caller still does not; barging
in, the caller hears them too. Each time is audited on the case."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import soundfile
from sqlalchemy import select

from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.stack import SoftphoneStack
from hotline.core.people.accounts import hash_password
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.cases import CaseEvent
from hotline.core.storage.models.people import User
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    AGENT_HZ,
    CALLER_HZ,
    PASSWORD,
    STATE,
    _sign_in,
    an_agent,
    caller_meets_agent,
    chromium,
    line,
    pick_and_answer,
    settings,
    share,
    stack,
    tone,
    wait,
)
from tests.sipcallers import read_8k

pytestmark = pytest.mark.slow

SUPERVISOR_HZ = 300.0
MODE_SECONDS = 3.0

# the level (dB) of the strongest bin near each tone in what an analyser hears, and the median
LEVELS = """
const a = {analyser};
if (!a) return null;
const bins = new Float32Array(a.frequencyBinCount);
a.getFloatFrequencyData(bins);
const at = (hz) => {{
  const i = Math.round(hz * a.fftSize / a.context.sampleRate);
  return Math.max(...bins.slice(i - 2, i + 3));
}};
const sorted = [...bins].sort((x, y) => x - y);
return [at({first}), at({second}), sorted[Math.floor(sorted.length / 2)]];
"""


def levels(driver: Any, analyser: str, first: float, second: float) -> Any:
    script = LEVELS.format(analyser=analyser, first=first, second=second)
    return driver.execute_script(script)


async def a_supervisor(ctx: AppContext) -> None:
    """Supervisor Lee, who signs in as ``supervisor-lee``."""
    async with ctx.db.transaction() as s:
        s.add(
            User(
                username="supervisor-lee",
                display_name="Supervisor Lee",
                role="supervisor",
                password_hash=hash_password(PASSWORD),
            )
        )


def at_the_team_board(work: Path, url: str, seconds: float) -> Any:
    """Supervisor Lee at the team board, in Chromium whose microphone says their tone for
    ``seconds``."""
    microphone = work / "supervisor-tone.wav"
    soundfile.write(str(microphone), tone(SUPERVISOR_HZ, seconds, 16000), 16000, subtype="PCM_16")
    driver = chromium(work / "supervisor", microphone)
    _sign_in(driver, url, "supervisor-lee", "en")
    driver.get(f"{url}/console/team?lang=en")
    return driver


def supervise(work: Path, url: str) -> dict[str, Any]:
    driver = at_the_team_board(work, url, 40)
    seen: dict[str, Any] = {}
    try:
        from selenium.webdriver.common.by import By

        for mode in ("listen", "whisper", "barge"):
            wait(driver, f"return document.querySelector('[data-monitor-mode={mode}]')", 10)
            driver.execute_script(f"document.querySelector('[data-monitor-mode={mode}]').click()")
            wait(driver, f"return window.hotlineMonitor.state === '{mode}'", 10)
            seen[f"{mode}_status"] = driver.find_element(By.ID, "monitor").text
            time.sleep(MODE_SECONDS / 2)
            seen[mode] = levels(driver, "window.hotlineMonitor.heard", CALLER_HZ, AGENT_HZ)
            time.sleep(MODE_SECONDS / 2)
            seen.setdefault("agent_side", {})[mode] = yield_agent(mode)
            driver.execute_script("document.querySelector('[data-monitor-stop]').click()")
            wait(driver, "return window.hotlineMonitor.state === 'off'", 10)
            time.sleep(0.5)
    finally:
        driver.quit()
    return seen


AGENT_DRIVER: list[Any] = []


def yield_agent(mode: str) -> Any:
    """What the agent's softphone receives from the supervisor now (300 Hz level)."""
    driver = AGENT_DRIVER[0]
    return [
        driver.execute_script("return window.hotlineSoftphone.monitored"),
        levels(driver, "window.hotlineSoftphone.monitorIn", SUPERVISOR_HZ, SUPERVISOR_HZ),
    ]


def answer_and_be_supervised(work: Path) -> Any:
    def agent_does(driver: Any, url: str) -> dict[str, Any]:
        AGENT_DRIVER[:] = [driver]
        pick_and_answer(driver, url)
        seen = supervise(work, url)
        driver.execute_script("document.querySelector('[data-sp=hangup]').click()")
        wait(driver, STATE.format("ready"), 10)
        return seen

    return agent_does


def loud(found: Any) -> bool:
    """The first tone's level well above the median (heard), from LEVELS."""
    return bool(found) and found[0] > found[2] + 25


async def test_a_supervisor_listens_whispers_and_barges_in(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    target, _ivr, _book = line
    await an_agent(ctx)
    await a_supervisor(ctx)
    seen = await caller_meets_agent(
        ctx, db_url, tmp_path, target, answer_and_be_supervised(tmp_path), mic=60, calls=2
    )
    print("supervised:", seen)
    # silent listening: the supervisor hears the caller and the agent
    first, second, median = seen["listen"]
    assert first > median + 25 and second > median + 25
    assert seen["listen_status"].startswith("Listening in to Agent Lin")
    # the agent's softphone receives the supervisor in every mode (it plays it only for
    # whisper and barge)
    assert [mode for mode, _ in seen["agent_side"].values()] == ["listen", "whisper", "barge"]
    assert all(loud(level) for _mode, level in seen["agent_side"].values())
    # the caller heard the supervisor only while they barged in
    dumps = sorted(
        (tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime
    )
    heard = read_8k(dumps[-1])
    seconds = [heard[n * 8000 : (n + 1) * 8000] for n in range(len(heard) // 8000)]
    with_supervisor = [n for n, sec in enumerate(seconds) if share(sec, SUPERVISOR_HZ) > 0.2]
    print("the caller heard the supervisor in seconds", with_supervisor, "of", len(seconds))
    assert 2 <= len(with_supervisor) <= MODE_SECONDS + 2
    assert sum(share(sec, AGENT_HZ) > 0.2 for sec in seconds) >= 5  # and the agent all along
    async with ctx.db.session() as s:
        audited = list(
            await s.scalars(select(CaseEvent.detail).where(CaseEvent.action == "call_monitored"))
        )
    assert [d["mode"] for d in audited] == ["listen", "whisper", "barge"]
