"""A real caller (baresip) asks for an agent and waits in the AXD queue; the agent, signed in to
the console in Chromium, picks the call on the queue screen and answers it in the browser
softphone: the line puts the caller through to the agent's registered softphone (Kamailio,
rtpengine: plain RTP/PCMU to WebRTC), and each side hears the other's tone: the caller's
1 kHz in what the browser receives (WebAudio's analyser on the remote stream), the browser's
fake microphone (440 Hz) in what the caller's baresip recorded."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from sqlalchemy import select

from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.desk_listening import DeskListening
from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.recording import collect_once
from hotline.channels.phone.softphone import make_stack, softphone_user
from hotline.channels.phone.stack import PACKAGES, SoftphoneStack, missing
from hotline.core.axd.state import set_profile, set_state
from hotline.core.foundation.settings import Settings
from hotline.core.people.accounts import hash_password
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import CallRecord, QueueItem, QueueOffer
from hotline.core.storage.models.cases import Attachment, Interaction
from hotline.core.storage.models.people import User
from tests.admin.console_pages import axe_violations
from tests.browser import CHROMEDRIVER, CHROMIUM, chromium_driver
from tests.channels.phone.lines import line_with
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_put_through import an_agent as desk_agent
from tests.channels.phone.test_line_put_through import take_the_call
from tests.channels.phone.test_line_queue import MENU, record_of
from tests.conftest import need
from tests.processes import Served
from tests.sipcallers import BaresipCaller, DeskPhone, free_udp_port, read_8k

pytestmark = pytest.mark.slow

CALLER_HZ = 1000.0  # the caller's tone
AGENT_HZ = 440.0  # the agent's fake microphone
PASSWORD = "a-long-agent-password-1"
SECRET = "test-secret-key-not-for-production"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:  # noqa: F811
    return softphone_settings(tmp_path, db_url)


def softphone_settings(tmp_path: Path, db_url: str) -> Settings:  # noqa: F811
    """The line, its softphone stack and the console on free loopback ports."""
    base = 42000 + free_udp_port() % 40 * 100
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        jobs_in_process=False,
        secret_key=SECRET,
        phone_softphone_ws=f"127.0.0.1:{free_udp_port()}",
        phone_softphone_sip=f"127.0.0.1:{free_udp_port()}",
        phone_sip_listen=f"127.0.0.1:{free_udp_port()}",
        axd_offer_seconds=8,  # how long a softphone rings
        phone_media_ports=f"{base}-{base + 99}",
    )


@pytest.fixture
async def stack(ctx: AppContext) -> AsyncIterator[SoftphoneStack]:
    need(not missing(), f"the softphone stack (Debian packages {PACKAGES})")
    found = make_stack(ctx.settings, ctx.secret_key)
    await found.start()
    stop = asyncio.Event()  # what the line's worker runs beside the stack
    beside = asyncio.create_task(DeskListening(ctx, found).keep(stop))
    try:
        yield found
    finally:
        stop.set()
        await beside
        await found.stop()


@pytest.fixture
async def line(
    ctx: AppContext, stack: SoftphoneStack
) -> AsyncIterator[tuple[str, Ivr, PromptBook]]:
    async with line_with(ctx, MENU, stack) as found:
        yield found


def put_through_here(record: CallRecord) -> bool:
    """Whether the line put the call through the softphones' registrar, under a one-time name
    for the agent's phone, marked to come back and with its queue item."""
    return bool(
        re.fullmatch(
            rf"sip:put-[0-9a-f]{{32}}@[0-9.:]+;hl=back;hli={record.queue_item_id}",
            record.put_through_to or "",
        )
    )


def tone(hz: float, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def share(audio: np.ndarray, hz: float, rate: int = 8000) -> float:
    """How much of ``audio``'s energy lies within 30 Hz of ``hz``."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / rate)
    near = spectrum[np.abs(freqs - hz) < 30].sum()
    return float(near / max(spectrum[freqs > 100].sum(), 1e-12))


async def an_agent(ctx: AppContext) -> int:
    async with ctx.db.transaction() as s:
        user = User(
            username="agent-soft",
            display_name="Agent Lin",
            role="agent",
            password_hash=hash_password(PASSWORD),
        )
        s.add(user)
    await set_profile(ctx, user.id, capacity={"voice": 1}, skills={}, languages=["en", "zh_CN"])
    await set_state(ctx, user.id, AgentState.AVAILABLE)
    return user.id


def chromium(work: Path, microphone: Path) -> Any:
    """Chromium whose microphone plays ``microphone`` and who may play sound unasked."""
    driver = chromium_driver(
        work / "profile",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}",
        "--autoplay-policy=no-user-gesture-required",
        "--allow-loopback-in-peer-connection",
    )
    driver.set_page_load_timeout(30)
    driver.set_window_size(1366, 900)
    driver.implicitly_wait(2)
    return driver


async def console_with_softphone(
    ctx: AppContext, database: str, work: Path, seconds: float
) -> tuple[Served, Any]:
    """The hotline served with softphones on, and Chromium whose microphone plays the agent's
    tone for ``seconds``."""
    microphone = work / "agent-tone.wav"
    soundfile.write(str(microphone), tone(AGENT_HZ, seconds, 16000), 16000, subtype="PCM_16")
    served = await console_served(ctx, database)
    return served, await asyncio.to_thread(chromium, work, microphone)


async def console_served(ctx: AppContext, database: str) -> Served:
    """The hotline's console served with the softphones' settings of ``ctx``."""
    return await asyncio.to_thread(
        Served,
        ctx.settings.data_dir,
        HOTLINE_DATABASE_URL=database,
        HOTLINE_SECRET_KEY=SECRET,
        HOTLINE_PHONE_SOFTPHONE_WS=ctx.settings.phone_softphone_ws,
        HOTLINE_PHONE_SOFTPHONE_SIP=ctx.settings.phone_softphone_sip,
        HOTLINE_PHONE_SIP_LISTEN=ctx.settings.phone_sip_listen,  # where transfers go
        HOTLINE_PHONE_TRUNK=ctx.settings.phone_trunk,
        HOTLINE_PHONE_TURN_URLS=",".join(ctx.settings.phone_turn_urls),
        HOTLINE_PHONE_TURN_SECRET=ctx.settings.phone_turn_secret,
        HOTLINE_PHONE_TURN_ONLY=str(ctx.settings.phone_turn_only).lower(),
    )


async def caller_meets_agent(
    ctx: AppContext,
    database: str,
    work: Path,
    target: str,
    agent_does: Callable[[Any, str], dict[str, Any]],
    *,
    mic: float,
    calls: int,
) -> dict[str, Any]:
    """A baresip caller asks the line for an agent (key 1), saying the caller's tone from the
    first moment of each call (so the agent's first audio is the path's); the agent, in
    Chromium whose microphone says the agent's tone for ``mic`` seconds, does ``agent_does``
    with the console's address. Returns what that returned, once the caller's ``calls``
    (the line's and those put through) have ended."""
    need(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "Chromium and chromedriver")
    served, driver = await console_with_softphone(ctx, database, work, mic)
    try:
        caller = BaresipCaller(work / "caller", "+8613912345678")
        voice = tone(CALLER_HZ, 150, 8000)
        calling = asyncio.ensure_future(
            caller.call(target, voice, [(1.5, "1")], within=240, calls=calls)
        )
        seen = await asyncio.to_thread(agent_does, driver, served.url)
        await asyncio.wait_for(calling, 30)
    finally:
        await asyncio.to_thread(driver.quit)
        await asyncio.to_thread(served.stop)
    return seen


PEAK = """
const a = window.hotlineSoftphone.remote;
if (!a) return null;
const bins = new Float32Array(a.frequencyBinCount);
a.getFloatFrequencyData(bins);
let best = 0;
for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
return [best * a.context.sampleRate / a.fftSize, bins[best]];
"""


def wait(driver: Any, script: str, within: float) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = driver.execute_script(script)
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not seen within {within} s: {script}")


def agent_side(
    driver: Any, url: str, while_talking: Callable[[], None] | None = None
) -> dict[str, Any]:
    """Sign in, wait for the softphone to register, pick the waiting call, answer it, listen
    for six seconds (then ``while_talking``), hang up. Returns what was measured."""
    from selenium.webdriver.common.by import By

    _sign_in(driver, url, lang="en")
    driver.get(f"{url}/console/queue")
    ready = "return document.getElementById('softphone').dataset.state === 'ready'"
    wait(driver, ready, 20)
    out: dict[str, Any] = {"axe": axe_violations(driver)}
    out |= {"ready_text": driver.find_element(By.CSS_SELECTOR, "[data-sp=status]").text}
    pick = "return document.querySelector(\"form[action$='/pick'] button\")"
    deadline = time.monotonic() + 60
    while not driver.execute_script(pick):  # the call waits in the queue
        assert time.monotonic() < deadline, "no call waited in the queue"
        time.sleep(1)
        driver.get(f"{url}/console/queue")
        wait(driver, ready, 20)
    driver.execute_script(pick.replace("return ", "") + ".click()")
    picked = time.monotonic()
    wait(driver, "return window.hotlineSoftphone.state === 'ringing'", 20)
    out["ring_seconds"] = time.monotonic() - picked
    out["caller_shown"] = driver.find_element(By.CSS_SELECTOR, "[data-sp=caller]").text
    driver.execute_script("document.querySelector('[data-sp=answer]').click()")
    wait(driver, "return window.hotlineSoftphone.state === 'talking'", 10)
    peaks = []
    for _ in range(30):
        time.sleep(0.2)
        peaks.append(driver.execute_script(PEAK))
    out["peaks"] = peaks
    if while_talking is not None:
        while_talking()
    out["timer"] = driver.find_element(By.CSS_SELECTOR, "[data-sp=timer]").text
    out["established_ms"] = driver.execute_script(
        "const p = window.hotlineSoftphone; return p.establishedAt - p.answeredAt"
    )
    out["first_audio_ms"] = driver.execute_script(
        "const p = window.hotlineSoftphone;"
        " return p.firstAudioAt === null ? null : p.firstAudioAt - p.answeredAt"
    )
    driver.execute_script("document.querySelector('[data-sp=mute]').click()")
    out["muted"] = driver.execute_script("return window.hotlineSoftphone.muted")
    time.sleep(2.5)  # the caller hears nothing of the agent now
    driver.execute_script("document.querySelector('[data-sp=hangup]').click()")
    wait(driver, "return window.hotlineSoftphone.state === 'ready'", 10)
    return out


async def test_the_agent_answers_in_the_browser_and_both_hear_each_other(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],
    stack: SoftphoneStack,
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    target, _ivr, _book = line
    agent = await an_agent(ctx)
    seen = await caller_meets_agent(ctx, db_url, tmp_path, target, agent_side, mic=10, calls=2)
    print("softphone:", {k: v for k, v in seen.items() if k != "peaks"}, seen["peaks"][-5:])

    # the agent heard the caller: the remote stream's strongest frequency is the caller's tone
    heard = [p for p in seen["peaks"] if p]
    assert sum(abs(hz - CALLER_HZ) < 30 for hz, _db in heard) >= len(seen["peaks"]) * 0.8, heard
    assert seen["first_audio_ms"] is not None and seen["first_audio_ms"] < 1000
    assert seen["caller_shown"] == "+8613912345678"
    assert re.fullmatch(r"0:(0[5-9]|[1-5]\d)", seen["timer"])  # six seconds or more of listening
    assert seen["axe"] == []  # the console with its softphone panel, ready
    # the caller heard the agent: their second call (the one put through) holds the 440 Hz tone
    dumps = sorted(
        (tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=lambda p: p.stat().st_mtime
    )
    through = read_8k(dumps[-1])
    assert len(through) > 3 * 8000
    assert share(through[: -3 * 8000], AGENT_HZ) > 0.5
    # the agent muted for the last 2.5 s: the caller's last second is near silence
    talking, muted = through[-6 * 8000 : -3 * 8000], through[-8000:]
    assert seen["muted"] is True
    assert np.sqrt(np.mean(muted**2)) < 0.1 * np.sqrt(np.mean(talking**2))
    assert share(read_8k(dumps[0]), AGENT_HZ) < 0.2  # the IVR's side did not sound like the agent

    record = await record_of(ctx)
    assert record is not None
    assert (record.left_reason, record.agent_id, record.hung_up_by) == (
        "answered",
        agent,
        "transfer",
    )
    assert put_through_here(record), (record.put_through_to, record.menu_path)
    # the relay recorded the call: on the case, the caller on the left, the agent on the right
    left, right = await the_recording(ctx, stack, record.case_id)
    assert share(left, CALLER_HZ) > 0.5
    assert share(right[: -3 * 8000], AGENT_HZ) > 0.5 and share(right, CALLER_HZ) < 0.1
    assert np.sqrt(np.mean(right[-8000:] ** 2)) < 0.1 * np.sqrt(np.mean(right[:-24000] ** 2))
    record = await record_of(ctx)  # with the talk the relay saw: answered to hung up
    assert record is not None and record.recording_id is not None
    assert record.talk_seconds is not None and 7 < record.talk_seconds < 15
    assert abs(record.talk_seconds - len(left) / 8000) < 1.0


async def the_recording(
    ctx: AppContext, stack: SoftphoneStack, case_id: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The live call's recording the collector put on the case (its two channels)."""
    [found] = await the_recordings(ctx, stack, case_id, 1)
    return found


async def the_recordings(
    ctx: AppContext, stack: SoftphoneStack, case_id: int | None, calls: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``calls`` live calls' recordings the collector put on the case (a transfer's legs;
    in no particular order: the relay may finish them together), each's two channels."""
    desk = KernelDesk(ctx, stack)
    rows: list[Interaction] = []
    for _ in range(50):  # the relay writes its metadata when the call is deleted
        await collect_once(stack.recordings, desk.recorded, split=True)
        async with ctx.db.session() as s:
            rows = list(
                await s.scalars(select(Interaction).where(Interaction.external_id.like("live:%")))
            )
        if len(rows) >= calls:
            break
        await asyncio.sleep(0.1)
    # a ring the agent did not take recorded nothing
    assert len(rows) == calls, [r.external_id for r in rows]
    found = []
    for row in rows:
        assert row.case_id == case_id and row.meta["live_call"]
        async with ctx.db.session() as s:
            [wav] = await s.scalars(select(Attachment).where(Attachment.interaction_id == row.id))
        assert wav.content_type == "audio/wav"
        audio, rate = soundfile.read(io.BytesIO(ctx.files.get(wav.sha256)), dtype="float32")
        assert rate == 8000 and audio.shape[1] == 2
        found.append((audio[:, 0], audio[:, 1]))
    return found


async def test_an_agent_without_a_registered_softphone_gets_the_call_on_the_desk_phone(
    ctx: AppContext, line: tuple[str, Ivr, PromptBook], stack: SoftphoneStack, tmp_path: Path
) -> None:
    target, _ivr, _book = line
    async with DeskPhone(tmp_path / "desk") as desk:
        desk.says(np.concatenate([np.zeros(8000, np.float32), tone(AGENT_HZ, 4, 8000)]))
        agent = await desk_agent(ctx, desk.address)
        caller = BaresipCaller(tmp_path / "caller", "+8613912345678")
        voice = np.concatenate([np.zeros(4000, np.float32), tone(CALLER_HZ, 40, 8000)])
        calling = asyncio.ensure_future(
            caller.call(target, voice, [(1.5, "1")], within=90, calls=2)
        )
        await take_the_call(ctx, agent)
        heard = await calling
        [at_desk] = desk.heard()
    assert share(at_desk, CALLER_HZ) > 0.5
    dumps = sorted((tmp_path / "caller" / "dumps").glob("dump-*-dec.wav"), key=_mtime)
    assert len(heard) > 0 and share(read_8k(dumps[-1]), AGENT_HZ) > 0.5  # the desk's tone
    record = await record_of(ctx)
    assert record is not None and record.agent_id == agent
    # by the softphones' relay, under a one-time name for the desk phone, and so recorded:
    # the caller on the left, the desk phone on the right
    assert put_through_here(record), (record.put_through_to, record.menu_path)
    left, right = await the_recording(ctx, stack, record.case_id)
    assert share(left, CALLER_HZ) > 0.5 and share(right, AGENT_HZ) > 0.5


def _sign_in(driver: Any, url: str, username: str = "agent-soft", lang: str = "zh_CN") -> None:
    """``username`` signs in to the console in ``lang`` (every test user's password is
    ``PASSWORD``)."""
    from selenium.webdriver.common.by import By

    driver.get(f"{url}/console/login?lang={lang}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    time.sleep(1)


STATE = "return window.hotlineSoftphone && window.hotlineSoftphone.state === '{}'"


async def test_the_softphone_registers_again_when_the_registrar_comes_back_and_not_after_sign_out(
    ctx: AppContext,
    stack: SoftphoneStack,
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    need(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "Chromium and chromedriver")
    agent = await an_agent(ctx)
    served, driver = await console_with_softphone(ctx, db_url, tmp_path, 2)
    try:
        await asyncio.to_thread(_sign_in, driver, served.url)
        await asyncio.to_thread(wait, driver, STATE.format("ready"), 20)
        status = await asyncio.to_thread(
            driver.execute_script, "return document.querySelector('[data-sp=status]').textContent"
        )
        assert status == "可以接听来电"  # the agent's language
        assert await stack.registered(softphone_user(agent))
        await stack.stop()
        await asyncio.to_thread(wait, driver, STATE.format("failed"), 20)
        await stack.start()
        assert not await stack.registered(softphone_user(agent))
        await asyncio.to_thread(wait, driver, STATE.format("ready"), 20)
        assert await stack.registered(softphone_user(agent))
        # signing out (a boosted form: the same page) unregisters this browser
        await asyncio.to_thread(
            driver.execute_script,
            "document.querySelector(\"form[action='/console/logout'] button\").click()",
        )
        for _ in range(100):
            if not await stack.registered(softphone_user(agent)):
                break
            await asyncio.sleep(0.1)
        assert not await stack.registered(softphone_user(agent))
    finally:
        await asyncio.to_thread(driver.quit)
        await asyncio.to_thread(served.stop)


def pick_and_answer(driver: Any, url: str) -> None:
    """The agent signs in (Chinese), picks the call once it waits in the queue, and answers it
    in the softphone."""
    _sign_in(driver, url)
    driver.get(f"{url}/console/queue")
    wait(driver, STATE.format("ready"), 20)
    pick = "document.querySelector(\"form[action$='/pick'] button\")"
    deadline = time.monotonic() + 60
    while not driver.execute_script(f"return {pick}"):
        assert time.monotonic() < deadline, "no call waited in the queue"
        time.sleep(1)
        driver.get(f"{url}/console/queue")
        wait(driver, STATE.format("ready"), 20)
    driver.execute_script(f"{pick}.click()")
    wait(driver, STATE.format("ringing"), 20)
    driver.execute_script("document.querySelector('[data-sp=answer]').click()")
    wait(driver, STATE.format("talking"), 10)


def answer_then_vanish(driver: Any, url: str) -> float:
    """The agent answers, talks two seconds, and the browser is gone (closed without hanging up).
    Returns the moment it went (time.monotonic)."""
    pick_and_answer(driver, url)
    time.sleep(2)
    driver.quit()
    return time.monotonic()


async def test_a_caller_whose_agents_browser_goes_mid_call_is_back_in_line_first(
    ctx: AppContext,
    line: tuple[str, Ivr, PromptBook],
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    """The browser closes without hanging up: Kamailio refers the caller back to the line,
    which says so and puts them first in line again, not offered to that agent; the agent's
    offer stays answered (they did answer), the call keeps one record."""
    need(Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), "Chromium and chromedriver")
    target, _ivr, _book = line
    agent = await an_agent(ctx)
    served, driver = await console_with_softphone(ctx, db_url, tmp_path, 10)
    dumps = tmp_path / "caller" / "dumps"
    try:
        caller = BaresipCaller(tmp_path / "caller", "+8613912345678")
        voice = tone(CALLER_HZ, 24, 8000)  # each of the caller's calls lasts 24 s at most
        calling = asyncio.ensure_future(
            caller.call(target, voice, [(1.5, "1")], within=90, calls=3)
        )
        gone = await asyncio.to_thread(answer_then_vanish, driver, served.url)
        async with ctx.db.session() as s:  # before the return (Kamailio notices in ~5 s)
            before = list(await s.scalars(select(QueueOffer.outcome)))
        while len(list(dumps.glob("dump-*-dec.wav"))) < 3:  # the caller's third call begins
            assert time.monotonic() - gone < 15, "the caller was not sent back to the line"
            await asyncio.sleep(0.2)
        back = time.monotonic() - gone
        for _ in range(50):  # the line takes the caller back once it answers
            async with ctx.db.session() as s:
                item = await s.scalar(select(QueueItem).where(QueueItem.media == "voice"))
                offers = list(await s.scalars(select(QueueOffer.outcome)))
            if item is not None and item.state == "waiting":
                break
            await asyncio.sleep(0.1)
        await asyncio.wait_for(calling, 40)
    finally:
        await asyncio.to_thread(served.stop)
    print(f"the caller was back on the line {back:.2f} s after the browser went")
    assert item is not None and item.state == "waiting" and str(agent) in item.declined_by
    assert offers == before  # the agent answered: losing the call is not a missed offer
    heard = sorted(dumps.glob("dump-*-dec.wav"), key=_mtime)[-1]
    assert share(read_8k(heard), AGENT_HZ) < 0.2 and len(read_8k(heard)) > 3 * 8000
    # the record is rewritten when the call that came back ends, a moment after the caller's end
    record = await record_of(ctx, ready=lambda found: "returned" in found.menu_path)
    assert record is not None and "returned" in record.menu_path
