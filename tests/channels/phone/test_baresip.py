"""The baresip engine with real callers on loopback (SIPp; an ``Ear`` for what they hear).

A tiny script stands in for the IVR (no menus): it answers, plays, records, collects digits
and hangs up through the ``Engine`` commands only, and the tests check what a caller would
notice: the prompt is heard, the digits arrive with their method, the voicemail holds what
was said, hanging up at any moment ends the call cleanly, junk on the SIP port harms no one,
and twenty callers at once each get their own recording.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from hotline.channels.phone import baresip_process
from hotline.channels.phone.baresip import BaresipEngine, line_id
from hotline.channels.phone.baresip_process import baresip_available
from hotline.channels.phone.engine import (
    CallEnded,
    CallEvent,
    CallStarted,
    Digit,
    PlaybackDone,
    RecordingReady,
)
from tests.conftest import need
from tests.sipcallers import (
    Ear,
    Scenario,
    free_udp_port,
    mutated_invites,
    raw_call,
    read_8k,
    run_sipp,
    send_garbage,
    similarity,
    sipp_available,
    speech,
    voice_pcap,
)

pytestmark = pytest.mark.slow

Handler = Callable[[BaresipEngine, CallEvent], Awaitable[None]]
Line = tuple[BaresipEngine, "Script", str]


class Script:
    """Records every event; ``on`` decides what to do (the test's IVR)."""

    def __init__(self) -> None:
        self.events: list[CallEvent] = []
        self.engine: BaresipEngine | None = None
        self.on: Handler | None = None
        self.ended = asyncio.Event()
        self.expect_ended = 1

    async def __call__(self, event: CallEvent) -> None:
        self.events.append(event)
        if self.on is not None and self.engine is not None:
            await self.on(self.engine, event)
        if sum(isinstance(e, CallEnded) for e in self.events) >= self.expect_ended:
            self.ended.set()

    def of(self, kind: type[Any]) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    need(baresip_available(), "baresip (Debian package baresip, with baresip-gstreamer)")
    need(sipp_available(), "SIPp (Debian package sip-tester)")
    d = tmp_path_factory.mktemp("audio")
    return {
        "prompt": speech(d / "prompt.wav", "Welcome to the city hotline."),
        "long": speech(
            d / "long.wav", "Please listen carefully, as our menu options have changed."
        ),
        "voice": speech(d / "voice.wav", "The street light on Elm Road is broken.", pitch=30),
        "other": speech(
            d / "other.wav",
            "Rubbish has not been collected this week at all.",
            voice="en-us",
            pitch=80,
        ),
    }


@pytest.fixture
async def line(tmp_path: Path) -> AsyncIterator[tuple[BaresipEngine, Script, str]]:
    port = free_udp_port()
    engine = BaresipEngine(
        "127.0.0.1", port, rtp_ports=(30000 + port % 20 * 1000, 30999 + port % 20 * 1000)
    )
    script = Script()
    script.engine = engine
    await engine.start(script)
    try:
        yield engine, script, f"127.0.0.1:{port}"
    finally:
        await engine.stop()


async def _answer_and_play(path: Path) -> Handler:
    async def on(engine: BaresipEngine, event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            await engine.answer(event.call_id)
            await engine.play(event.call_id, path)

    return on


async def _a_caller_listens(tmp_path: Path, target: str) -> Ear:
    """A SIPp caller who stays 3.5 s and hangs up; what they heard."""
    ear = await Ear().open()
    try:
        run = await run_sipp(
            Scenario([("pause", 3500)], hangup=True, rtp_port=ear.port), tmp_path, target
        )
    finally:
        ear.close()
    assert run.returncode == 0, run.stdout + run.errors
    return ear


async def test_the_caller_hears_the_prompt(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    _engine, script, target = line
    script.on = await _answer_and_play(audio["prompt"])
    ear = await _a_caller_listens(tmp_path, target)
    await asyncio.wait_for(script.ended.wait(), 10)
    started = script.of(CallStarted)[0]
    assert (started.caller, started.called) == ("+8613800138000", "12345")
    assert [e.path for e in script.of(PlaybackDone)] == [audio["prompt"]]
    score, lag = similarity(read_8k(audio["prompt"]), ear.audio())
    assert score > 0.8, (score, lag)
    assert lag < 0.5  # the prompt starts at once, not after a pause
    assert script.of(CallEnded)[0].reason == "hangup"


async def test_a_storm_of_mutated_invites_harms_no_caller_after_it(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    """5,000 damaged INVITEs (a fuzzer's): baresip lives, every call event the line gets names
    a call it can store, and a real caller right after is answered and hears the prompt."""
    engine, script, target = line
    host, port = target.split(":")
    answer_real = await _answer_and_play(audio["prompt"])

    async def on(engine: BaresipEngine, event: CallEvent) -> None:
        if isinstance(event, CallStarted) and event.caller != "+8613800138000":
            await engine.hangup(event.call_id)  # what got through as a call is turned away
        else:
            await answer_real(engine, event)

    script.on = on
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for n, message in enumerate(mutated_invites(target, 5000)):
            s.sendto(message, (host, int(port)))
            if n % 200 == 0:
                await asyncio.sleep(0.02)  # the line reads its events meanwhile
    await asyncio.sleep(1)
    assert engine._proc is not None and engine._proc.returncode is None  # alive
    storm = script.of(CallStarted)
    print("calls that got through the storm:", len(storm))
    assert all(e.call_id.isprintable() and len(e.call_id) <= 64 for e in storm)
    ear = await _a_caller_listens(tmp_path, target)
    assert similarity(read_8k(audio["prompt"]), ear.audio())[0] > 0.8


@pytest.mark.parametrize(
    ("call_id", "display"),
    [
        (b"gbk-1@pbx", "\u5f20\u4e09".encode("gbk")),  # an older PBX's display name, in GBK
        (b"id-\xd5\xc5\xc8\xfd@pbx", b"Zhang"),  # a Call-ID of bytes that are not text
        (b"x" * 70 + b"-1", b"Zhang"),  # longer than a record keeps: two must stay two
        (b"x" * 70 + b"-2", b"Zhang"),
        (b"ctl-\x01\x7f@pbx", b"Zhang"),  # control characters, which PostgreSQL or logs refuse
    ],
)
async def test_a_caller_whose_sip_is_not_plain_text_is_answered(
    line: Line, audio: dict[str, Path], call_id: bytes, display: bytes
) -> None:
    """baresip hands on what the caller's side sent as it came; the line once dropped the
    whole call event when a byte was not UTF-8, and the caller rang for ever. Now the call is
    answered, heard and ended, under a name the hotline can store, never another call's."""
    engine, script, target = line
    script.on = await _answer_and_play(audio["prompt"])
    # RFC 3261 allows only ASCII in a Call-ID, and baresip 1.0 matches no BYE to one that is
    # not (481): such a call ends when its media stops (rtp_timeout), or when the line hangs up
    bye_matched = call_id.isascii()
    ear = await Ear().open()
    try:
        seen = await asyncio.to_thread(
            raw_call,
            target,
            call_id=call_id,
            display=display,
            caller="+8613912345678",
            rtp_port=ear.port,
            talk=2.5,
        )
    finally:
        ear.close()
    ended = "200" if bye_matched else "481"
    assert [status.split()[1] for status in seen[-2:]] == ["200", ended], seen  # answered, ended
    [started] = script.of(CallStarted)
    if not bye_matched:
        await engine.hangup(started.call_id)
    await asyncio.wait_for(script.ended.wait(), 10)
    assert started.caller == "+8613912345678"
    raw = call_id.decode("utf-8", "surrogateescape")
    if raw.isprintable() and len(raw) <= 64:
        assert started.call_id == raw
    else:  # a name of its own, storable, one per Call-ID
        assert started.call_id.isprintable() and len(started.call_id) <= 64
        assert started.call_id == line_id(raw) != line_id(raw + "-")
    assert similarity(read_8k(audio["prompt"]), ear.audio())[0] > 0.8  # the prompt was heard
    assert script.of(CallEnded)[0].reason == ("hangup" if bye_matched else "local")


async def test_digits_arrive_with_their_method(line: Line, tmp_path: Path) -> None:
    _engine, script, target = line

    async def on(engine: BaresipEngine, event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            await engine.answer(event.call_id)

    script.on = on
    steps = [
        ("pause", 600),
        ("rfc2833", "1"),
        ("pause", 800),
        ("info", "5"),
        ("pause", 300),
        ("info", "#"),
        ("pause", 300),
        ("rfc2833", "*"),
        ("pause", 800),
    ]
    run = await run_sipp(Scenario(steps, hangup=True), tmp_path, target)
    assert run.returncode == 0, run.stdout + run.errors
    await asyncio.wait_for(script.ended.wait(), 10)
    got = [(d.digit, d.method) for d in script.of(Digit)]
    assert got == [("1", "rfc2833"), ("5", "info"), ("#", "info"), ("*", "rfc2833")]


def _recording_script(
    folder: Path, max_seconds: float, silence: float, then_hangup: bool = True
) -> Handler:
    async def on(engine: BaresipEngine, event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            await engine.answer(event.call_id)
            await engine.record(
                event.call_id,
                folder / f"{event.call_id}.wav",
                max_seconds=max_seconds,
                silence_seconds=silence,
            )
        elif isinstance(event, RecordingReady) and then_hangup:
            await engine.hangup(event.call_id)

    return on


async def test_the_recording_holds_what_the_caller_said(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    _engine, script, target = line
    script.on = _recording_script(tmp_path, max_seconds=8, silence=1.0)
    pcap = voice_pcap(audio["voice"], tmp_path / "voice.pcap", lead_silence=0.2)
    run = await run_sipp(Scenario([("pause", 300), ("pcap", pcap)]), tmp_path, target)
    assert run.returncode == 0, run.stdout + run.errors
    await asyncio.wait_for(script.ended.wait(), 10)
    ready = script.of(RecordingReady)[0]
    assert ready.ended_by == "silence"
    spoken = read_8k(audio["voice"])
    assert len(spoken) / 8000 - 0.3 < ready.seconds < len(spoken) / 8000 + 1.5
    score, _ = similarity(spoken, read_8k(ready.path))
    assert score > 0.8, score
    assert script.of(CallEnded)[0].reason == "local"


async def test_a_recording_stops_at_its_maximum(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    _engine, script, target = line
    script.on = _recording_script(tmp_path, max_seconds=1.0, silence=5.0)
    pcap = voice_pcap(audio["voice"], tmp_path / "voice.pcap")
    run = await run_sipp(Scenario([("pcap", pcap)]), tmp_path, target)
    assert run.returncode == 0, run.stdout + run.errors
    ready = script.of(RecordingReady)[0]
    assert ready.ended_by == "max_length"
    assert 0.7 <= ready.seconds <= 1.0


async def test_hanging_up_mid_prompt_ends_the_call(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    _engine, script, target = line
    script.on = await _answer_and_play(audio["long"])
    run = await run_sipp(Scenario([("pause", 1000)], hangup=True), tmp_path, target)
    assert run.returncode == 0, run.stdout + run.errors
    await asyncio.wait_for(script.ended.wait(), 10)
    assert [e.reason for e in script.of(CallEnded)] == ["hangup"]
    assert script.of(PlaybackDone) == []


async def test_hanging_up_mid_recording_keeps_what_was_said(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    _engine, script, target = line
    script.on = _recording_script(tmp_path, max_seconds=20, silence=5.0)
    pcap = voice_pcap(audio["voice"], tmp_path / "voice.pcap")
    run = await run_sipp(
        Scenario([("pause", 200), ("pcap", pcap), ("pause", 1500)], hangup=True), tmp_path, target
    )
    assert run.returncode == 0, run.stdout + run.errors
    await asyncio.wait_for(script.ended.wait(), 10)
    ready = script.of(RecordingReady)[0]
    assert ready.ended_by == "hangup"
    assert [type(e).__name__ for e in script.events[-2:]] == ["RecordingReady", "CallEnded"]
    assert script.of(CallEnded)[0].reason == "hangup"
    score, _ = similarity(read_8k(audio["voice"]), read_8k(ready.path))
    assert score > 0.7, score


async def test_junk_on_the_sip_port_harms_no_call(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    _engine, script, target = line
    host, port = target.split(":")
    for junk in (
        b"\x00\xff" * 300,
        b"INVITE nonsense\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: ;;\r\n\r\n",
        b"\r\n",
    ):
        send_garbage(host, int(port), junk)
    script.on = await _answer_and_play(audio["prompt"])
    run = await run_sipp(Scenario([("pause", 1000)], hangup=True), tmp_path, target)
    assert run.returncode == 0, run.stdout + run.errors
    await asyncio.wait_for(script.ended.wait(), 10)
    assert len(script.of(CallStarted)) == 1


async def test_twenty_callers_at_once_each_get_their_own_recording(
    line: Line, audio: dict[str, Path], tmp_path: Path
) -> None:
    _engine, script, target = line
    script.expect_ended = 20
    script.on = _recording_script(tmp_path, max_seconds=8, silence=1.2)
    first = voice_pcap(audio["voice"], tmp_path / "voice.pcap")
    second = voice_pcap(audio["other"], tmp_path / "other.pcap")
    runs = await asyncio.gather(
        run_sipp(
            Scenario([("pause", 300), ("pcap", first)]),
            tmp_path / "a",
            target,
            calls=10,
            rate=50,
            caller="+8613900000001",
        ),
        run_sipp(
            Scenario([("pause", 300), ("pcap", second)]),
            tmp_path / "b",
            target,
            calls=10,
            rate=50,
            caller="+8613900000002",
        ),
    )
    for run in runs:
        assert run.returncode == 0, run.stdout + run.errors
    await asyncio.wait_for(script.ended.wait(), 20)
    started = {e.call_id: e.caller for e in script.of(CallStarted)}
    ready = script.of(RecordingReady)
    assert len(started) == 20 and len(ready) == 20
    assert len({r.path for r in ready}) == 20
    voices = {"+8613900000001": read_8k(audio["voice"]), "+8613900000002": read_8k(audio["other"])}
    for r in ready:
        said = read_8k(r.path)
        own = similarity(voices[started[r.call_id]], said)[0]
        other = next(v for k, v in voices.items() if k != started[r.call_id])
        assert own > 0.7 and own > similarity(other[: len(said)], said)[0], (r, own)


async def test_a_control_port_taken_before_baresip_binds_it_is_tried_again(
    audio: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program takes the control port between the check and baresip's bind (CI saw
    it): the line starts baresip again on another port and answers callers."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))  # bound, not listening: a connection there is refused
    ports = iter([taken.getsockname()[1]])
    real = baresip_process.quiet_port
    monkeypatch.setattr(baresip_process, "quiet_port", lambda: next(ports, None) or real())
    port = free_udp_port()
    engine = BaresipEngine(
        "127.0.0.1", port, rtp_ports=(30000 + port % 20 * 1000, 30999 + port % 20 * 1000)
    )
    script = Script()
    script.engine = engine
    try:
        await asyncio.wait_for(engine.start(script), 20)
        script.on = await _answer_and_play(audio["prompt"])
        run = await run_sipp(
            Scenario([("pause", 1500)], hangup=True), tmp_path, f"127.0.0.1:{port}"
        )
        assert run.returncode == 0, run.stdout + run.errors
        await asyncio.wait_for(script.ended.wait(), 10)
        assert len(script.of(CallStarted)) == 1
    finally:
        await engine.stop()
        taken.close()
