"""Live calls' recordings: what the softphones' relay (rtpengine, ``--recording-method=pcap``)
wrote for each call put through to an agent's browser or, by the relay, their desk phone, made
into a WAV for the case.

rtpengine writes, per call, a pcap of the RTP it received (after SRTP decryption) and, once the
call has ended, a metadata file in ``metadata/``: the pcap's path on its first line, then the
SDP it sent each way (the one toward the browser, secure RTP, names the relay's port the
agent's audio arrives on; the plain one toward the caller's side, the port the citizen's audio
arrives on: an offer or an answer, as the call came in or went out; for an agent's desk phone,
plain both ways, the offer is toward the agent, as the caller's phone called in), the time the
call ended, and the metadata Kamailio gave it (``hotline-item:<queue item>``).

The WAV is 8 kHz 16-bit: ``split`` puts the caller on the left channel and the agent on the
right (so the speech engine can say who said what), ``mixed`` both in one channel. Each packet
is placed by its RTP timestamp from its stream's first packet, and that first packet by the
time the relay received it, so the two parties stay aligned and a lost packet is a gap of
silence, not a shift."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import shutil
import struct
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

log = logging.getLogger("hotline.channels.phone.recording")

RATE = 8000
MAX_SECONDS = 4 * 3600  # a recording longer than a shift is cut there
PCMU, PCMA = 0, 8


def _ulaw_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (u >> 4) & 7
    magnitude = (((u & 0x0F) << 3) + 0x84) << exponent
    return np.where(u & 0x80, 0x84 - magnitude, magnitude - 0x84).astype(np.int16)


def _alaw_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    exponent = (a >> 4) & 7
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


DECODE = {PCMU: _ulaw_table(), PCMA: _alaw_table()}


@dataclass(frozen=True)
class Finished:
    """One ended call as the relay described it."""

    meta: Path
    pcap: Path
    item_id: int | None
    agent_port: int | None  # the relay's port the agent's (browser's) audio arrived on
    caller_port: int | None  # the relay's port the caller's audio arrived on
    ended: datetime | None


@dataclass(frozen=True)
class CallAudio:
    wav: bytes
    seconds: float
    started: datetime  # the first audio of either party
    agent_from: datetime | None  # the agent's first audio: the call was answered
    ended: datetime  # the last audio


def read_metadata(path: Path) -> Finished:
    text = path.read_text(errors="replace")
    first, _, rest = text.partition("\n")
    ports: dict[str, int] = {}
    sections = []
    for section in re.split(r"\n\s*\n(?=Timestamp started)", rest):
        port = re.search(r"^m=audio (\d+) (\S+)", section, re.M)
        if port:
            mode = re.search(r"^SDP mode: (\w+)", section, re.M)
            sections.append((mode.group(1) if mode else "", int(port.group(1)), port.group(2)))
    browser = any("SAVP" in profile for _, _, profile in sections)
    for mode, port_number, profile in sections:
        if browser:  # the browser's side is the secure one, whichever way the call went
            party = "agent" if "SAVP" in profile else "caller"
        else:  # a desk phone, plain both ways: the caller's phone offered, toward the agent
            party = "agent" if mode == "offer" else "caller"
        ports.setdefault(party, port_number)
    item = re.search(r"^hotline-item:(\d{1,18})\s*$", text, re.M)
    ended = re.search(r"^Timestamp terminated ms\(first monologue\): ([\d.]+)", text, re.M)
    return Finished(
        meta=path,
        pcap=Path(first.strip()),
        item_id=int(item.group(1)) if item else None,
        agent_port=ports.get("agent"),
        caller_port=ports.get("caller"),
        ended=datetime.fromtimestamp(float(ended.group(1)) / 1000, UTC) if ended else None,
    )


def _packets(pcap: bytes) -> list[tuple[float, int, int, int, int, bytes]]:
    """(received at, relay port, payload type, ssrc, rtp timestamp, payload) of each G.711
    packet in a raw-IP pcap; anything else (RTCP, STUN, DTMF events, junk) is left out."""
    if len(pcap) < 24:
        raise ValueError("not a pcap file: too short")
    magic = pcap[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise ValueError("not a pcap file")
    fraction = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    found = []
    offset = 24
    while offset + 16 <= len(pcap):
        seconds, part, length, _ = struct.unpack(order + "IIII", pcap[offset : offset + 16])
        packet = pcap[offset + 16 : offset + 16 + length]
        offset += 16 + length
        if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 17:  # IPv4 UDP only
            continue
        header = (packet[0] & 0x0F) * 4
        udp = packet[header : header + 8]
        rtp = packet[header + 8 :]
        if len(udp) < 8 or len(rtp) < 12 or rtp[0] >> 6 != 2:
            continue
        payload_type = rtp[1] & 0x7F
        if payload_type not in DECODE:
            continue
        skip = 12 + 4 * (rtp[0] & 0x0F)
        if rtp[0] & 0x10 and len(rtp) >= skip + 4:  # a header extension
            skip += 4 + 4 * struct.unpack(">H", rtp[skip + 2 : skip + 4])[0]
        stamp, ssrc = struct.unpack(">II", rtp[4:12])
        port = struct.unpack(">H", udp[2:4])[0]
        found.append((seconds + part * fraction, port, payload_type, ssrc, stamp, rtp[skip:]))
    return found


def _track(
    packets: list[tuple[float, int, int, int, int, bytes]], t0: float, length: int
) -> np.ndarray:
    out = np.zeros(length, np.int16)
    firsts: dict[int, tuple[float, int]] = {}
    for at, _port, payload_type, ssrc, stamp, payload in packets:
        began, first_stamp = firsts.setdefault(ssrc, (at, stamp))
        start = round((began - t0) * RATE) + ((stamp - first_stamp) & 0xFFFFFFFF)
        if start < 0 or start >= length:
            continue
        samples = DECODE[payload_type][np.frombuffer(payload, np.uint8)]
        end = min(length, start + len(samples))
        out[start:end] = samples[: end - start]
    return out


def call_audio(found: Finished, split: bool) -> CallAudio | None:
    """The call's WAV, or None when no audio passed (the agent never answered)."""
    packets = _packets(found.pcap.read_bytes())
    caller = [p for p in packets if p[1] == found.caller_port]
    agent = [p for p in packets if p[1] == found.agent_port]
    if not caller and not agent:
        return None
    t0 = min(p[0] for p in caller + agent)
    last = max(p[0] + len(p[5]) / RATE for p in caller + agent)
    length = min(round((last - t0) * RATE), MAX_SECONDS * RATE)
    left, right = _track(caller, t0, length), _track(agent, t0, length)
    if split:
        frames = np.column_stack([left, right]).astype("<i2").tobytes()
    else:
        mixed = np.clip(left.astype(np.int32) + right.astype(np.int32), -32768, 32767)
        frames = mixed.astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2 if split else 1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(frames)
    return CallAudio(
        wav=out.getvalue(),
        seconds=length / RATE,
        started=datetime.fromtimestamp(t0, UTC),
        agent_from=datetime.fromtimestamp(min(p[0] for p in agent), UTC) if agent else None,
        ended=datetime.fromtimestamp(last, UTC),
    )


Deliver = Callable[[Finished, CallAudio | None], Awaitable[None]]


async def collect_once(folder: Path, deliver: Deliver, split: bool) -> int:
    """Every ended call's recording in ``folder`` handed to ``deliver`` (which puts it on the
    case), then its files removed. One that cannot be read or delivered is moved to
    ``failed/`` with the reason in the log, for staff to see; it is never deleted unheard."""
    done = 0
    for meta in sorted((folder / "metadata").glob("*.txt")):
        try:
            found = read_metadata(meta)
            audio = await asyncio.to_thread(call_audio, found, split)
            await deliver(found, audio)
        except Exception:
            log.exception("a call's recording could not be put on its case: kept in failed/")
            failed = folder / "failed"
            failed.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):
                pcap = read_metadata(meta).pcap
                if pcap.is_file():
                    shutil.move(pcap, failed / pcap.name)
            shutil.move(meta, failed / meta.name)
            continue
        found.pcap.unlink(missing_ok=True)
        meta.unlink()
        done += 1
    return done


def orphans_ended(folder: Path) -> None:
    """The metadata of calls a relay that is gone was still recording (``tmp/``): those calls
    ended with it, so they are collected as ended."""
    for meta in (folder / "tmp").glob("*.txt") if (folder / "tmp").is_dir() else []:
        (folder / "metadata").mkdir(exist_ok=True)
        meta.rename(folder / "metadata" / meta.name)


async def collect(
    folder: Path, deliver: Deliver, split: bool, stop: asyncio.Event, every: float = 1.0
) -> None:
    """``collect_once`` every ``every`` seconds until ``stop``, and once more then."""
    while True:
        try:
            await collect_once(folder, deliver, split)
        except Exception:
            log.exception("collecting the calls' recordings failed; trying again")
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
