"""Real SIP callers on loopback for the phone engine's tests: SIPp, baresip, a listening ear.

* ``Scenario`` writes a SIPp UAC scenario: INVITE (PCMU, telephone-event 101), then steps —
  pauses, RTP played from a pcap (the caller's voice, or SIPp's own RFC 2833 digit
  captures), SIP INFO digits — then a BYE, or waiting for ours.
* ``voice_pcap`` turns a WAV into a pcap of PCMU RTP packets, so SIPp speaks it.
* ``Ear`` is the caller's ear: the SDP offer names its UDP port, so the engine's RTP comes
  here; it keeps what arrived (by RTP timestamp) and when the first packet and the first
  loud packet came.
* ``BaresipCaller`` is a caller on baresip: it dials, speaks a WAV, presses keys (RFC 2833)
  and keeps what it heard.
* ``similarity`` says how much two recordings sound alike (normalised cross-correlation of
  their envelopes, so that G.711 and resampling do not matter).
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile
import soxr

from hotline.channels.phone.baresip_ctrl import Ctrl, Message
from hotline.channels.phone.baresip_process import quiet_port

SIPP_DIGITS = Path("/usr/share/sip-tester")


def sipp_available() -> bool:
    return shutil.which("sipp") is not None and (SIPP_DIGITS / "dtmf_2833_1.pcap").exists()


def free_udp_port() -> int:
    """A free loopback UDP port that is free for TCP too (a SIP listener binds both, and
    baresip's control socket is TCP), outside the ephemeral range."""
    while True:
        port = quiet_port(socket.SOCK_DGRAM)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def free_udp_pair(pairs: int = 1) -> int:
    """An even port whose next ``2 * pairs - 1`` ports are free too (RTP and RTCP per call)."""
    while True:
        port = free_udp_port() & ~1
        sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2 * pairs)]
        try:
            for offset, sock in enumerate(sockets):
                sock.bind(("127.0.0.1", port + offset))
            return port
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()


# --- audio ---------------------------------------------------------------------------------


def speech(path: Path, text: str, *, voice: str = "en", pitch: int = 50) -> Path:
    """``text`` spoken by espeak-ng into ``path`` (22.05 kHz WAV)."""
    subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "170", "-w", str(path), text],
        check=True,
        capture_output=True,
    )
    return path


def read_8k(path: Path) -> np.ndarray:
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    out: np.ndarray = soxr.resample(mono, rate, 8000) if rate != 8000 else mono
    return out


def ulaw_encode(x: np.ndarray) -> bytes:
    """G.711 mu-law of float samples in [-1, 1]."""
    pcm = np.clip(x * 32768, -32767, 32767).astype(np.int32)
    sign = np.where(pcm < 0, 0x80, 0)
    mag = np.minimum(np.abs(pcm) + 0x84, 0x7FFF)
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    encoded: bytes = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()
    return encoded


def ulaw_decode(data: bytes) -> np.ndarray:
    u = ~np.frombuffer(data, np.uint8).astype(np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.float32) / 32768


def alaw_decode(data: bytes) -> np.ndarray:
    a = np.frombuffer(data, np.uint8).astype(np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, np.where(seg == 1, t + 0x108, (t + 0x108) << (seg - 1)))
    return np.where(a & 0x80, t, -t).astype(np.float32) / 32768


def voice_pcap(wav: Path, pcap: Path, *, lead_silence: float = 0.0) -> Path:
    """The WAV as PCMU RTP (20 ms packets) in a pcap that SIPp's play_pcap_audio replays."""
    audio = read_8k(wav)
    audio = np.concatenate([np.zeros(int(lead_silence * 8000), np.float32), audio])
    audio = np.concatenate([audio, np.zeros((-len(audio)) % 160, np.float32)])
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i in range(len(audio) // 160):
        payload = ulaw_encode(audio[i * 160 : (i + 1) * 160])
        rtp = struct.pack("!BBHII", 0x80, 0x80 if i == 0 else 0, i, i * 160, 0x1234ABCD) + payload
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(udp),
            i & 0xFFFF,
            0,
            64,
            17,
            0,
            socket.inet_aton("127.0.0.1"),
            socket.inet_aton("127.0.0.1"),
        )
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        ts = i * 0.02
        out += struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(frame), len(frame)) + frame
    pcap.write_bytes(bytes(out))
    return pcap


def envelope(x: np.ndarray, rate: int = 8000, step: float = 0.01) -> np.ndarray:
    n = int(rate * step)
    x = x[: len(x) // n * n].reshape(-1, n)
    rms: np.ndarray = np.sqrt((x.astype(np.float64) ** 2).mean(axis=1))
    return rms


def _trim(e: np.ndarray) -> np.ndarray:
    loud = np.nonzero(e > 0.05 * e.max())[0]
    return e[loud[0] : loud[-1] + 1] if len(loud) else e[:0]


def similarity(a_audio: np.ndarray, b_audio: np.ndarray) -> tuple[float, float]:
    """(peak Pearson correlation of the 10 ms envelopes, lag in seconds of the shorter sound,
    trimmed of its silent ends, inside the longer one). 1.0 is the same sound; different
    sentences stay well below 0.6."""
    a, b = _trim(envelope(a_audio)), envelope(b_audio)
    if len(a) > len(b):
        a, b = _trim(b), a
    if len(a) < 10 or not b.any():
        return 0.0, 0.0
    a = (a - a.mean()) / (a.std() * len(a))
    b = np.concatenate([np.zeros(len(a) // 2), b, np.zeros(len(a) // 2)])
    best, lag = -1.0, 0
    for i in range(len(b) - len(a) + 1):
        w = b[i : i + len(a)]
        sd = w.std()
        if sd > 0:
            c = float(np.dot(a, (w - w.mean()) / sd))
            if c > best:
                best, lag = c, i
    return best, max(0, lag - len(a) // 2) * 0.01


# --- the caller's ear ----------------------------------------------------------------------


@dataclass
class Ear(asyncio.DatagramProtocol):
    """Receives the engine's RTP for one or more calls (told apart by SSRC)."""

    port: int = 0
    packets: dict[int, list[tuple[float, int, int, bytes]]] = field(default_factory=dict)
    transport: asyncio.DatagramTransport | None = None

    async def open(self) -> Ear:
        loop = asyncio.get_running_loop()
        self.port = self.port or free_udp_pair()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", self.port)
        )
        return self

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        pt = data[1] & 0x7F
        _, _, _seq, ts, ssrc = struct.unpack("!BBHII", data[:12])
        self.packets.setdefault(ssrc, []).append((time.monotonic(), pt, ts, data[12:]))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def audio(self, ssrc: int | None = None) -> np.ndarray:
        """What one stream said, laid out by RTP timestamp (gaps are silence)."""
        if ssrc is None:
            ssrc = max(self.packets, key=lambda s: len(self.packets[s]))
        got = [(ts, pt, p) for _, pt, ts, p in self.packets.get(ssrc, []) if pt in (0, 8)]
        if not got:
            return np.zeros(0, np.float32)
        first = min(ts for ts, _, _ in got)
        size = max(ts - first + len(p) for ts, _, p in got)
        out = np.zeros(size, np.float32)
        for ts, pt, p in got:
            out[ts - first : ts - first + len(p)] = ulaw_decode(p) if pt == 0 else alaw_decode(p)
        return out

    def first_loud(self, ssrc: int, level: float = 0.02) -> float | None:
        """Arrival time of the first packet louder than ``level`` (RMS, full scale 1)."""
        for at, pt, _, p in self.packets.get(ssrc, []):
            if pt in (0, 8):
                x = ulaw_decode(p) if pt == 0 else alaw_decode(p)
                if float(np.sqrt((x * x).mean())) > level:
                    return at
        return None


# --- SIPp ------------------------------------------------------------------------------------

_HEAD = """      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>{peer}
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70"""


def _request(method: str, cseq: int, body: str = "", ctype: str = "", peer: bool = True) -> str:
    head = _HEAD.format(peer="[peer_tag_param]" if peer else "", cseq=cseq, method=method)
    extra = f"\n      Content-Type: {ctype}" if ctype else ""
    return (
        f'  <send retrans="500">\n    <![CDATA[\n      {method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n'
        f"{head}{extra}\n      Content-Length: [len]\n\n{body}    ]]>\n  </send>\n"
    )


@dataclass
class Scenario:
    """A SIPp UAC call. ``steps``: ("pause", ms) | ("pcap", path) | ("info", digit) |
    ("rfc2833", digit). It ends with our BYE (``hangup=True``) or by waiting for the
    engine's (``hangup=False``)."""

    steps: list[tuple[str, object]] = field(default_factory=list)
    hangup: bool = False
    rtp_port: int | None = None  # where the engine's RTP goes (an ``Ear``); SIPp's own if None

    def xml(self) -> str:
        port = str(self.rtp_port) if self.rtp_port else "[media_port]"
        sdp = (
            "      v=0\n      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\n"
            "      s=-\n      c=IN IP[media_ip_type] [media_ip]\n      t=0 0\n"
            f"      m=audio {port} RTP/AVP 0 101\n      a=rtpmap:0 PCMU/8000\n"
            "      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-15\n"
        )
        parts = ['<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="caller">\n']
        parts.append(_request("INVITE", 1, sdp, "application/sdp", peer=False))
        parts.append('  <recv response="100" optional="true"/>\n')
        parts.append('  <recv response="180" optional="true"/>\n')
        parts.append('  <recv response="200" rtd="true"/>\n')
        parts.append(
            _request("ACK", 1).replace(' retrans="500"', "").replace("CSeq: 1 ACK", "CSeq: 1 ACK")
        )
        cseq = 2
        for kind, arg in self.steps:
            if kind == "pause":
                parts.append(f'  <pause milliseconds="{int(arg)}"/>\n')  # type: ignore[call-overload]
            elif kind in ("pcap", "rfc2833"):
                path = (
                    arg if kind == "pcap" else SIPP_DIGITS / f"dtmf_2833_{_pcap_key(str(arg))}.pcap"
                )
                parts.append(f'  <nop><action><exec play_pcap_audio="{path}"/></action></nop>\n')
            elif kind == "info":
                body = f"      Signal={arg}\n      Duration=160\n"
                parts.append(_request("INFO", cseq, body, "application/dtmf-relay"))
                parts.append('  <recv response="200"/>\n')
                cseq += 1
        if self.hangup:
            parts.append(_request("BYE", cseq))
            parts.append('  <recv response="200" crlf="true"/>\n')
        else:
            parts.append('  <recv request="BYE" timeout="30000"/>\n')
            parts.append(
                "  <send>\n    <![CDATA[\n      SIP/2.0 200 OK\n      [last_Via:]\n      [last_From:]\n"
                "      [last_To:]\n      [last_Call-ID:]\n      [last_CSeq:]\n"
                "      Contact: <sip:[local_ip]:[local_port];transport=[transport]>\n"
                "      Content-Length: 0\n\n    ]]>\n  </send>\n"
            )
        parts.append("</scenario>\n")
        return "".join(parts)


def _pcap_key(digit: str) -> str:
    return {"*": "star", "#": "pound"}.get(digit, digit)


@dataclass
class SippRun:
    returncode: int
    stdout: str
    errors: str


async def run_sipp(
    scenario: Scenario,
    workdir: Path,
    target: str,
    *,
    service: str = "12345",
    calls: int = 1,
    rate: int = 10,
    caller: str = "+8613800138000",
    timeout: float = 60.0,
) -> SippRun:
    """Run ``calls`` calls of ``scenario`` at ``rate`` calls/s against ``target``; waits."""
    workdir.mkdir(parents=True, exist_ok=True)
    xml = workdir / f"scenario-{time.monotonic_ns()}.xml"
    xml.write_text(scenario.xml())
    inf = workdir / f"callers-{time.monotonic_ns()}.csv"
    inf.write_text("SEQUENTIAL\n" + f"{caller};\n")
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        "-sf",
        str(xml),
        "-inf",
        str(inf),
        "-s",
        service,
        target,
        "-i",
        "127.0.0.1",
        "-p",
        str(free_udp_port()),
        "-mp",
        str(free_udp_pair()),
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-r",
        str(rate),
        "-nostdin",
        "-timeout",
        f"{int(timeout)}s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        str(workdir / "errors.log"),
        "-max_recv_loops",
        "1000",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=str(workdir),
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout + 10)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    errors = workdir / "errors.log"
    return SippRun(
        proc.returncode or 0,
        out.decode(errors="replace")[-3000:],
        errors.read_text(errors="replace")[-3000:] if errors.exists() else "",
    )


def send_garbage(host: str, port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, (host, port))


def audio_offer(rtp_port: int, payloads: str = "0") -> str:
    """An SDP offer of audio to ``rtp_port`` on loopback, PCMU first."""
    return (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP {payloads}\r\na=rtpmap:0 PCMU/8000\r\n"
    )


def sip_request(
    method: str,
    target: str,
    me: str,
    *,
    call_id: bytes,
    caller: str,
    display: bytes = b"",
    cseq: int = 1,
    to_tag: bytes = b"",
    body: str = "",
) -> bytes:
    """A SIP request over UDP from ``me`` to the line's number at ``target``, built from bytes
    so that its Call-ID and display name may hold what no SIP tool would send."""
    return (
        f"{method} sip:12345@{target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {me};branch=z9hG4bK{secrets.token_hex(6)}\r\nMax-Forwards: 70\r\n".encode()
        + b'From: "'
        + display
        + f'" <sip:{caller}@127.0.0.1>;tag=raw1\r\n'.encode()
        + f"To: <sip:12345@{target}>".encode()
        + to_tag
        + b"\r\nCall-ID: "
        + call_id
        + f"\r\nCSeq: {cseq} {method}\r\nContact: <sip:raw@{me}>\r\n".encode()
        + (b"Content-Type: application/sdp\r\n" if body else b"")
        + f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
    )


def mutated_invites(target: str, count: int, seed: int = 12345) -> list[bytes]:
    """``count`` INVITEs to ``target``, each a valid one damaged in one way a fuzzer would:
    bytes flipped, cut short, a run of one byte inserted, a Content-Length that lies, lines
    shuffled or repeated, a port or payload list out of range, or random bytes alone."""
    rng = random.Random(seed)
    sdp = audio_offer(40000, "0 8 101")
    out = []
    for n in range(count):
        message = bytearray(
            sip_request(
                "INVITE",
                target,
                "127.0.0.1:5999",
                call_id=f"fuzz-{n}".encode(),
                caller=f"+861390000{n % 10000:04d}",
                body=sdp,
            )
        )
        lines = bytes(message).split(b"\r\n")
        kind = n % 9
        if kind == 0:
            for _ in range(rng.randrange(1, 20)):
                message[rng.randrange(len(message))] = rng.randrange(256)
        elif kind == 1:
            message = message[: rng.randrange(len(message))]
        elif kind == 2:
            at = rng.randrange(len(message))
            message[at:at] = bytes([rng.randrange(256)]) * rng.randrange(1, 4000)
        elif kind == 3:
            lie = str(rng.choice([-1, 0, 99999, 2**31, 2**64])).encode()
            message = bytearray(re.sub(rb"Content-Length: \d+", b"Content-Length: " + lie, message))
        elif kind == 4:
            rng.shuffle(lines)
            message = bytearray(b"\r\n".join(lines))
        elif kind == 5:
            at = rng.randrange(len(lines))
            lines[at:at] = [lines[at]] * rng.randrange(2, 200)
            message = bytearray(b"\r\n".join(lines))
        elif kind == 6:
            port = str(rng.choice([0, 65536, -5, 99999999999])).encode()
            message = bytearray(message.replace(b"m=audio 40000", b"m=audio " + port))
        elif kind == 7:
            types = b" ".join(
                str(rng.randrange(-5, 300)).encode() for _ in range(rng.randrange(60))
            )
            message = bytearray(message.replace(b"RTP/AVP 0 8 101", b"RTP/AVP " + types))
        else:
            message = bytearray(rng.randbytes(rng.randrange(1, 1400)))
        out.append(bytes(message[:65000]))
    return out


def raw_call(
    target: str, *, call_id: bytes, display: bytes, caller: str, rtp_port: int, talk: float
) -> list[str]:
    """A call made by hand over UDP, so that its headers may hold bytes no SIP tool would send
    (SIPp's scenarios are XML, UTF-8): INVITE (audio to ``rtp_port``), ACK on the 200, BYE
    after ``talk`` seconds. The status lines received, in order ([] when never answered)."""
    host, port = target.split(":")
    seen: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(10)
        me = f"127.0.0.1:{s.getsockname()[1]}"

        def request(method: str, cseq: int, to_tag: bytes = b"", body: str = "") -> bytes:
            return sip_request(
                method,
                target,
                me,
                call_id=call_id,
                caller=caller,
                display=display,
                cseq=cseq,
                to_tag=to_tag,
                body=body,
            )

        s.sendto(request("INVITE", 1, body=audio_offer(rtp_port)), (host, int(port)))
        to_tag = b""
        while not seen or not seen[-1].startswith("SIP/2.0 200"):
            try:
                answer = s.recv(65536)
            except TimeoutError:
                return seen
            seen.append(answer.split(b"\r\n", 1)[0].decode())
            tag = re.search(rb"^To:.*?(;tag=[^;\r\n]+)", answer, re.M | re.I)
            to_tag = tag[1] if tag else to_tag
        s.sendto(request("ACK", 1, to_tag), (host, int(port)))
        time.sleep(talk)
        s.sendto(request("BYE", 2, to_tag), (host, int(port)))
        while True:  # the answer to the BYE (what else comes, retransmissions, is passed)
            try:
                answer = s.recv(65536)
            except TimeoutError:
                return seen
            if re.search(rb"^CSeq: *2 BYE", answer, re.M | re.I):
                seen.append(answer.split(b"\r\n", 1)[0].decode())
                return seen


# --- baresip as the caller ---------------------------------------------------------------


def plain_baresip(
    folder: Path,
    user: str,
    ctrl_port: int,
    voice: Path,
    *,
    rtp_ports: tuple[int, int],
    dumps: Path | None = None,
    answer: str = "manual",
    registrar: str = "",
    password: str = "",
) -> int:
    """Write ``folder``'s config for a baresip of its own (not the hotline's engine): G.711,
    one account ``user`` on loopback that ctrl_tcp answers or dials with, ``voice`` (a WAV at
    8 kHz) as every call's sound by ``aufile`` and, given ``dumps``, what each call heard and
    sent (``sndfile``). Returns its SIP port."""
    port = free_udp_port()
    modules = ("g711", "aufile", "sndfile") if dumps else ("g711", "aufile")
    config = [
        f"sip_listen 127.0.0.1:{port}",
        "module_path /usr/lib/baresip/modules",
        *(f"module {m}.so" for m in modules),
        *(f"module_app {m}.so" for m in ("account", "menu", "ctrl_tcp")),
        f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
        f"audio_source aufile,{voice}",
        *([f"snd_path {dumps}"] if dumps else []),
        f"rtp_ports {rtp_ports[0]}-{rtp_ports[1]}",
        "net_interface 127.0.0.1",
        "audio_txmode thread",
        "",
    ]
    (folder / "config").write_text("\n".join(config))
    if registrar:  # registers there as ``user`` with ``password`` (a desk phone's extension)
        account = f"<sip:{user}@{registrar}>;auth_pass={password};regint=60"
    else:
        account = f"<sip:{user}@127.0.0.1:{port}>;regint=0"
    (folder / "accounts").write_text(f"{account};answermode={answer}\n")
    return port


@dataclass
class BaresipCaller:
    """A caller on a second baresip (Debian's 1.0.0): it dials the line, says ``voice`` from
    the moment the call is answered (``aufile``; baresip hangs up when the file ends, as a
    caller who has finished), presses keys by RFC 2833 (the only way baresip 1.0.0 sends
    them; SIPp sends SIP INFO) and keeps what it heard (``sndfile``'s ``-dec.wav``)."""

    work: Path
    number: str = "+8613800138000"

    async def call(
        self,
        target: str,
        voice: np.ndarray,
        keys: list[tuple[float, str]],
        *,
        within: float = 60,
        calls: int = 1,
    ) -> np.ndarray:
        """Dial ``sip:12345@target``; ``keys`` are (seconds after the answer, digit). Returns
        what the caller heard, 8 kHz. ``calls``: how many calls end before it returns (2 when
        the line transfers the caller: baresip follows a REFER with a call of its own, which
        says ``voice`` again from its start); what each heard follows the other's."""
        self.work.mkdir(parents=True, exist_ok=True)
        said = self.work / "said.wav"
        soundfile.write(str(said), voice, 8000, subtype="PCM_16")
        ctrl_port, rtp = free_udp_port(), free_udp_pair(calls)
        (self.work / "dumps").mkdir(exist_ok=True)
        plain_baresip(
            self.work,
            self.number,
            ctrl_port,
            said,
            rtp_ports=(rtp, rtp + 2 * calls - 1),
            dumps=self.work / "dumps",
        )
        loop = asyncio.get_running_loop()
        answered: asyncio.Future[float] = loop.create_future()
        closed: asyncio.Future[str] = loop.create_future()
        ended: list[str] = []

        def on_event(msg: Message) -> None:
            kind = msg.get("type")
            if kind == "CALL_ESTABLISHED" and not answered.done():
                answered.set_result(loop.time())
            elif kind == "CALL_CLOSED":
                ended.append(str(msg.get("param", "")))
                if len(ended) >= calls and not closed.done():
                    closed.set_result(ended[-1])

        with (self.work / "baresip.log").open("wb") as log:  # kept for a failing test
            proc = await asyncio.create_subprocess_exec(
                "baresip",
                "-f",
                str(self.work),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        ctrl = Ctrl(on_event)
        try:
            await ctrl.connect("127.0.0.1", ctrl_port)
            await ctrl.batch([("dial", f"sip:12345@{target}")])
            start = await asyncio.wait_for(answered, 10)
            for at, digit in keys:
                await asyncio.sleep(max(0.0, start + at - loop.time()))
                await ctrl.batch([("sndcode", digit)])
            await asyncio.wait_for(closed, within)
        finally:
            await ctrl.close()
            proc.terminate()
            await proc.wait()
        heard = sorted((self.work / "dumps").glob("dump-*-dec.wav"))
        assert len(heard) == calls, heard
        return np.concatenate([read_8k(path) for path in heard])


@dataclass
class DeskPhone:
    """An agent's desk phone: a baresip of its own that answers every call at once, says
    ``voice`` (hanging up when it ends) and keeps what it heard."""

    work: Path
    extension: str = "1001"
    address: str = ""
    registrar: str = ""  # host:port where it registers its extension ("": it does not)
    password: str = ""
    answered: list[float] = field(default_factory=list)  # the loop's clock at each answer
    _proc: asyncio.subprocess.Process | None = None
    _ctrl: Ctrl | None = None
    _rang: asyncio.Event = field(default_factory=asyncio.Event)

    async def __aenter__(self) -> DeskPhone:
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "dumps").mkdir(exist_ok=True)
        rtp = free_udp_pair(4)
        ctrl_port = free_udp_port()
        port = plain_baresip(
            self.work,
            self.extension,
            ctrl_port,
            self.work / "said.wav",
            rtp_ports=(rtp, rtp + 7),
            dumps=self.work / "dumps",
            answer="auto",
            registrar=self.registrar,
            password=self.password,
        )
        self.address = f"sip:{self.extension}@127.0.0.1:{port}"
        with (self.work / "baresip.log").open("wb") as log:
            self._proc = await asyncio.create_subprocess_exec(
                "baresip",
                "-f",
                str(self.work),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        loop = asyncio.get_running_loop()

        def on_event(msg: Message) -> None:
            if msg.get("type") == "CALL_ESTABLISHED":
                self.answered.append(loop.time())
                self._rang.set()

        self._ctrl = Ctrl(on_event)
        await self._ctrl.connect("127.0.0.1", ctrl_port)  # retried until baresip listens
        return self

    async def answer_after(self, answers: int) -> float:
        """The loop's clock at the next answer once ``answers`` calls were answered."""
        while len(self.answered) <= answers:
            self._rang.clear()
            await self._rang.wait()
        return self.answered[answers]

    def says(self, voice: np.ndarray) -> None:
        soundfile.write(str(self.work / "said.wav"), voice, 8000, subtype="PCM_16")

    def heard(self) -> list[np.ndarray]:
        return [read_8k(p) for p in sorted((self.work / "dumps").glob("dump-*-dec.wav"))]

    async def __aexit__(self, *_exc: object) -> None:
        if self._ctrl is not None:
            await self._ctrl.close()
        if self._proc is not None:
            self._proc.terminate()
            await self._proc.wait()
