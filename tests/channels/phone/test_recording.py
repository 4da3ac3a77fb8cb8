"""A live call's recording made from what the relay wrote (a pcap of the RTP it received and its
metadata), without the relay: each party on its own channel and aligned in time, a lost packet
a gap of silence, RTCP/STUN/DTMF left out, both G.711 laws; a file that cannot be read is kept
in ``failed/`` for staff (never deleted unheard); a relay that died mid-call leaves metadata in
``tmp/`` that is collected as ended."""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from hotline.channels.phone.recording import (
    CallAudio,
    Finished,
    collect_once,
    orphans_ended,
)

CALLER_PORT, AGENT_PORT = 40014, 40000
T0 = 1_796_600_000.0


def ulaw(x: np.ndarray) -> bytes:
    """G.711 μ-law encoding (the plain formula), for the caller's side."""
    s = np.clip(x * 32767, -32635, 32635).astype(np.int32)
    sign = np.where(s < 0, 0x80, 0)
    s = np.abs(s) + 0x84
    exponent = np.floor(np.log2(s)).astype(np.int32) - 7
    mantissa = (s >> (exponent + 3)) & 0x0F
    return bytes((~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8))


def alaw(x: np.ndarray) -> bytes:
    """G.711 A-law encoding, for the agent's side."""
    s = np.clip(x * 32767, -32767, 32767).astype(np.int32) >> 3
    sign = np.where(s >= 0, 0x80, 0)
    s = np.abs(s)
    exponent = np.where(s < 32, 0, np.floor(np.log2(np.maximum(s, 1))).astype(np.int32) - 4)
    mantissa = np.where(exponent == 0, s >> 1, s >> exponent) & 0x0F
    return bytes(((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8))


def packet(port: int, pt: int, seq: int, stamp: int, ssrc: int, payload: bytes) -> bytes:
    rtp = struct.pack(">BBHII", 0x80, pt, seq & 0xFFFF, stamp & 0xFFFFFFFF, ssrc) + payload
    udp = struct.pack(">HHHH", 50000, port, 8 + len(rtp), 0) + rtp
    return (
        struct.pack(
            ">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, b"\x7f\0\0\1", b"\x7f\0\0\1"
        )
        + udp
    )


def pcap(records: list[tuple[float, bytes]]) -> bytes:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)]
    for at, data in sorted(records, key=lambda r: r[0]):
        whole, part = int(at), round((at % 1) * 1e6)
        out.append(struct.pack("<IIII", whole, part, len(data), len(data)) + data)
    return b"".join(out)


def tone(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * 8000)) / 8000
    return 0.5 * np.sin(2 * np.pi * hz * t)


def stream(port: int, pt: int, audio: np.ndarray, start: float, ssrc: int, skip: int = -1):
    encode = ulaw if pt == 0 else alaw
    for n in range(len(audio) // 160):
        if n == skip:  # lost on the way
            continue
        payload = encode(audio[n * 160 : (n + 1) * 160])
        yield start + n * 0.02, packet(port, pt, 1000 + n, 5000 + n * 160, ssrc, payload)


METADATA = """{pcap}

Timestamp started ms: 1796600000000.0
SDP mode: offer
SDP before RTP packet: 1

v=0
m=audio {agent} UDP/TLS/RTP/SAVPF 0 8 101
a=sendrecv

Timestamp started ms: 1796600000000.1
SDP mode: answer
SDP before RTP packet: 1

v=0
m=audio {caller} RTP/AVP 0 8 101
a=sendrecv

Timestamp terminated ms(first monologue): 1796600004500.0

call start time: 2026-12-07T00:00:00
call end time: 2026-12-07T00:00:04


hotline-item:{item}
"""


def relay_wrote(
    folder: Path, data: bytes, item: str = "42", name: str = "call-1", template: str = METADATA
) -> Path:
    for sub in ("pcaps", "metadata"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    capture = folder / "pcaps" / f"{name}.pcap"
    capture.write_bytes(data)
    meta = folder / "metadata" / f"rtpengine-meta-{name}.txt"
    meta.write_text(template.format(pcap=capture, agent=AGENT_PORT, caller=CALLER_PORT, item=item))
    return meta


def channels(wav: bytes) -> np.ndarray:
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getframerate(), w.getsampwidth()) == (8000, 2)
        frames = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768
        return frames.reshape(-1, w.getnchannels())


def share(audio: np.ndarray, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio)))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / 8000)
    return float(spectrum[np.abs(freqs - hz) < 30].sum() / max(spectrum.sum(), 1e-12))


async def collected(folder: Path, split: bool) -> list[tuple[Finished, CallAudio | None]]:
    got: list[tuple[Finished, CallAudio | None]] = []

    async def deliver(found: Finished, audio: CallAudio | None) -> None:
        got.append((found, audio))

    await collect_once(folder, deliver, split)
    return got


async def test_each_party_is_on_its_own_channel_aligned_with_a_lost_packet_silent(
    tmp_path: Path,
) -> None:
    caller = list(stream(CALLER_PORT, 0, tone(1000, 4), T0, 0x1111, skip=100))
    agent = list(stream(AGENT_PORT, 8, tone(440, 3), T0 + 1.0, 0x2222))
    junk = [
        (T0 + 0.5, packet(CALLER_PORT, 72, 1, 0, 0x1111, b"\0" * 20)),  # RTCP (rtcp-mux)
        (T0 + 0.6, packet(AGENT_PORT, 101, 1, 0, 0x2222, b"\x01\x80\x00\xa0")),  # a DTMF event
        (T0 + 0.7, b"\x45" + b"\0" * 10),  # a cut packet
    ]
    meta = relay_wrote(tmp_path, pcap(caller + agent + junk))
    [(found, audio)] = await collected(tmp_path, split=True)
    assert found.item_id == 42 and (found.caller_port, found.agent_port) == (
        CALLER_PORT,
        AGENT_PORT,
    )
    assert audio is not None and abs(audio.seconds - 4.0) < 0.05
    assert audio.agent_from is not None and (
        audio.agent_from - audio.started
    ).total_seconds() == pytest.approx(1.0, abs=0.01)
    both = channels(audio.wav)
    left, right = both[:, 0], both[:, 1]
    assert share(left, 1000) > 0.9 and share(right[8000:], 440) > 0.9
    assert np.abs(right[: 8000 - 80]).max() < 0.01  # the agent had not answered yet
    assert np.abs(left[100 * 160 + 10 : 101 * 160 - 10]).max() < 0.01  # the lost packet
    assert np.abs(left[99 * 160 : 100 * 160]).max() > 0.3
    assert not meta.exists() and not found.pcap.exists()  # on the case now: the files go

    relay_wrote(tmp_path, pcap(caller + agent), name="call-2")
    [(_found, mixed)] = await collected(tmp_path, split=False)
    assert mixed is not None and channels(mixed.wav).shape[1] == 1
    assert share(channels(mixed.wav)[:8000, 0], 1000) > 0.9


async def test_a_desk_phones_call_plain_both_ways_keeps_each_party_on_its_channel(
    tmp_path: Path,
) -> None:
    """A call put through to a desk phone by the relay: no secure side to tell the agent by;
    the relay's offer went toward the agent (the caller's phone called in)."""
    desk = METADATA.replace("UDP/TLS/RTP/SAVPF", "RTP/AVP")
    caller = list(stream(CALLER_PORT, 0, tone(1000, 3), T0, 0x1111))
    agent = list(stream(AGENT_PORT, 0, tone(440, 2), T0 + 1.0, 0x2222))
    relay_wrote(tmp_path, pcap(agent + caller), template=desk)
    [(found, audio)] = await collected(tmp_path, split=True)
    assert (found.caller_port, found.agent_port) == (CALLER_PORT, AGENT_PORT)
    assert audio is not None
    both = channels(audio.wav)
    assert share(both[:, 0], 1000) > 0.9 and share(both[8000:, 1], 440) > 0.9


async def test_a_call_never_answered_has_no_audio(tmp_path: Path) -> None:
    relay_wrote(tmp_path, pcap([]))
    [(found, audio)] = await collected(tmp_path, split=True)
    assert found.item_id == 42 and audio is None


async def test_a_recording_that_cannot_be_read_is_kept_for_staff(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    meta = relay_wrote(tmp_path, b"this is not a capture file at all")
    assert await collected(tmp_path, split=True) == []
    assert not meta.exists()
    kept = sorted(p.name for p in (tmp_path / "failed").iterdir())
    assert kept == ["call-1.pcap", "rtpengine-meta-call-1.txt"]
    assert "kept in failed/" in caplog.text

    async def refuses(found: Finished, audio: CallAudio | None) -> None:
        raise ValueError("the queue item is unknown")

    relay_wrote(tmp_path, pcap(list(stream(CALLER_PORT, 0, tone(1000, 1), T0, 1))), name="c-2")
    assert await collect_once(tmp_path, refuses, True) == 0
    assert (tmp_path / "failed" / "c-2.pcap").is_file()


async def test_what_a_dead_relay_was_recording_is_collected_as_ended(tmp_path: Path) -> None:
    meta = relay_wrote(tmp_path, pcap(list(stream(CALLER_PORT, 0, tone(1000, 1), T0, 1))))
    (tmp_path / "tmp").mkdir()
    meta.rename(tmp_path / "tmp" / meta.name)  # where the relay keeps it while the call lasts
    assert await collected(tmp_path, split=True) == []
    orphans_ended(tmp_path)
    [(_found, audio)] = await collected(tmp_path, split=True)
    assert audio is not None and abs(audio.seconds - 1.0) < 0.05
