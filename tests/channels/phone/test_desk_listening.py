"""The line arranges a supervisor's listening in to a call an agent takes on a desk phone, with
the real relay (rtpengine) and Kamailio's table of desk phones' calls: a softphone's call is
left to the softphone; whisper and barge-in are refused on a desk phone; silent listening gets
the relay's WebRTC offer of both parties' audio, send-only; stopping ends the copy; a call the
relay does not know is refused; and with no line running the console gives up, saying so."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.desk_listening import DESK_ONLY_LISTENS, RELAY_REFUSED
from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.stack import SoftphoneStack
from hotline.core.axd import listenings
from hotline.core.axd.state import accept
from hotline.core.people.passwords import hash_password
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.axd import CallListening, QueueItem
from hotline.core.storage.models.cases import CaseEvent
from hotline.core.storage.models.people import User
from tests.browser import CHROMEDRIVER, CHROMIUM
from tests.channels.phone.test_desk_queue import an_agent, caller
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_put_through import an_agent as desk_agent
from tests.channels.phone.test_line_put_through import take_the_call
from tests.channels.phone.test_line_queue import record_of
from tests.channels.phone.test_softphone_call import (  # noqa: F401 (fixtures)
    AGENT_HZ,
    CALLER_HZ,
    PASSWORD,
    SECRET,
    _mtime,
    _sign_in,
    chromium,
    console_served,
    line,
    put_through_here,
    settings,
    share,
    stack,
    the_recording,
    tone,
    wait,
)
from tests.channels.phone.test_softphone_monitor import (
    SUPERVISOR_HZ,
    a_supervisor,
    at_the_team_board,
    levels,
)
from tests.conftest import need
from tests.sipcallers import BaresipCaller, DeskPhone, read_8k

pytestmark = pytest.mark.slow


def plain_sdp(port: int) -> str:
    return (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )


async def a_call_taken(ctx: AppContext) -> tuple[int, int]:
    """A caller's call the agent took, and a supervisor: (queue item, supervisor)."""
    agent = await an_agent(ctx)
    async with ctx.db.transaction() as s:
        boss = User(
            username="lee", display_name="Lee", role="supervisor", password_hash=hash_password("x")
        )
        s.add(boss)
    item_id, _ = await KernelDesk(ctx).enqueue(caller("c1"), "general")
    assert await accept(ctx, item_id, agent)
    return item_id, boss.id


async def listen(ctx: AppContext, item_id: int, boss: int, mode: str = "listen") -> int:
    async with ctx.db.transaction() as s:
        item = await s.get(QueueItem, item_id)
        row = listenings.ask(s, boss, item_id, item.agent_id, mode)
    return row.id


async def ended(ctx: AppContext, listening_id: int, within: float = 5.0) -> bool:
    """Whether the listening is over, with its end's time, within ``within`` seconds."""
    for _ in range(int(within * 10)):
        async with ctx.db.session() as s:
            row = await s.get(CallListening, listening_id)
        if row is not None and row.state == listenings.ENDED:
            return row.ended_at is not None
        await asyncio.sleep(0.1)
    return False


async def test_the_line_offers_a_supervisor_both_parties_of_a_desk_phones_call(
    ctx: AppContext,
    stack: SoftphoneStack,  # noqa: F811
) -> None:
    item_id, boss = await a_call_taken(ctx)
    # the call as the relay carries it between a caller and a desk phone
    await stack.relay("offer", call_id="desk-1", from_tag="caller", sdp=plain_sdp(41000))
    await stack.relay(
        "answer", call_id="desk-1", from_tag="caller", to_tag="desk", sdp=plain_sdp(41002)
    )

    # Kamailio has not seen a desk phone answer it: the softphone's to listen to
    first = await listenings.moved(ctx, await listen(ctx, item_id, boss))
    assert first.state == listenings.SOFTPHONE

    await stack.rpc("htable.sets", "deskcalls", str(item_id), "desk-1|caller|desk")
    whisper = await listenings.moved(ctx, await listen(ctx, item_id, boss, "whisper"))
    assert (whisper.state, whisper.error) == (listenings.REFUSED, DESK_ONLY_LISTENS)

    offered = await listenings.moved(ctx, await listen(ctx, item_id, boss))
    assert offered.state == listenings.OFFERED and len(offered.offers) == 2  # each party
    for offer in offered.offers:
        sdp = offer.split("\r\n")
        [audio] = [said for said in sdp if said.startswith("m=audio")]
        assert "UDP/TLS/RTP/SAVPF" in audio
        assert "a=sendonly" in sdp and "a=rtcp-mux" in sdp
        assert any(said.startswith("a=mid:") for said in sdp)
        assert any(said.startswith("a=fingerprint:") for said in sdp)
        assert any(said.startswith("a=candidate:") for said in sdp)

    # another supervisor cannot stop it; its own can, and the line ends the relay's copy
    assert not await listenings.stop(ctx, offered.id, boss + 100)
    assert await listenings.stop(ctx, offered.id, boss)
    assert await ended(ctx, offered.id)

    # a listening whose call ends (Kamailio forgets it at the hang-up) ends with it
    again = await listenings.moved(ctx, await listen(ctx, item_id, boss))
    assert again.state == listenings.OFFERED
    assert await listenings.change(ctx, again.id, (listenings.OFFERED,), state="listening")
    await stack.rpc("htable.delete", "deskcalls", str(item_id))
    assert await ended(ctx, again.id)

    # a call the relay no longer carries
    await stack.rpc("htable.sets", "deskcalls", str(item_id), "gone-1|caller|desk")
    gone = await listenings.moved(ctx, await listen(ctx, item_id, boss))
    assert (gone.state, gone.error) == (listenings.REFUSED, RELAY_REFUSED)

    # nor one whose Call-ID a caller's phone made of bytes that are not UTF-8: refused as well
    await stack.rpc("htable.sets", "deskcalls", str(item_id), "gbk-\udcd5\udcc5|caller|desk")
    assert (await stack.rpc("htable.get", "deskcalls", str(item_id)))["item"]["value"] == (  # type: ignore[index]
        "gbk-\udcd5\udcc5|caller|desk"
    )
    odd = await listenings.moved(ctx, await listen(ctx, item_id, boss))
    assert (odd.state, odd.error) == (listenings.REFUSED, RELAY_REFUSED)


async def test_with_no_line_running_the_console_gives_up_and_says_so(ctx: AppContext) -> None:
    item_id, boss = await a_call_taken(ctx)
    found = await listenings.moved(ctx, await listen(ctx, item_id, boss), within=0.3)
    assert (found.state, found.error) == (listenings.REFUSED, listenings.NO_LINE)
    # an answer to a refused listening is not taken
    assert not await listenings.answered(ctx, found.id, boss, ["v=0\r\n"])
    # an answered one is stopped instead: the line, when it runs again, ends what it made
    answered = await listen(ctx, item_id, boss)
    assert await listenings.change(ctx, answered, (listenings.ASKED,), state=listenings.OFFERED)
    assert await listenings.answered(ctx, answered, boss, ["v=0\r\n", "v=0\r\n"])
    found = await listenings.moved(ctx, answered, within=0.3)
    assert (found.state, found.error) == (listenings.STOPPING, listenings.NO_LINE)


def supervise_the_desk(work: Path, url: str) -> dict[str, Any]:
    """The supervisor, in Chromium whose microphone says their tone: asks to whisper (refused:
    a desk phone), listens silently for a while, stops."""
    from selenium.webdriver.common.by import By

    driver = at_the_team_board(work, url, 60)
    seen: dict[str, Any] = {}
    try:
        button = "document.querySelector('[data-monitor-mode={}]')"
        wait(driver, "return " + button.format("whisper"), 15)
        driver.execute_script(button.format("whisper") + ".click()")
        wait(driver, "return !document.getElementById('monitor').hidden", 10)
        seen["whisper"] = driver.find_element(By.ID, "monitor").text
        driver.execute_script(button.format("listen") + ".click()")
        try:
            wait(driver, "return window.hotlineMonitor.state === 'listen'", 15)
        except AssertionError:
            said = driver.find_element(By.ID, "monitor").text
            raise AssertionError(f"not listening; the board says {said!r}") from None
        seen["status"] = driver.find_element(By.ID, "monitor").text
        time.sleep(3)
        seen["listen"] = levels(driver, "window.hotlineMonitor.heard", CALLER_HZ, AGENT_HZ)
        seen["connection"] = driver.execute_script("return window.hotlineMonitor.seen")
        driver.execute_script("document.querySelector('[data-monitor-stop]').click()")
        wait(driver, "return window.hotlineMonitor.state === 'off'", 10)
    finally:
        driver.quit()
    return seen


async def test_a_supervisor_listens_in_to_a_desk_phones_call_and_nobody_hears_them(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],  # noqa: F811
    stack: SoftphoneStack,  # noqa: F811
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    """A baresip caller talks to an agent's desk phone (another baresip, by its SIP address,
    through the relay); a supervisor in Chromium hears both, and neither hears them. The
    recording on the case is the caller's and the agent's, as without listening."""
    need(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "Chromium and chromedriver")
    target, _ivr, _book = line
    await a_supervisor(ctx)
    served = await console_served(ctx, db_url)
    try:
        async with DeskPhone(tmp_path / "desk") as desk:
            desk.says(np.concatenate([np.zeros(8000, np.float32), tone(AGENT_HZ, 30, 8000)]))
            agent = await desk_agent(ctx, desk.address)
            voice = np.concatenate([np.zeros(4000, np.float32), tone(CALLER_HZ, 60, 8000)])
            caller_phone = BaresipCaller(tmp_path / "caller", "+8613912345678")
            calling = asyncio.ensure_future(
                caller_phone.call(target, voice, [(1.5, "1")], within=120, calls=2)
            )
            await take_the_call(ctx, agent)
            seen = await asyncio.to_thread(supervise_the_desk, tmp_path, served.url)
            await calling
            [at_desk] = desk.heard()
    finally:
        await asyncio.to_thread(served.stop)
    print("supervised the desk:", seen)
    assert "desk phone can only be listened to silently" in seen["whisper"]
    assert seen["status"].startswith("Listening in to Agent")
    first, second, median = seen["listen"]  # the caller and the agent, both heard clearly
    assert first > median + 60 and second > median + 60
    assert seen["connection"].count("connected") == 2  # a connection for each
    # nobody heard the supervisor: not the agent, not the caller
    assert share(at_desk, SUPERVISOR_HZ) < 0.02 and share(at_desk, CALLER_HZ) > 0.5
    dumps = sorted((tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=_mtime)
    heard = read_8k(dumps[-1])
    assert share(heard, SUPERVISOR_HZ) < 0.02 and share(heard, AGENT_HZ) > 0.5
    async with ctx.db.session() as s:
        audited = list(
            await s.scalars(select(CaseEvent.detail).where(CaseEvent.action == "call_monitored"))
        )
        rows = list(await s.scalars(select(CallListening).order_by(CallListening.id)))
    assert [d["mode"] for d in audited] == ["whisper", "listen"]
    assert [(r.mode, r.state) for r in rows] == [("whisper", "refused"), ("listen", "ended")]
    assert rows[1].started_at is not None and rows[1].ended_at is not None
    record = await record_of(ctx)
    assert record is not None and put_through_here(record), (
        record.put_through_to,
        record.menu_path,
    )
    left, right = await the_recording(ctx, stack, record.case_id)
    assert share(left, CALLER_HZ) > 0.5 and share(right, AGENT_HZ) > 0.5
    # the call went on after the supervisor stopped: to the end of the desk phone's voice
    record = await record_of(ctx)
    assert record is not None and record.talk_seconds is not None and record.talk_seconds > 25
