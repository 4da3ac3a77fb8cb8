"""The phone line's engine: how soon a caller hears the first prompt, how many calls at once.

Real callers (SIPp on loopback) call the built-in baresip engine, driven by a minimal IVR
(answer, play a 2.7 s prompt, record the caller, hang up) through the ``Engine`` commands.

* ``phone_first_prompt_p50`` / ``_p99``: from the moment the IVR calls ``answer`` to the
  first loud RTP packet of the prompt at the caller (an ``Ear`` on the SDP's port); ``--calls``
  calls one after another.
* ``phone_calls_held``: the most simultaneous calls (ramped by ``--step`` up to ``--max-held``)
  for which *every* call completes: SIPp sees each call through, each one hears its prompt
  to the end and leaves a recording that sounds like what it said.
* The raw baseline (``phone_first_prompt_raw_*``): the same baresip, the same calls, the
  prompt played by baresip's own ``aufile`` source and the call accepted by a bare ctrl_tcp
  client (one call at a time: ``aufile`` replaces the source of every call, so it is no
  engine, only the floor under the latency). ``phone_first_prompt_ratio`` = raw/app at p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ratio  # noqa: E402
from hotline.channels.phone.baresip import BaresipEngine  # noqa: E402
from hotline.channels.phone.baresip_ctrl import Ctrl, Message  # noqa: E402
from hotline.channels.phone.baresip_process import baresip_available  # noqa: E402
from hotline.channels.phone.engine import (  # noqa: E402
    CallEvent,
    CallStarted,
    PlaybackDone,
    RecordingReady,
)
from tests.sipcallers import (  # noqa: E402
    Ear,
    Scenario,
    free_udp_port,
    plain_baresip,
    read_8k,
    run_sipp,
    similarity,
    sipp_available,
    speech,
    voice_pcap,
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def call_and_listen(work: Path, port: int, calls: int, answered: list[float]) -> list[float]:
    """One SIPp caller after another; ms from the answer (``answered``) to the first sound."""
    latencies = []
    for i in range(calls):
        ear = await Ear().open()
        run = await run_sipp(
            Scenario([("pause", 1200)], hangup=True, rtp_port=ear.port),
            work / f"call-{i}",
            f"127.0.0.1:{port}",
        )
        ear.close()
        loud = ear.first_loud(max(ear.packets, key=lambda s: len(ear.packets[s])))
        if run.returncode != 0 or loud is None or len(answered) != i + 1:
            raise RuntimeError(f"call {i} failed: {run.errors[-500:]}")
        latencies.append((loud - answered[i]) * 1000)
    return latencies


async def first_prompt(work: Path, prompt: Path, calls: int) -> list[float]:
    port = free_udp_port()
    engine = BaresipEngine("127.0.0.1", port, rtp_ports=(40000, 40999))
    answered: list[float] = []

    async def on_event(event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            answered.append(time.monotonic())
            await engine.answer(event.call_id)
            await engine.play(event.call_id, prompt)

    await engine.start(on_event)
    try:
        return await call_and_listen(work / "app", port, calls, answered)
    finally:
        await engine.stop()


async def first_prompt_raw(work: Path, prompt: Path, calls: int) -> list[float]:
    """baresip alone: ``aufile`` plays the prompt, a bare client sends ``accept``."""
    d = Path(tempfile.mkdtemp(dir=work))
    wav8k = d / "prompt8k.wav"
    proc_sox = await asyncio.create_subprocess_exec(
        "sox", str(prompt), "-r", "8000", "-c", "1", "-b", "16", str(wav8k)
    )
    await proc_sox.wait()
    ctrl_port = free_udp_port()
    port = plain_baresip(d, "12345", ctrl_port, wav8k, rtp_ports=(41000, 41999))
    proc = await asyncio.create_subprocess_exec(
        "baresip",
        "-f",
        str(d),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    answered: list[float] = []
    tasks: set[asyncio.Task[list[Message]]] = set()

    def on_event(msg: Message) -> None:
        if msg.get("type") == "CALL_INCOMING":
            answered.append(time.monotonic())
            task = asyncio.create_task(ctrl.batch([("accept", "")]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    ctrl = Ctrl(on_event)
    try:
        await ctrl.connect("127.0.0.1", ctrl_port)
        return await call_and_listen(work / "raw", port, calls, answered)
    finally:
        await ctrl.close()
        proc.terminate()
        await proc.wait()


async def held(work: Path, prompt: Path, voice: Path, count: int) -> tuple[bool, str]:
    """``count`` callers at once: each hears the prompt, speaks, is recorded, is hung up."""
    port = free_udp_port()
    engine = BaresipEngine("127.0.0.1", port, rtp_ports=(42000, 43999))
    done: dict[str, RecordingReady] = {}
    played: set[str] = set()
    recordings = work / f"held-{count}"
    recordings.mkdir()

    async def on_event(event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            await engine.answer(event.call_id)
            await engine.play(event.call_id, prompt)
        elif isinstance(event, PlaybackDone):
            played.add(event.call_id)
            path = recordings / f"{len(played)}.wav"
            await engine.record(event.call_id, path, max_seconds=8, silence_seconds=2.0)
        elif isinstance(event, RecordingReady):
            done[event.call_id] = event
            await engine.hangup(event.call_id)

    await engine.start(on_event)
    try:
        pcap = voice_pcap(voice, work / "voice.pcap", lead_silence=3.6)  # speaks after the prompt
        run = await run_sipp(
            Scenario([("pcap", pcap)]),
            work / f"sipp-{count}",
            f"127.0.0.1:{port}",
            calls=count,
            rate=min(count, 50),
            timeout=60,
        )
    finally:
        await engine.stop()
    said = read_8k(voice)
    scores = [similarity(said, read_8k(r.path))[0] for r in done.values()]
    good = sum(s > 0.7 for s in scores)
    ok = run.returncode == 0 and len(played) == count and good == count
    return (
        ok,
        f"{count} calls: sipp rc={run.returncode}, prompts {len(played)}, recordings {good}/{len(done)}",
    )


async def main_async(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    try:
        prompt = speech(
            work / "prompt.wav", "Welcome to the city hotline. For a complaint, press one."
        )
        voice = speech(work / "voice.wav", "The street light on Elm Road is broken.", pitch=30)
        app = await first_prompt(work, prompt, args.calls)
        raw = await first_prompt_raw(work, prompt, args.calls)
        p50, p99 = percentile(app, 50), percentile(app, 99)
        print(f"phone_first_prompt_p50 {p50:.0f} ms ({args.calls} calls one after another)")
        print(f"phone_first_prompt_p99 {p99:.0f} ms")
        print(
            f"phone_first_prompt_raw_p50 {percentile(raw, 50):.0f} ms (baresip aufile, bare accept)"
        )
        print(f"phone_first_prompt_raw_p99 {percentile(raw, 99):.0f} ms")
        print(f"phone_first_prompt_ratio {ratio(percentile(raw, 50) / p50)}")
        best = 0
        for count in range(args.step, args.max_held + 1, args.step):
            ok, what = await held(work, prompt, voice, count)
            print(f"# {what}", flush=True)
            if not ok:
                break
            best = count
        print(f"phone_calls_held {best} calls ({os.cpu_count()} cores, every call complete)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--step", type=int, default=20)
    parser.add_argument("--max-held", type=int, default=100)
    parser.add_argument("--skip-postgres", action="store_true", help="(no database here)")
    args = parser.parse_args()
    if not (baresip_available() and sipp_available()):
        print(
            "# phone skipped: apt-get install baresip gstreamer1.0-plugins-good sip-tester espeak-ng"
        )
        return 0
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
