"""baresip's life as a subprocess, for ``BaresipEngine``: its throw-away config directory (the
G.711 codecs, the audio source and dumps, the control socket), starting it with each line's
parked call, stopping it whole, and reading its log (how each digit came, callers' numbers
redacted). See ``baresip`` for why the engine is shaped so."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from .engine import OnEvent

log = logging.getLogger("hotline.channels.phone.baresip")

MODULES = ("g711", "gst", "sndfile")  # codecs, the audio source, the per-call dumps
APP_MODULES = ("account", "menu", "ctrl_tcp")  # accounts file, the commands, the control socket
DTMF_LOG = re.compile(r"received event: '(.)' \(end=0\)|call: received DTMF: '(.)'")
HEALTH_SECONDS = 5.0  # how often the line asks baresip whether it still answers
STUCK_SECONDS = 30.0  # a question unanswered this long: baresip is stuck, and is ended
SIP_USER = re.compile(r"((?:sips?|tel):)[^@\s>;]+@")  # a caller's number in baresip's log


def _redacted(line: str) -> str:
    """baresip's log line without a caller's number or display name."""
    head, found, _ = line.partition("Incoming call from:")
    if found:
        return f"{head}Incoming call from: (withheld in our log)"
    return SIP_USER.sub(r"\1***@", line)


def baresip_available(binary: str = "baresip") -> bool:
    modules = Path("/usr/lib/baresip/modules")
    return shutil.which(binary) is not None and all(
        (modules / f"{m}.so").exists() for m in MODULES + APP_MODULES
    )


STARTS = 3  # tries, each with another control port, before the line gives up
CTRL_TAKEN = "ctrl_tcp: failed to listen"


def quiet_port(kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A free loopback port below the kernel's ephemeral range, which the connections other
    programs open cannot take between this check and the bind of the program it is for."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(50):
        port = secrets.randbelow(low - 10000) + 10000 if low > 10001 else 0
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free loopback port")


class BaresipProcess:
    """The subprocess side of ``BaresipEngine``: the state it uses is made in the engine."""

    # --- life -------------------------------------------------------------------------

    def _aor(self, user: str) -> str:
        return f"sip:{user}@{self.host}:{self.port}"

    def _write_config(self, ctrl_port: int) -> None:
        (self.dir / "rec").mkdir(exist_ok=True)
        (self.dir / "media").mkdir(exist_ok=True)
        lines = [
            "poll_method epoll",
            f"sip_listen {self.host}:{self.port}",
            "call_local_timeout 0",  # the parked calls ring for ever
            f"call_max_calls {self.max_calls}",
            f"module_path {self.module_path}",
            *(f"module {m}.so" for m in MODULES),
            *(f"module_app {m}.so" for m in APP_MODULES),
            f"ctrl_tcp_listen 127.0.0.1:{ctrl_port}",
            f"audio_source gst,file://{self.dir / 'media' / 'next.fifo'}",
            f"snd_path {self.dir / 'rec'}",
            f"rtp_ports {self.rtp_ports[0]}-{self.rtp_ports[1]}",
            "rtp_timeout 60",
            "audio_txmode thread",  # paced sending, not bursts as the source delivers
            "audio_level no",
        ]
        if not ipaddress.ip_address(self.host).is_unspecified:
            lines.append(f"net_interface {self.host}")
        (self.dir / "config").write_text("\n".join(lines) + "\n")
        accounts = [f"<{self._aor(n)}>;regint=0;answermode=manual" for n in self.numbers]
        accounts += [f"<{self._aor(f'park-{n}')}>;regint=0;answermode=manual" for n in self.numbers]
        (self.dir / "accounts").write_text("\n".join(accounts) + "\n")

    async def start(self, on_event: OnEvent) -> None:
        self._on_event = on_event
        if self._work_dir is not None:
            self._work_dir.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="baresip-", dir=self._work_dir))
        for attempt in range(1, STARTS + 1):
            ctrl_port = quiet_port()
            self._write_config(ctrl_port)
            await self._spawn_baresip()
            try:
                await self._ctrl.connect("127.0.0.1", ctrl_port, gave_up=self._ctrl_lost)
                break
            except OSError:
                # its control port taken after all, or it could not start: the log says which
                log.warning("baresip did not open its control socket (try %d)", attempt)
                await self._end_process()
                if attempt == STARTS:
                    raise
        await self._ctrl.batch([("statmode", "")])  # no status line on stdout
        for number in self.numbers:
            await self._park(self._aor(number))
        self._spawn(self._media_loop(), "baresip-media")
        self._spawn(self._watch(), "baresip-watch")
        self._spawn(self._keep_answering(), "baresip-health")

    async def _spawn_baresip(self) -> None:
        cmd = [self.binary, "-f", str(self.dir)]
        if shutil.which("stdbuf"):  # its log lines (digit methods) as they are written
            cmd = ["stdbuf", "-oL", *cmd]
        self._ctrl_failed = False
        self._proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._spawn(self._read_stdout(), "baresip-stdout")

    def _threads(self) -> str:
        """What each of baresip's threads is doing (from /proc: name, state, the kernel
        function it waits in, the system call it is in), for the log when it stops answering."""
        if self._proc is None:
            return ""
        return threads_of(self._proc.pid)

    def _ctrl_lost(self) -> bool:
        """Whether waiting for the control socket is pointless: baresip said it could not
        listen there, or it exited."""
        return self._ctrl_failed or (self._proc is not None and self._proc.returncode is not None)

    async def _end_process(self) -> None:
        """baresip's process group ended: asked first, killed after 5 s."""
        if self._proc is None or self._proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self._proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            await self._proc.wait()

    async def _park(self, line: str) -> None:
        """Dial the line's parking account and leave that call ringing, marked on hold."""
        loop = asyncio.get_running_loop()
        waiting: asyncio.Future[str] = loop.create_future()
        self._parked_waiting[line] = waiting
        park = line.replace("sip:", "sip:park-", 1)
        await self._ctrl.batch([("uafind", line), ("dial", park)])
        call_id = await asyncio.wait_for(waiting, 10)
        self._parked[line] = call_id
        await self._ctrl.batch([("uafind", line), ("callfind", call_id), ("hold", "")])

    async def stop(self) -> None:
        self._stopping = True
        live = [c.call_id for c in self.calls.values() if not c.ended]
        with contextlib.suppress(Exception):  # a stuck baresip is killed below
            await asyncio.wait_for(asyncio.gather(*(self.hangup(c) for c in live)), 5)
        for call in self.calls.values():
            if call.feeder is not None:
                call.feeder.close()  # a reader blocked on the pipe sees its end
        with contextlib.suppress(Exception):
            await self._ctrl.close()
        await self._end_process()
        for task in list(self._tasks):
            task.cancel()
        for call in list(self.calls.values()):
            if call.task is not None:
                call.task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _keep_answering(self) -> None:
        """baresip asked every HEALTH_SECONDS: one that answers nothing for STUCK_SECONDS is
        ended (baresip 1.0 can deadlock under many calls), so that, as for one that exited,
        every call's record is written, who waited is called back and the line starts anew."""
        proc = self._proc
        assert proc is not None
        while proc.returncode is None:
            await asyncio.sleep(HEALTH_SECONDS)
            try:  # its about box: an answer that changes nothing
                probe = self._ctrl.batch([("about", "")], within=STUCK_SECONDS)
                await asyncio.wait_for(probe, STUCK_SECONDS + 5)
            except TimeoutError:
                if self._stopping or proc.returncode is not None:
                    return
                self._stuck = True
                log.error("baresip answered nothing for %.0f s: it is ended", STUCK_SECONDS)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                return
            except ConnectionError:
                return  # it exited: the watch says so

    async def _watch(self) -> None:
        assert self._proc is not None
        await self._proc.wait()
        if self._stopping:
            return
        if self._stuck:
            log.error("baresip was stuck and is ended; every call is lost")
        else:
            log.error("baresip exited (%s); every call is lost", self._proc.returncode)
        ending = list(self.calls.values())
        for call in ending:
            call.error = True
            self._close(call, "baresip exited")
        # the IVR hears each call end (records it, calls back who waited) before the line
        # stops this engine, which would cancel the calls' deliveries
        delivering = [c.task for c in ending if c.task is not None]
        if delivering:
            await asyncio.wait(delivering, timeout=30)
        self._lost.set()

    async def wait_lost(self) -> None:
        await self._lost.wait()

    async def _read_stdout(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        pending = b""
        while data := await self._proc.stdout.read(65536):
            pending += data
            *lines, pending = re.split(rb"[\r\n]", pending)
            for raw in lines:
                line = raw.decode("utf-8", "replace").strip()
                if not line or "(bit/s)" in line:
                    continue
                if CTRL_TAKEN in line:
                    self._ctrl_failed = True
                match = DTMF_LOG.search(line)
                if match:
                    method = "rfc2833" if match[1] else "info"
                    self._dtmf.append((method, (match[1] or match[2]).upper()))
                    self._dtmf_seen.set()
                log.debug("baresip: %s", _redacted(line))

    async def _method(self, key: str) -> str:
        """How the digit came: the next matching log line (it may lag the event)."""
        deadline = time.monotonic() + 0.5
        while True:
            for i, (method, seen) in enumerate(self._dtmf):
                if seen == key.upper():
                    del self._dtmf[i]
                    return method
            if time.monotonic() > deadline:
                log.warning("no log line for digit %r; taken as RFC 2833", key)
                return "rfc2833"
            self._dtmf_seen.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._dtmf_seen.wait(), 0.05)


def threads_of(pid: int) -> str:
    """``name state wchan syscall`` per thread of process ``pid`` ("" when /proc cannot say)."""
    found = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        try:
            name = (task / "comm").read_text().strip()
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = (task / "wchan").read_text().strip() or "-"
            call = (task / "syscall").read_text().split()[0]
        except (OSError, IndexError):
            continue
        found.append(f"{name} {state} {wchan} {call}")
    return "threads: " + "; ".join(found) if found else ""
