"""rtpengine for ``bench_relay.py``: started as the hotline's softphone stack starts it, driven
over the ng control protocol as the hotline's Kamailio drives it (bencode over UDP), its pcaps
counted."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

RTPENGINE = "/usr/bin/rtpengine"
PORTS = (16384, 19999)  # under the ephemeral range the generator's sockets are bound in


def benc(value: object) -> bytes:
    """bencode: the ng protocol's encoding (ints, strings, lists, dicts with sorted keys)."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(benc(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(benc(k) + benc(value[k]) for k in sorted(value)) + b"e"
    raise TypeError(type(value))


def bdec(data: bytes, at: int = 0) -> tuple[object, int]:
    """One bencoded value at ``at``: (value, where the next begins); strings come back as str."""
    kind = data[at : at + 1]
    if kind == b"i":
        end = data.index(b"e", at)
        return int(data[at + 1 : end]), end + 1
    if kind in (b"l", b"d"):
        items: list[object] = []
        at += 1
        while data[at : at + 1] != b"e":
            item, at = bdec(data, at)
            items.append(item)
        if kind == b"l":
            return items, at + 1
        return dict(zip(items[::2], items[1::2], strict=True)), at + 1
    colon = data.index(b":", at)
    end = colon + 1 + int(data[at:colon])
    return data[colon + 1 : end].decode(errors="replace"), end


def pcap_packets(data: bytes) -> int:
    """How many packets a pcap file (little-endian, as rtpengine writes it here) holds."""
    at, count = 24, 0
    while at + 16 <= len(data):
        at += 16 + int.from_bytes(data[at + 8 : at + 12], "little")
        count += 1
    return count


def sdp(port: int) -> str:
    lines = (
        "v=0",
        f"o=- {port} 1 IN IP4 127.0.0.1",
        "s=-",
        "c=IN IP4 127.0.0.1",
        "t=0 0",
        f"m=audio {port} RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
        "a=ptime:20",
        "a=sendrecv",
    )
    return "\r\n".join(lines) + "\r\n"


def media_address(text: str) -> tuple[str, int]:
    host = re.search(r"^c=IN IP4 (\S+)", text, re.M)
    port = re.search(r"^m=audio (\d+)", text, re.M)
    if not (host and port):
        raise RuntimeError(f"no audio address in rtpengine's SDP: {text!r}")
    return host[1], int(port[1])


class Relay:
    """rtpengine in userspace on loopback, as the hotline starts it, with or without pcap
    recording; stopped (its process group) on exit."""

    def __init__(self, work: Path, recording: bool) -> None:
        self.work, self.recording = work, recording
        self.name = "recording relay" if recording else "bare relay"
        self.records = work / "recordings"
        self.calls: list[str] = []
        self.files = self.empty = self.bytes = self.recorded = self.relayed = 0
        self.ng_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ng_sock.bind(("127.0.0.1", 0))
        self.ng_sock.settimeout(2)

    def __enter__(self) -> Relay:
        self.work.mkdir(parents=True)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.ng_port = s.getsockname()[1]
        cmd = [
            RTPENGINE,
            "--config-file=none",
            "--foreground",
            "--log-stderr",
            "--table=-1",
            "--interface=127.0.0.1",
            f"--listen-ng=127.0.0.1:{self.ng_port}",
            f"--port-min={PORTS[0]}",
            f"--port-max={PORTS[1]}",
            "--num-threads=2",
            "--delete-delay=0",
            "--log-level=4",
        ]
        if self.recording:
            self.records.mkdir()
            cmd += [
                f"--recording-dir={self.records}",
                "--recording-method=pcap",
                "--recording-format=raw",
            ]
        with (self.work / "rtpengine.log").open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
            )
        try:
            deadline = time.monotonic() + 10
            while not self._pong():
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"rtpengine did not start: {self.log_tail()}")
                time.sleep(0.05)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.ng_sock.close()

    def log_tail(self) -> str:
        return (self.work / "rtpengine.log").read_text(errors="replace")[-500:]

    def _pong(self) -> bool:
        try:
            return self.ng({"command": "ping"}, tries=1).get("result") == "pong"
        except (OSError, RuntimeError):
            return False

    def ng(self, message: dict[str, object], tries: int = 3) -> dict[str, object]:
        """One ng request and its answer (sent again after 2 s without one)."""
        cookie = secrets.token_hex(6).encode()
        for _ in range(tries):
            self.ng_sock.sendto(cookie + b" " + benc(message), ("127.0.0.1", self.ng_port))
            with contextlib.suppress(TimeoutError):
                while True:
                    data = self.ng_sock.recv(65536)
                    if data.startswith(cookie + b" "):
                        answer, _ = bdec(data, len(cookie) + 1)
                        assert isinstance(answer, dict)
                        if answer.get("result") == "error":
                            raise RuntimeError(f"rtpengine: {answer.get('error-reason')}")
                        return answer
        raise RuntimeError(f"rtpengine did not answer {message['command']}")

    def bridge(self, socks: list[socket.socket]) -> list[tuple[socket.socket, tuple[str, int]]]:
        """Offer and answer a call for each pair of sockets (caller, agent): where each sends."""
        pairs = []
        for caller, agent in zip(socks[::2], socks[1::2], strict=True):
            call = f"bench-{secrets.token_hex(8)}"
            flags = {"replace": ["origin", "session-connection"], "ICE": "remove"}
            offer: dict[str, object] = {"command": "offer", "call-id": call, "from-tag": "c"}
            if self.recording:  # as the hotline's Kamailio asks it
                offer |= {"record-call": "yes", "metadata": f"hotline-item:{len(pairs)}"}
            offered = self.ng(offer | flags | {"sdp": sdp(caller.getsockname()[1])})
            self.calls.append(call)
            answer = {"command": "answer", "call-id": call, "from-tag": "c", "to-tag": "a"}
            answered = self.ng(answer | flags | {"sdp": sdp(agent.getsockname()[1])})
            pairs.append((caller, media_address(str(answered["sdp"]))))
            pairs.append((agent, media_address(str(offered["sdp"]))))
        return pairs

    def hang_up(self) -> None:
        for call in self.calls:
            self.ng({"command": "delete", "call-id": call, "from-tag": "c"})
        self.calls.clear()
        if self.recording:  # the calls' pcaps: their packets counted, then removed (disk)
            time.sleep(0.5)  # rtpengine closes them after the delete
            for pcap in self.records.rglob("*.pcap"):
                data = pcap.read_bytes()
                self.files, self.bytes = self.files + 1, self.bytes + len(data)
                self.empty += len(data) <= 24  # a pcap header and no packet
                self.recorded += pcap_packets(data)
                pcap.unlink()

    def cpu(self) -> float:
        """rtpengine's CPU seconds so far (utime + stime)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
