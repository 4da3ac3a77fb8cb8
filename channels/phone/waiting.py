"""A caller waiting for an agent (a menu step with ``action = "queue"``): the IVR's part.

The call waits in the AXD queue as an item of medium ``voice`` (a call: it takes an agent
whole). The caller hears the step's prompt, their place in line and the expected wait, then
music on hold; after every ``announce_seconds`` of music the place and wait are said again. Key 1 leaves the
queue for a voicemail (the menu's fallback step), key 2 for a call back; hanging up abandons
the call (the desk makes a call-back request when the number is known and the site wants it).
An agent taking the call is seen by asking the desk every ``check_seconds``. When the agent has
a phone (their browser softphone when registered, else a desk phone), the caller is put through
to it at once (a blind transfer, SIP REFER: the
caller's side calls the agent's phone; the item stays the agent's until they finish it in the
console). Otherwise, or when the transfer is refused, the caller is told that this agent will
call them back, and the agent gets that call-back request (the desk's ``answered``). Outside
office hours (a menu with ``hours = "office"``) the menu's closed step is heard instead of a
queue with nobody in it."""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import texts

log = logging.getLogger("hotline.channels.phone")

if TYPE_CHECKING:
    from hotline.core.axd.transfers import Taken

    from .ivr import Call, Caller, Ivr
    from .menu import Node

LEAVE_FOR_VOICEMAIL, LEAVE_FOR_CALLBACK = "1", "2"
# The line's own number for callers coming back: a caller put through to an agent's softphone
# whose phone does not take the call (declined, no answer within the ring time, gone) is sent
# back here by the softphones' registrar (Kamailio), and waits again in their place.
BACK = "hotline-back"
# ... and for callers whose agent's browser went mid-call (the talk had begun: no missed offer)
LOST = "hotline-lost"
# how long a call put through may come back: its ring not taken (shorter), or the agent's
# browser gone mid-call (a long call)
BACK_SECONDS = 4 * 3600.0
# how often a waiting call asks whether an agent took it (one row by its key): part of the time
# from the agent's accept to the caller on the agent's phone (bench_calls: call_answer)
CHECK_SECONDS = 0.25
TRANSFER_SECONDS = 30.0  # our leg of a call put through ends by then, if the caller's has not


@dataclass(frozen=True)
class Place:
    """Where a waiting call stands: the queue item's state (waiting, offered, assigned,
    done), the agent it is offered or assigned to, its place in line, the expected wait."""

    state: str
    agent_id: int | None
    position: int
    expected_seconds: int


@dataclass
class CallDetail:
    """What the call detail record holds; the IVR fills it as the call goes."""

    call_id: str
    caller: str
    called: str
    arrived_at: datetime
    language: str = ""
    path: list[str] = field(default_factory=list)
    queue: str | None = None
    queued_at: datetime | None = None
    item_id: int | None = None
    case_id: int | None = None
    left_reason: str | None = None  # answered, abandoned, voicemail, callback
    agent_id: int | None = None
    wait_seconds: float | None = None
    ended_at: datetime | None = None
    hung_up_by: str = ""  # caller, line (the IVR ended it), transfer, fault (the engine failed)
    put_through_to: str | None = None  # the agent's softphone or desk phone
    leg: str = ""  # "transferred": the new call an agent's transfer made (CallRecord.leg)


class QueueDesk(Protocol):
    """What the waiting needs from the kernel."""

    async def enqueue(self, caller: Caller, queue: str) -> tuple[int, int]:
        """The call as an item in ``queue``: (queue item id, case id)."""

    async def place(self, item_id: int) -> Place | None:
        """The item's state and place in line (what an announcement says)."""

    async def state(self, item_id: int) -> str | None:
        """The item's state alone (asked every ``check_seconds``: one row by its key)."""

    async def leave(self, item_id: int, reason: str, caller: Caller) -> float | None:
        """The caller left the queue (``reason``: abandoned, voicemail, callback, line_lost):
        the item closes; a call back follows where asked or where the line cut the caller off
        (or, abandoned, where the site wants it).
        Returns the seconds waited, or None when an agent took the call first."""

    async def put_through(self, item_id: int) -> tuple[int, str] | None:
        """An agent took the call and has a desk phone: (the agent, the phone's SIP address);
        the call is theirs until they finish it. None: no desk phone."""

    async def answered(self, item_id: int, caller: Caller) -> int | None:
        """An agent took the call: it becomes their call-back request. Returns the agent."""

    async def returned(self, item_id: int, agent_id: int, lost: bool = False) -> bool:
        """The agent's phone did not take the call put through (or ``lost`` it mid-call): it
        waits again in its place, not offered to that agent again. False when it is no longer
        that agent's call."""

    async def record_call(self, detail: CallDetail) -> None: ...

    async def take_transfer(self, number: str) -> Taken | None:
        """A caller arrived on the transfer number: the transfer asked for them, taken once."""

    def outside_address(self, number: str) -> str | None:
        """Where an outside number is called (the site's trunk); None: no trunk."""


@dataclass
class Wait:
    item_id: int
    since: float  # the loop's clock
    announce: asyncio.TimerHandle | None = None
    check: asyncio.TimerHandle | None = None


@dataclass
class PutThrough:
    """A call put through to an agent's phone, remembered for ``BACK_SECONDS`` in case it
    comes back: its first leg (whose detail the call's record continues), the queue item, the
    agent, the seconds it had waited, and when (the loop's clock)."""

    call: Call
    item_id: int
    agent_id: int
    waited: float
    at: float


def now() -> datetime:
    return datetime.now(UTC)


async def refer(ivr: Ivr, call: Call, address: str) -> bool:
    """The caller's side is referred to ``address``; True once it took the referral (the call
    is then "transferred", its record naming ``address``). The caller's side may end our leg
    before the engine has said so (under load it did): the record waits for the answer, then
    says the call was transferred, or that the caller hung up."""
    before, call.mode = call.mode, "transferring"
    taken = False
    try:
        taken = await ivr.engine.transfer(call.call_id, address)
    finally:  # an engine that failed to answer leaves no call unrecorded either
        call.mode = "transferred" if taken else before
        if taken:
            call.detail.put_through_to = address
        if call.ended:
            await ivr._record_call(call, "transfer" if taken else "caller")
    return taken


class Waiting:
    def __init__(self, ivr: Ivr, desk: QueueDesk, check_seconds: float = CHECK_SECONDS) -> None:
        self.ivr, self.desk, self.check_seconds = ivr, desk, check_seconds
        self.waits: dict[str, Wait] = {}
        self.put: list[PutThrough] = []

    async def enter(self, call: Call, node: Node, prompt: list[Path]) -> None:
        ivr = self.ivr
        if ivr.menu.hours == "office" and not await ivr.desk.is_open():
            await ivr._enter(call, ivr.menu.closed)
            return
        assert node.queue is not None
        call.mode = "queue"
        call.detail.queue, call.detail.queued_at = node.queue, now()
        item_id, case_id = await self.desk.enqueue(ivr._caller(call), node.queue)
        call.detail.item_id, call.detail.case_id = item_id, case_id
        wait = self.waits[call.call_id] = Wait(item_id, asyncio.get_running_loop().time())
        if call.ended:  # hung up while the item was being made: the record is written here
            await self.gone(call)
            await ivr._record_call(call, "caller")
            return
        said = await self._standing(call, wait)
        if ivr.menu.announce_recording:  # before an agent answers, as the law asks
            said.insert(
                0, await ivr.prompts.speak(ivr.say(call.language, texts.RECORDED), call.language)
            )
        await ivr._play(call, [*prompt, *said], lambda: self._hold(call))
        self._schedule(call, wait)

    # --- while waiting ------------------------------------------------------------------

    async def _standing(self, call: Call, wait: Wait) -> list[Path]:
        place = await self.desk.place(wait.item_id)
        if place is None:
            return []
        minutes = math.ceil(place.expected_seconds / 60)
        if minutes <= 1:
            expected = self.ivr.say(call.language, texts.WAIT_A_MINUTE)
        else:
            expected = self.ivr.say(call.language, texts.WAIT_MINUTES) % {"minutes": minutes}
        sentence = self.ivr.say(call.language, texts.PLACE) % {"position": place.position}
        keys = self.ivr.say(call.language, texts.QUEUE_KEYS)
        return [await self.ivr.prompts.speak(f"{sentence} {expected} {keys}", call.language)]

    async def _hold(self, call: Call) -> None:
        """Music, looped; the next announcement comes after ``announce_seconds`` of it."""
        wait = self.waits.get(call.call_id)
        if call.mode != "queue" or call.ended or wait is None:
            return
        if wait.announce is None:
            wait.announce = asyncio.get_running_loop().call_later(
                self.ivr.menu.announce_seconds, lambda: self.ivr._spawn(self._announce(call, wait))
            )
        music = await self.ivr.prompts.hold()
        await self.ivr._play(call, [music], lambda: self._hold(call))

    def _schedule(self, call: Call, wait: Wait) -> None:
        wait.check = asyncio.get_running_loop().call_later(
            self.check_seconds, lambda: self.ivr._spawn(self._check(call, wait))
        )

    async def _announce(self, call: Call, wait: Wait) -> None:
        wait.announce = None
        if call.mode != "queue" or call.ended:
            return
        said = await self._standing(call, wait)
        if call.mode != "queue" or call.ended:
            return
        await self.ivr.engine.stop_playback(call.call_id)  # the music pauses
        await self.ivr._play(
            call, said or [await self.ivr.prompts.hold()], lambda: self._hold(call)
        )

    async def _check(self, call: Call, wait: Wait) -> None:
        if call.mode != "queue" or call.ended:
            return
        state = await self.desk.state(wait.item_id)
        if call.mode != "queue" or call.ended:
            return
        if state == "assigned":
            await self._answered(call, wait)
            return
        if state is None or state == "done":  # closed elsewhere: nothing to wait for
            self._stop(call)
            await self.ivr._finish(call, [await self.ivr._speak(call, texts.GOODBYE)])
            return
        wait.check = asyncio.get_running_loop().call_later(
            self.check_seconds, lambda: self.ivr._spawn(self._check(call, wait))
        )

    # --- leaving ------------------------------------------------------------------------

    async def digit(self, call: Call, digit: str) -> None:
        if digit not in (LEAVE_FOR_VOICEMAIL, LEAVE_FOR_CALLBACK):
            return  # the caller keeps their place
        wait = self.waits[call.call_id]
        reason = "callback" if digit == LEAVE_FOR_CALLBACK and call.number else "voicemail"
        waited = await self.desk.leave(wait.item_id, reason, self.ivr._caller(call))
        if waited is None:  # an agent took it first
            await self._check(call, wait)
            return
        self._stop(call, reason, waited)
        await self.ivr.engine.stop_playback(call.call_id)
        if reason == "callback":
            await self.ivr._finish(call, [await self.ivr._speak(call, texts.QUEUE_CALLBACK)])
        elif digit == LEAVE_FOR_CALLBACK:  # a withheld number cannot be called back
            said = [await self.ivr._speak(call, texts.WITHHELD)]
            await self.ivr._play(call, said, lambda: self.ivr._enter(call, self.ivr.menu.fallback))
        else:
            await self.ivr._enter(call, self.ivr.menu.fallback)

    async def gone(self, call: Call, *, lost: bool = False) -> None:
        """The caller hung up while waiting: an abandoned call; or the line failed under them
        (``lost``): called back when their number is known."""
        wait = self.waits.get(call.call_id)
        if wait is None:
            return
        reason = "line_lost" if lost else "abandoned"
        waited = await self.desk.leave(wait.item_id, reason, self.ivr._caller(call))
        if waited is None:  # an agent took it as the caller hung up: the agent calls back
            agent = await self.desk.answered(wait.item_id, self.ivr._caller(call))
            self._stop(call, "answered", asyncio.get_running_loop().time() - wait.since)
            call.detail.agent_id = agent
            return
        self._stop(call, reason, waited)

    async def _answered(self, call: Call, wait: Wait) -> None:
        through = await self.desk.put_through(wait.item_id)
        if through is not None:
            self._stop(call, "answered", asyncio.get_running_loop().time() - wait.since)
            call.detail.agent_id, phone = through
            await self.ivr.engine.stop_playback(call.call_id)
            await self._put_through(call, wait, phone)
            return
        await self._call_back(call, wait)

    async def _put_through(self, call: Call, wait: Wait, phone: str) -> None:
        """The caller's side is asked to call the agent's phone at once (a blind transfer:
        the caller hears their phone ring the agent's; no announcement first, which cost three
        seconds of the agent's time per call); our leg ends once it has (or after
        ``TRANSFER_SECONDS``). Refused: the agent calls back."""
        if call.ended:
            return
        if not await refer(self.ivr, call, phone):
            await self._call_back(call, wait)
            return
        loop = asyncio.get_running_loop()
        assert call.detail.agent_id is not None
        self.put.append(
            PutThrough(
                call, wait.item_id, call.detail.agent_id, call.detail.wait_seconds or 0, loop.time()
            )
        )
        loop.call_later(TRANSFER_SECONDS, lambda: self.ivr._spawn(self.ivr._hangup(call)))

    async def _call_back(self, call: Call, wait: Wait) -> None:
        agent = await self.desk.answered(wait.item_id, self.ivr._caller(call))
        self._stop(call, "answered", asyncio.get_running_loop().time() - wait.since)
        call.detail.agent_id = agent
        await self.ivr.engine.stop_playback(call.call_id)
        if call.number:
            await self.ivr._finish(call, [await self.ivr._speak(call, texts.AGENT_CALLS_BACK)])
        else:
            said = [await self.ivr._speak(call, texts.AGENT_BUSY_WITHHELD)]
            await self.ivr._play(call, said, lambda: self.ivr._enter(call, self.ivr.menu.fallback))

    def _stop(self, call: Call, reason: str | None = None, waited: float | None = None) -> None:
        wait = self.waits.pop(call.call_id, None)
        if call.mode == "queue":
            call.mode = "leaving"
        if wait is None:
            return
        for timer in (wait.announce, wait.check):
            if timer is not None:
                timer.cancel()
        if reason is not None:
            call.detail.left_reason = reason
            call.detail.wait_seconds = round(waited or 0.0, 1)

    # --- coming back --------------------------------------------------------------------

    def take_back(self, number: str) -> PutThrough | None:
        """The call put through from ``number`` (the latest, when one number has several:
        an earlier one has ended; withheld numbers match each other) that may come back now,
        forgotten once taken."""
        horizon = asyncio.get_running_loop().time() - BACK_SECONDS
        self.put = [p for p in self.put if p.at >= horizon]
        for found in reversed(self.put):
            if found.call.number == number:
                self.put.remove(found)
                return found
        return None

    async def came_back(self, call: Call) -> bool:
        """A call on the line's numbers for returns: the caller resumes their wait when they were
        put through lately; False (a stranger): the menu answers as on any number."""
        back = self.take_back(call.number)
        if back is None:
            return False
        await self.resume(call, back)
        return True

    async def resume(self, call: Call, back: PutThrough) -> None:
        """The caller is back from an agent's phone that did not take the call: the same call
        goes on (its record continues the first leg's), first in line again when the queue
        still has it, else the menu's fallback (a voicemail)."""
        first = back.call
        log.info("a call came back from agent %s's phone (item %s)", back.agent_id, back.item_id)
        call.language, call.path = first.language, [*first.path, "returned"]
        call.detail = first.detail
        # the first leg, still ending, writes no record of its own (already ended: skipped)
        first.detail = CallDetail(first.call_id, first.number, first.called, now(), ended_at=now())
        detail = call.detail
        detail.left_reason = detail.put_through_to = None
        detail.agent_id, detail.ended_at, detail.hung_up_by = None, None, ""
        sorry = await self.ivr._speak(call, texts.AGENT_MISSED)
        lost = call.called == LOST
        if not await self.desk.returned(back.item_id, back.agent_id, lost):
            await self.ivr._play(
                call, [sorry], lambda: self.ivr._enter(call, self.ivr.menu.fallback)
            )
            return
        call.mode = "queue"
        loop = asyncio.get_running_loop()
        wait = self.waits[call.call_id] = Wait(back.item_id, loop.time() - back.waited)
        said = await self._standing(call, wait)
        await self.ivr._play(call, [sorry, *said], lambda: self._hold(call))
        self._schedule(call, wait)
