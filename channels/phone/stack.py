"""The agents' softphone stack beside the line's engine: Kamailio (registrar; SIP over WebSocket
for the browsers) and rtpengine (media relay in userspace: plain RTP/PCMU on the caller's side,
ICE and DTLS-SRTP on the browser's), both child processes with a configuration written from the
hotline's settings into a throw-away folder under the data dir. The line asks Kamailio (its
JSON-RPC socket in that folder) whether an agent's softphone is registered; the console hands
each agent a short-lived credential (``softphone.credential``) that Kamailio checks with the
shared secret alone (auth_ephemeral). See README.md."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import string
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .recording import orphans_ended
from .relay_control import RelayError, answers, command
from .waiting import BACK, LOST

log = logging.getLogger("hotline.channels.phone.stack")

KAMAILIO = "/usr/sbin/kamailio"
RTPENGINE = "/usr/bin/rtpengine"
MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
NEEDED = ("websocket", "auth_ephemeral", "rtpengine", "jsonrpcs", "xhttp", "nathelper")
PACKAGES = "kamailio kamailio-websocket-modules kamailio-autheph-modules rtpengine-daemon"
TEMPLATE = Path(__file__).with_name("kamailio.cfg.in")


def module_path() -> Path:
    found = sorted(Path("/usr/lib").glob("*/kamailio/modules"))
    return found[0] if found else MODULES


def missing() -> list[str]:
    """What of the stack is not installed here (empty: all of it)."""
    gone = [p for p in (KAMAILIO, RTPENGINE) if not Path(p).exists()]
    mods = module_path()
    gone += [f"kamailio module {m}" for m in NEEDED if not (mods / f"{m}.so").exists()]
    return gone


def address(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return (host or "127.0.0.1", int(port) if port else default_port)


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class SoftphoneStack:
    """Kamailio and rtpengine for the agents' browsers. ``sip``: where the line's callers are
    sent (UDP); ``ws``: where browsers open their WebSocket; ``media``: the address both sides
    send media to, ``ports`` its range."""

    sip: tuple[str, int]
    ws: tuple[str, int]
    media: str
    ports: tuple[int, int]
    secret: str
    work_dir: Path | None = None
    line: tuple[str, int] = ("127.0.0.1", 5060)  # the line's SIP address: calls come back there
    ring_seconds: int = 20  # how long a softphone rings before the call goes back to the queue
    flood: int = 100  # requests from one address over WebSocket in 2 s before it is dropped
    record: bool = True  # the relay writes each call's media (``recordings``)
    trunk: str = ""  # where agents' calls to citizens go (host:port); empty: softphones do not dial
    caller_id: str = "12345"  # the number citizens see when an agent calls them
    debug: int = 1
    dir: Path = field(init=False)
    sockets: Path = field(init=False)
    starts: int = field(default=0, init=False)  # how many times it started (a new Kamailio)
    ng_port: int = field(default=0, init=False)  # the relay's control port (loopback)
    _procs: list[asyncio.subprocess.Process] = field(default_factory=list, init=False)
    _logs: list[asyncio.Task[None]] = field(default_factory=list, init=False)

    def aor(self, user: str) -> str:
        """``user``'s softphone address on the registrar."""
        return f"sip:{user}@{self.sip[0]}:{self.sip[1]}"

    async def put_through_address(self, phone: str, item_id: int | None = None) -> str | None:
        """Where the line sends a caller for an agent's ``phone``: a user of this registrar (a
        softphone's, or a desk phone's extension) or a desk phone's SIP address. A one-time
        name Kamailio maps to the phone (``route[PUT]``), unguessable: the caller's own phone or
        trunk sends the INVITE the line refers it to, and nothing else rings an agent. Marked so
        that a call the phone does not take comes back to the line (``waiting.BACK``), and with
        the queue item the call's recording belongs to. None: the stack is down or did not
        take it (the line refers the caller to a desk phone's SIP address itself)."""
        if not self.alive():
            log.warning("a call is put through without the softphone stack: %s", self.why_down())
            return None
        name = f"put-{secrets.token_hex(16)}"
        target = phone if phone.startswith(("sip:", "sips:")) else self.aor(phone)
        try:
            await self.rpc("htable.sets", "puts", name, target)
        except (OSError, TimeoutError, ValueError):
            log.warning("the softphone registrar did not take a call put through")
            return None
        item = f";hli={item_id}" if item_id is not None else ""
        return f"{self.aor(name)};hl=back{item}"

    @property
    def recordings(self) -> Path:
        """Where the relay writes the calls' media (``recording.py``): kept across the stack's
        restarts, so a call's recording outlives the relay that made it."""
        return (self.work_dir or self.dir) / "recordings"

    def _config(self, ng_port: int) -> str:
        values = {
            "debug": self.debug,
            "sip_host": self.sip[0],
            "sip_port": self.sip[1],
            "ws_host": self.ws[0],
            "ws_port": self.ws[1],
            "module_path": f"{module_path()}/",
            "rpc_socket": str(self.sockets / "rpc.sock"),
            "secret": self.secret,
            "ng_port": ng_port,
            "ring_ms": self.ring_seconds * 1000,
            "back_uri": f"sip:{BACK}@{self.line[0]}:{self.line[1]}",
            "back_user": BACK,
            "lost_uri": f"sip:{LOST}@{self.line[0]}:{self.line[1]}",
            "flood": self.flood,
            "record": "record-call=yes metadata=hotline-item:$avp(item)" if self.record else "",
            "dial": 1 if self.trunk else 0,
            "trunk": self.trunk or "127.0.0.1:9",
            "caller_id": self.caller_id,
        }
        return string.Template(TEMPLATE.read_text()).substitute(values)

    async def start(self) -> None:
        if self.work_dir is not None:
            self.work_dir.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="softphones-", dir=self.work_dir))
        # the control sockets where a Unix socket's path fits (108 bytes), private to us
        self.sockets = Path(tempfile.mkdtemp(prefix="hotline-sip-"))
        ng_port = self.ng_port = _free_udp_port("127.0.0.1")
        cfg = self.dir / "kamailio.cfg"
        cfg.write_text(self._config(ng_port))
        cfg.chmod(0o600)  # it holds the shared secret
        try:
            await self._spawn(
                "rtpengine",
                RTPENGINE,
                "--config-file=none",
                "--foreground",
                "--log-stderr",
                "--table=-1",
                f"--interface={self.media}",
                f"--listen-ng=127.0.0.1:{ng_port}",
                f"--port-min={self.ports[0]}",
                f"--port-max={self.ports[1]}",
                "--num-threads=2",
                "--delete-delay=0",
                f"--log-level={4 + 2 * (self.debug > 1)}",
                *self._recording_args(),
            )
            # Kamailio sets aside a relay that does not answer its first ping
            await self._rtpengine_ready(ng_port)
            await self._spawn(
                "kamailio",
                KAMAILIO,
                "-DD",
                "-E",
                "-f",
                str(cfg),
                "-Y",
                str(self.dir),
                "-w",
                str(self.dir),
                "-m",
                "64",
                "-M",
                "8",
            )
            await self._ready()
            self.starts += 1
        except BaseException:
            await self.stop()
            raise

    def _recording_args(self) -> list[str]:
        if not self.record:
            return []
        self.recordings.mkdir(mode=0o700, exist_ok=True)
        orphans_ended(self.recordings)  # what a relay that is gone was still recording
        return [
            f"--recording-dir={self.recordings}",
            "--recording-method=pcap",
            "--recording-format=raw",
        ]

    async def _spawn(self, name: str, *cmd: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._procs.append(proc)
        self._logs.append(asyncio.create_task(self._log(name, proc)))

    async def _log(self, name: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        with (self.dir / f"{name}.log").open("ab") as out:
            while line := await proc.stdout.readline():
                out.write(line)  # SIP addresses are agents' and the line's, not callers' numbers
                out.flush()

    async def _rtpengine_ready(self, port: int, within: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not await answers(port):
            if self._procs[0].returncode is not None or loop.time() > deadline:
                raise RuntimeError(f"rtpengine did not start: {self._last_said('rtpengine')}")
            await asyncio.sleep(0.1)

    async def _ready(self, within: float = 15.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for proc in self._procs:
                if proc.returncode is not None:
                    raise RuntimeError(f"the softphone stack did not start ({self.why_down()})")
            with contextlib.suppress(OSError, TimeoutError, ValueError):
                if await self.rpc("core.version") is not None:
                    return
            if loop.time() > deadline:
                raise RuntimeError(
                    f"the softphone stack did not answer: {self._last_said('kamailio')}"
                )
            await asyncio.sleep(0.1)

    async def rpc(self, method: str, *params: str) -> object:
        """Kamailio's JSON-RPC over its datagram socket: the result, None for an error."""
        return await asyncio.to_thread(self._rpc, method, list(params))

    def _rpc(self, method: str, params: list[str]) -> object:
        reply_path = self.sockets / f"r-{secrets.token_hex(6)}"  # the reply comes back here
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.bind(str(reply_path))
            try:
                s.settimeout(2)
                body = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1}
                sent = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogateescape")
                s.sendto(sent, str(self.sockets / "rpc.sock"))
                # a caller's Call-ID or tag in a table may hold bytes that are not UTF-8
                reply = json.loads(s.recv(65536).decode("utf-8", "surrogateescape"))
            finally:
                reply_path.unlink(missing_ok=True)
        return reply.get("result")

    async def relay(self, name: str, **args: Any) -> dict[str, Any]:
        """The relay's reply to the control command ``name`` (``relay_control.command``)."""
        if not self.alive():
            raise RelayError("the softphone stack is not running")
        return await command(self.ng_port, name, **args)

    async def registered(self, user: str) -> bool:
        """Whether ``user``'s softphone is registered now (no: the stack is down)."""
        if not self.alive():
            return False
        try:
            found = await self.rpc("ul.lookup", "location", user)
        except (OSError, TimeoutError, ValueError):
            log.warning("the softphone registrar did not answer")
            return False
        return isinstance(found, dict) and bool(found.get("Contacts"))

    def alive(self) -> bool:
        return bool(self._procs) and all(p.returncode is None for p in self._procs)

    def why_down(self) -> str:
        """Which of the stack's processes ended, with its exit status and what it logged last
        (for the log line that says the stack is down: its folder goes with the next start)."""
        said = [
            f"{name} exited {proc.returncode}: {self._last_said(name)}"
            for name, proc in zip(("rtpengine", "kamailio"), self._procs, strict=False)
            if proc.returncode is not None
        ]
        return "; ".join(said) or "none of its processes ended"

    def _last_said(self, name: str) -> str:
        try:
            lines = (self.dir / f"{name}.log").read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        return " | ".join(line.strip() for line in lines[-3:] if line.strip()) or "nothing"

    async def stop(self) -> None:
        for proc in reversed(self._procs):
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self._procs:
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        await asyncio.gather(*self._logs, return_exceptions=True)
        self._procs.clear()
        self._logs.clear()
        if hasattr(self, "sockets"):  # started once at least
            shutil.rmtree(self.sockets, ignore_errors=True)

    def discard(self) -> None:
        if hasattr(self, "dir"):
            shutil.rmtree(self.dir, ignore_errors=True)

    async def keep(self, stop: asyncio.Event, *, check: float = 1.0, backoff: float = 1.0) -> None:
        """The stack running until ``stop``: started, and started again whenever Kamailio or
        rtpengine ends (after ``backoff`` seconds, doubling up to a minute while starting
        fails). While it is down the line sends calls to desk phones; the browsers register
        again by themselves when it is back. Stopped and its folder removed at the end."""
        delay = backoff
        try:
            while not stop.is_set():
                if not self.alive():
                    if self._procs:
                        log.error("the softphone stack ended (%s); starting again", self.why_down())
                    await self.stop()
                    self.discard()
                    try:
                        await self.start()
                    except Exception:
                        log.exception("the softphone stack did not start; again in %.0f s", delay)
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), delay)
                        delay = min(delay * 2, 60.0)
                        continue
                    delay = backoff
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), check)
        finally:
            await self.stop()
            self.discard()


async def repeat(stop: asyncio.Event, seconds: float, step: Callable[[], Awaitable[None]]) -> None:
    """``step`` every ``seconds`` until ``stop`` (beside the stack: its tables, its calls); a
    step that fails is logged and the next one comes on time."""
    while not stop.is_set():
        try:
            await step()
        except Exception:
            log.exception("a task beside the softphone stack failed; again in %.0f s", seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
