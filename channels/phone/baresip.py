"""The built-in engine: Debian's baresip (1.0.0) as a subprocess, driven over ctrl_tcp.

baresip runs with a throw-away config directory and no registrar: it answers calls sent
straight to its SIP listen address for one of the ``numbers`` (the request-URI user; one
baresip account per hotline line). Only the G.711 codecs are loaded, so every call is
PCMU or PCMA at 8 kHz. What baresip 1.0.0 does not do for a server with many calls is done
around it (found by experiment; see ``baresip_media`` for the audio):

* ``accept`` answers the *current* call and puts the *previous* one on hold (a re-INVITE to
  a caller we are talking to). So each line has a *parked* call: an outgoing call to a
  second account of ours that never answers, marked on hold. Every ``accept`` is sent as
  one batch ``callfind parked; hold; callfind <call>; accept``: the previous call is the
  parked one, already on hold, and nobody hears a thing. baresip "resumes" the parked call
  whenever a call ends; the next batch holds it again (a call that never answered sends no
  re-INVITE either way).
* ``hangup`` and ``transfer`` act on the current call too: ``callfind parked`` comes first,
  so a call that went away in between leaves the parked call current, never another caller.
* Digits: ``CALL_DTMF_START`` events do not say how the digit came; baresip's log line does
  (``received event`` for RFC 2833, ``call: received DTMF`` for SIP INFO), read from its
  stdout in the same order as the events.
* Each call's audio source and its ``sndfile`` dumps are made inside ``accept``; the engine
  answers one call at a time, so the pipe gstreamer opens and the dump files that appear
  belong to the call being answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .baresip_ctrl import Ctrl, Message
from .baresip_media import Feeder, PromptCache, Recorder, data_offset
from .baresip_process import BaresipProcess
from .engine import CallEnded, CallEvent, CallStarted, Digit, OnEvent, PlaybackDone, RecordingReady

log = logging.getLogger("hotline.channels.phone.baresip")

TICK = 0.02


ID_SIZE = 64  # CallRecord.call_id
WITHHELD = {"", "anonymous", "unknown", "restricted", "private"}


def _user(uri: str) -> str:
    """The user part of a SIP URI, as text the hotline can store: a character that is not
    printable (a byte that was not UTF-8, a control) becomes U+FFFD."""
    match = re.match(r"^(?:sips?|tel):([^@;>]*)", uri or "")
    return "".join(c if c.isprintable() else "\ufffd" for c in match[1]) if match else ""


def line_id(ref: str) -> str:
    """The hotline's name for the call baresip names ``ref`` (its SIP Call-ID, which a caller
    chooses): ``ref`` itself when it is printable and fits the call's record (64), else a
    digest of it, so that no two calls share a record and nothing unstorable is stored."""
    if len(ref) <= ID_SIZE and ref.isprintable():
        return ref
    raw = ref.encode("utf-8", "surrogateescape")
    return "sip-" + hashlib.sha256(raw).hexdigest()[: ID_SIZE - 4]


@dataclass
class _Call:
    call_id: str  # the hotline's (line_id)
    ref: str  # baresip's, for its commands
    line: str  # the account's AOR
    caller: str
    called: str
    events: asyncio.Queue[CallEvent | None] = field(default_factory=asyncio.Queue)
    feeder: Feeder | None = None
    recorder: Recorder | None = None
    dec_path: Path | None = None
    enc_path: Path | None = None
    hung_up_locally: bool = False
    error: bool = False
    ended: bool = False
    task: asyncio.Task[None] | None = None


class BaresipEngine(BaresipProcess):
    """``Engine`` over a baresip subprocess; see the module docstring for why it is shaped so."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5070,
        *,
        numbers: Sequence[str] = ("12345",),
        rtp_ports: tuple[int, int] = (20000, 29999),
        max_calls: int = 200,
        binary: str = "baresip",
        module_path: Path = Path("/usr/lib/baresip/modules"),
        work_dir: Path | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.numbers = list(numbers)
        self.rtp_ports, self.max_calls = rtp_ports, max_calls
        self.binary, self.module_path = binary, module_path
        self._work_dir = work_dir
        self.dir = Path()
        self.calls: dict[str, _Call] = {}
        self.prompts = PromptCache()
        self._on_event: OnEvent | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._ctrl_failed = False  # baresip said its control port was taken
        self._ctrl = Ctrl(self._event, on_stall=self._threads)
        self._answer_lock = asyncio.Lock()
        self._parked: dict[str, str] = {}  # line AOR -> call id of its parked call
        self._parked_waiting: dict[str, asyncio.Future[str]] = {}
        self._dtmf: deque[tuple[str, str]] = deque(maxlen=256)
        self._dtmf_seen = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._lost = asyncio.Event()  # baresip exited on its own
        self._stuck = False  # baresip answered nothing for STUCK_SECONDS and was ended
        self._seq = 0

    # --- events from baresip -----------------------------------------------------------

    def _event(self, msg: Message) -> None:
        kind, ref, line = (
            msg.get("type"),
            str(msg.get("id", "")),
            str(msg.get("accountaor", "")),
        )
        call_id = line_id(ref)
        if msg.get("direction") == "outgoing":  # our parked calls
            waiting = self._parked_waiting.get(line)
            if waiting is not None and not waiting.done() and ref:
                waiting.set_result(ref)
            if kind == "CALL_CLOSED" and self._parked.get(line) == ref and not self._stopping:
                log.warning("the parked call of %s closed; parking again", line)
                self._spawn(self._park(line), "baresip-park")
            return
        if _user(line).startswith("park-"):
            return
        call = self.calls.get(call_id)
        if kind == "CALL_INCOMING":
            called = _user(line)
            caller = _user(str(msg.get("peeruri", "")))
            if caller.lower() in WITHHELD:
                caller = ""
            call = _Call(call_id, ref, line, caller, called)
            self.calls[call_id] = call
            call.task = asyncio.ensure_future(self._deliver(call))
            call.events.put_nowait(CallStarted(call_id, caller, called))
        elif call is None:
            return
        elif kind == "CALL_DTMF_START":
            key = str(msg.get("param", ""))[:1]
            if key:
                self._spawn(self._digit(call, key), "baresip-digit")
        elif kind == "AUDIO_ERROR":
            log.warning("audio error on %s: %s", call_id, msg.get("param"))
            call.error = True
        elif kind == "CALL_CLOSED":
            self._close(call, str(msg.get("param", "")))

    async def _digit(self, call: _Call, key: str) -> None:
        method = await self._method(key)
        if call.ended:
            return
        call.events.put_nowait(Digit(call.call_id, key, method))
        if call.recorder is not None:
            self._end_recording(call, "digit")

    def _close(self, call: _Call, reason: str) -> None:
        if call.ended:
            return
        call.ended = True
        if call.recorder is not None:
            self._end_recording(call, "hangup")
        if call.feeder is not None:
            call.feeder.close()
        why = "local" if call.hung_up_locally else "error" if call.error else "hangup"
        log.info("call %s ended (%s: %s)", call.call_id, why, reason)
        call.events.put_nowait(CallEnded(call.call_id, why))
        call.events.put_nowait(None)

    async def _deliver(self, call: _Call) -> None:
        """One task per call: its events in order, calls in parallel."""
        assert self._on_event is not None
        try:
            while (event := await call.events.get()) is not None:
                try:
                    await self._on_event(event)
                except Exception:
                    log.exception("on_event failed for %s", type(event).__name__)
        finally:
            self.calls.pop(call.call_id, None)
            for path in (call.dec_path, call.enc_path):
                if path is not None:
                    path.unlink(missing_ok=True)

    # --- media clock --------------------------------------------------------------------

    async def _media_loop(self) -> None:
        n = 0
        while True:
            await asyncio.sleep(TICK)
            now = time.monotonic()
            n += 1
            for call in list(self.calls.values()):
                if call.ended:
                    continue
                if call.feeder is not None:
                    done = call.feeder.tick(now)
                    if done is not None:
                        call.events.put_nowait(PlaybackDone(call.call_id, done.path))
                if call.recorder is not None and n % 5 == 0:
                    ended_by = call.recorder.poll(now)
                    if ended_by is not None:
                        self._end_recording(call, ended_by)

    def _end_recording(self, call: _Call, ended_by: str) -> None:
        recorder, call.recorder = call.recorder, None
        if recorder is None:
            return
        try:
            seconds = recorder.finish(ended_by)
        except Exception:
            log.exception("could not write the recording %s", recorder.path)
            return
        call.events.put_nowait(RecordingReady(call.call_id, recorder.path, seconds, ended_by))

    # --- commands ---------------------------------------------------------------------

    def _live(self, call_id: str) -> _Call | None:
        call = self.calls.get(call_id)
        if call is None or call.ended:
            log.info("call %s is gone", call_id)
            return None
        return call

    async def _on_call(self, call: _Call, *commands: tuple[str, str]) -> list[Message]:
        """Run ``commands`` on ``call``: the parked call first, so that a call gone in the
        meantime leaves the parked one current (never another caller)."""
        parked = self._parked[call.line]
        head = [("uafind", call.line), ("callfind", parked), ("callfind", call.ref)]
        replies = await self._ctrl.batch([*head, *commands])
        if "not found" in str(replies[2].get("data", "")):
            log.info("call %s was gone for %s", call.call_id, commands[0][0])
        return replies[3:]

    async def answer(self, call_id: str) -> None:
        call = self._live(call_id)
        if call is None or call.feeder is not None:
            return
        fifo = self.dir / "media" / "next.fifo"
        rec = self.dir / "rec"
        async with self._answer_lock:
            os.mkfifo(fifo)
            try:
                parked = self._parked[call.line]
                await self._ctrl.batch(
                    [
                        ("uafind", call.line),
                        ("callfind", parked),
                        ("hold", ""),
                        ("callfind", call.ref),
                        ("accept", ""),
                    ]
                )
                for dump in rec.glob("dump-*.wav"):  # made by this accept, named by the second
                    kind = "dec" if dump.name.endswith("-dec.wav") else "enc"
                    self._seq += 1
                    target = rec / f"{self._seq}-{kind}.wav"
                    dump.rename(target)
                    if kind == "dec":
                        call.dec_path = target
                    else:
                        call.enc_path = target
                fd = await self._open_pipe(fifo)
                if fd is None:
                    log.warning("no audio source opened for %s", call_id)
                    return
                feeder = Feeder(fd)
                if not await feeder.prime():
                    log.warning("gstreamer did not read the audio of %s", call_id)
                feeder.enc_path = call.enc_path
                if call.enc_path is not None:
                    feeder.enc_offset = data_offset(call.enc_path)
                call.feeder = feeder
                if call.ended:
                    feeder.close()
            finally:
                fifo.unlink(missing_ok=True)

    async def _open_pipe(self, fifo: Path, within: float = 5.0) -> int | None:
        deadline = time.monotonic() + within
        while True:
            try:
                return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != 6 or time.monotonic() > deadline:  # ENXIO: no reader yet
                    return None
            await asyncio.sleep(0.002)

    async def play(self, call_id: str, path: Path) -> None:
        call = self._live(call_id)
        if call is None:
            return
        if call.feeder is None:
            log.warning("play before answer on %s", call_id)
            return
        samples = await asyncio.to_thread(self.prompts.load, Path(path))
        call.feeder.play(Path(path), samples)

    async def stop_playback(self, call_id: str) -> None:
        call = self._live(call_id)
        if call is not None and call.feeder is not None:
            call.feeder.stop()

    async def record(
        self, call_id: str, path: Path, *, max_seconds: float, silence_seconds: float
    ) -> None:
        call = self._live(call_id)
        if call is None:
            return
        if call.recorder is not None:
            self._end_recording(call, "stopped")
        call.recorder = Recorder.begin(Path(path), call.dec_path, max_seconds, silence_seconds)

    async def stop_record(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is not None and call.recorder is not None:
            self._end_recording(call, "stopped")

    async def transfer(self, call_id: str, target: str) -> bool:
        call = self._live(call_id)
        if call is None:
            return False
        if not target.startswith(("sip:", "sips:", "tel:")):
            target = f"sip:{target}@{self.host}:{self.port}"
        replies = await self._on_call(call, ("transfer", target))
        if not replies[0].get("ok"):
            log.warning("transfer of %s failed: %s", call_id, replies[0].get("data"))
            return False
        return True

    async def hangup(self, call_id: str) -> None:
        call = self._live(call_id)
        if call is None:
            return
        call.hung_up_locally = True
        await self._on_call(call, ("hangup", ""))
