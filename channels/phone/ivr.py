"""The IVR: a pure-Python state machine per call, driven by the engine's events only.

It reads the menu document (``menu``), asks ``prompts`` for the audio of what it says, and
hands what the caller decided to the ``Desk`` (voicemail and call-back cases through intake,
status answers from the public timeline). Every wait has a timeout; a wrong key or silence is
repeated ``retries`` times, then the caller reaches the fallback (a voicemail). A caller may
press a key while a prompt plays (the prompt stops). Hanging up at any point ends the call's
state; a voicemail already spoken is kept even when the caller hangs up instead of pressing #.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import texts, transfers
from .engine import CallEnded, CallEvent, CallStarted, Digit, Engine, PlaybackDone, RecordingReady
from .menu import Menu, Node
from .prompts import Prompts
from .transfers import TRANSFER
from .waiting import BACK, LOST, CallDetail, QueueDesk, Waiting, now

log = logging.getLogger("hotline.channels.phone")
MIN_RECORDING_SECONDS = 0.7  # shorter is a tone, a breath or a hang-up: no message
TRACKING_DIGITS = 13


@dataclass(frozen=True)
class Caller:
    call_id: str
    number: str  # "" when withheld
    called: str
    language: str
    path: tuple[str, ...]  # the nodes the caller went through, for the agent


class Desk(QueueDesk, Protocol):
    """What the line does with what callers decide (the kernel, in the channel plugin)."""

    async def is_open(self) -> bool: ...

    async def voicemail(
        self, caller: Caller, kind: str, recording: Path, seconds: float
    ) -> tuple[str, str]:
        """A case from the recording: its tracking number and lookup code."""

    async def callback(self, caller: Caller) -> str:
        """A call-back request in the queue: its tracking number."""

    async def status(self, number: str, code: str, caller: Caller) -> str | None:
        """What to say about case ``number`` (None: no such case with that code)."""


Say = Callable[[str, str], str]  # (language, message id) -> the sentence in that language


@dataclass
class Call:
    call_id: str
    number: str
    called: str
    language: str = ""  # the menu's first language until the caller chooses
    node: str = ""
    mode: str = "menu"  # menu, number, code, recording, saying, ended
    tries: int = 0
    digits: str = ""
    tracking: str = ""
    queue: list[Path] = field(default_factory=list)
    then: Callable[[], Awaitable[None]] | None = None
    timer: asyncio.TimerHandle | None = None
    path: list[str] = field(default_factory=list)
    ended: bool = False
    recording: Path | None = None
    kind: str = "complaint"
    detail: CallDetail = field(init=False)  # the call detail record, written at the end

    def __post_init__(self) -> None:
        self.detail = CallDetail(self.call_id, self.number, self.called, now())


class Ivr:
    def __init__(
        self,
        engine: Engine,
        menu: Menu,
        prompts: Prompts,
        desk: Desk,
        say: Say,
        recordings: Path,
        reload: Callable[[], Menu] | None = None,
        check_seconds: float | None = None,
    ) -> None:
        self.engine, self.menu, self.prompts, self.desk, self.say = (
            engine,
            menu,
            prompts,
            desk,
            say,
        )
        self.recordings = recordings
        self.reload = reload  # the menu as saved now, read at each new call
        self.calls: dict[str, Call] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.waiting = Waiting(self, desk, *([check_seconds] if check_seconds else []))

    # --- events -------------------------------------------------------------------------

    async def on_event(self, event: CallEvent) -> None:
        """The engine's callback. Never raises: one caller's trouble is not the line's."""
        try:
            await self._on_event(event)
        except Exception:
            log.exception("the IVR failed on an event", extra={"event": type(event).__name__})
            call = self.calls.get(event.call_id)
            if call is not None and not call.ended:
                await self.engine.hangup(call.call_id)

    async def _on_event(self, event: CallEvent) -> None:
        if isinstance(event, CallStarted):
            await self._start(event)
            return
        call = self.calls.get(event.call_id)
        if call is None:
            return
        if isinstance(event, Digit):
            await self._digit(call, event.digit)
        elif isinstance(event, PlaybackDone):
            await self._played(call)
        elif isinstance(event, RecordingReady):
            await self._recorded(call, event)
        elif isinstance(event, CallEnded):
            call.ended = True
            self._cancel_timer(call)
            lost = event.reason == "error"  # the engine failed under the call
            entering = call.mode == "queue" and call.call_id not in self.waiting.waits
            if call.mode == "queue" and not entering:  # (entering: the queue step records it)
                await self.waiting.gone(call, lost=lost)
            if not entering and call.mode != "transferring":  # (transferring: ``refer`` does)
                by = "transfer" if call.mode == "transferred" else "fault" if lost else "caller"
                await self._record_call(call, by)
            if call.mode != "recording":  # a recording in progress still comes, then we forget
                self.calls.pop(call.call_id, None)

    async def _start(self, event: CallStarted) -> None:
        if self.reload is not None:
            self.menu = self.reload()
        call = Call(event.call_id, event.caller, event.called, language=self.menu.languages[0])
        self.calls[call.call_id] = call
        await self.engine.answer(call.call_id)
        if call.called in (BACK, LOST) and await self.waiting.came_back(call):
            return
        if call.called == TRANSFER and await transfers.arrived(self, call):
            return
        if self.menu.hours == "office" and not await self.desk.is_open():
            await self._enter(call, self.menu.closed, both_languages=True)
        else:
            await self._enter(call, self.menu.start, both_languages=True)

    # --- playing ------------------------------------------------------------------------

    async def _play(
        self, call: Call, paths: list[Path], then: Callable[[], Awaitable[None]] | None
    ) -> None:
        self._cancel_timer(call)
        call.queue = list(paths[1:])
        call.then = then
        await self.engine.play(call.call_id, paths[0])

    async def _played(self, call: Call) -> None:
        if call.queue:
            await self.engine.play(call.call_id, call.queue.pop(0))
            return
        then, call.then = call.then, None
        if then is not None:
            await then()

    async def _interrupt(self, call: Call) -> None:
        """A key pressed while a prompt plays: the rest of it is not needed."""
        if call.queue or call.then is not None:
            call.queue, call.then = [], None
            await self.engine.stop_playback(call.call_id)

    async def _speak(self, call: Call, message: str, **values: str) -> Path:
        sentence = self.say(call.language, message)
        return await self.prompts.speak(sentence % values if values else sentence, call.language)

    # --- nodes --------------------------------------------------------------------------

    async def _enter(self, call: Call, name: str, *, both_languages: bool = False) -> None:
        node = self.menu.nodes[name]
        call.node, call.tries, call.digits, call.mode = name, 0, "", "menu"
        call.path.append(name)
        languages = self.menu.languages if both_languages else [call.language]
        prompt = [await self.prompts.node(name, lang, node.prompt[lang]) for lang in languages]
        if node.action == "menu":
            await self._play(call, prompt, lambda: self._wait(call))
        elif node.action == "voicemail":
            call.kind = node.kind
            await self._play(call, [*prompt, await self.prompts.tone()], lambda: self._record(call))
        elif node.action == "status":
            call.mode = "number"
            await self._play(call, prompt, lambda: self._wait(call))
        elif node.action == "callback":
            await self._callback(call, node, prompt)
        elif node.action == "queue":
            await self.waiting.enter(call, node, prompt)
        elif node.action == "say":
            assert node.next is not None
            target = node.next
            await self._play(call, prompt, lambda: self._enter(call, target))
        else:  # hangup
            await self._play(call, prompt, lambda: self._hangup(call))

    async def _wait(self, call: Call) -> None:
        """The prompt is over: the caller has ``timeout_seconds`` to press a key."""
        self._cancel_timer(call)
        loop = asyncio.get_running_loop()
        call.timer = loop.call_later(
            self.menu.timeout_seconds, lambda: self._spawn(self._timed_out(call))
        )

    async def _timed_out(self, call: Call) -> None:
        call.timer = None
        if not call.ended:
            await self._again(call)

    async def _again(self, call: Call, wrong: bool = False) -> None:
        """Silence or a wrong key: repeat the node, or after ``retries`` go to the fallback."""
        call.tries += 1
        call.digits = ""
        if call.tries > self.menu.retries:
            await self._enter(call, self.menu.fallback)
            return
        node = self.menu.nodes[call.node]
        prompt = [await self.prompts.node(call.node, call.language, node.prompt[call.language])]
        if call.mode == "code":
            prompt = [await self._speak(call, texts.ENTER_CODE)]
        if wrong:
            prompt.insert(0, await self._speak(call, texts.NOT_AN_OPTION))
        await self._play(call, prompt, lambda: self._wait(call))

    async def _digit(self, call: Call, digit: str) -> None:
        if call.mode == "queue":
            await self.waiting.digit(call, digit)
            return
        if call.mode == "recording":
            if digit == "#":
                await self.engine.stop_record(call.call_id)
            return
        if call.mode not in ("menu", "number", "code"):
            return
        await self._interrupt(call)
        self._cancel_timer(call)
        if call.mode == "menu":
            await self._choose(call, digit)
        else:
            await self._collect(call, digit)

    async def _choose(self, call: Call, digit: str) -> None:
        target = self.menu.nodes[call.node].options.get(digit)
        if target is None:
            await self._again(call, wrong=True)
            return
        language, _, name = target.rpartition(":")
        if language:
            call.language = language
        await self._enter(call, name)

    # --- case status by keypad ----------------------------------------------------------

    async def _collect(self, call: Call, digit: str) -> None:
        if digit != "#":
            if digit.isdigit():
                call.digits += digit
            await self._wait(call)
            return
        entered, call.digits = call.digits, ""
        if call.mode == "number":
            if len(entered) != TRACKING_DIGITS:
                await self._again(call, wrong=True)
                return
            call.tracking, call.mode = entered, "code"
            await self._play(
                call, [await self._speak(call, texts.ENTER_CODE)], lambda: self._wait(call)
            )
            return
        answer = await self.desk.status(call.tracking, entered, self._caller(call))
        if answer is None:
            call.mode = "number"
            await self._play(
                call,
                [await self._speak(call, texts.NO_MATCH)],
                lambda: self._again(call),
            )
            return
        spoken = await self.prompts.speak(answer, call.language)
        await self._play(
            call,
            [spoken],
            lambda: self._enter(call, "main") if "main" in self.menu.nodes else self._hangup(call),
        )

    # --- voicemail ----------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        call.mode = "recording"
        self.recordings.mkdir(parents=True, exist_ok=True)
        call.recording = self.recordings / f"{call.call_id}.wav"
        await self.engine.record(
            call.call_id,
            call.recording,
            max_seconds=self.menu.voicemail_max_seconds,
            silence_seconds=self.menu.silence_seconds,
        )

    async def _recorded(self, call: Call, event: RecordingReady) -> None:
        if call.mode != "recording":
            return
        call.mode = "saying"
        if event.seconds < MIN_RECORDING_SECONDS:
            event.path.unlink(missing_ok=True)
            await self._finish(call, [await self._speak(call, texts.NO_MESSAGE)])
            return
        number, code = await self.desk.voicemail(
            self._caller(call), call.kind, event.path, event.seconds
        )
        spaced = " ".join(number)
        await self._finish(
            call, [await self._speak(call, texts.RECEIVED, number=spaced, code=" ".join(code))]
        )

    # --- call back ----------------------------------------------------------------------

    async def _callback(self, call: Call, node: Node, prompt: list[Path]) -> None:
        if not call.number:
            await self._play(
                call,
                [await self._speak(call, texts.WITHHELD)],
                lambda: self._enter(call, self.menu.fallback),
            )
            return
        await self.desk.callback(self._caller(call))
        await self._finish(call, [*prompt, await self._speak(call, texts.GOODBYE)])

    # --- ending -------------------------------------------------------------------------

    async def _finish(self, call: Call, paths: list[Path]) -> None:
        if call.ended:
            self.calls.pop(call.call_id, None)
            return
        await self._play(call, paths, lambda: self._hangup(call))

    async def _hangup(self, call: Call) -> None:
        call.mode = "ended"
        self.calls.pop(call.call_id, None)
        if not call.ended:
            await self._record_call(call, "line")
            await self.engine.hangup(call.call_id)

    async def _record_call(self, call: Call, by: str) -> None:
        """The call detail record, once per call (a recording in progress may end it later)."""
        detail = call.detail
        if detail.ended_at is not None:
            return
        detail.ended_at, detail.hung_up_by = now(), by
        detail.language, detail.path = call.language, list(call.path)
        try:
            await self.desk.record_call(detail)
        except Exception:
            log.exception("the call detail record was not written")

    # --- helpers ------------------------------------------------------------------------

    def _caller(self, call: Call) -> Caller:
        return Caller(call.call_id, call.number, call.called, call.language, tuple(call.path))

    def _cancel_timer(self, call: Call) -> None:
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("the IVR failed on a timeout")

        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
