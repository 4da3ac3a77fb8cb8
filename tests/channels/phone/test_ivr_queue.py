"""A caller waiting for an agent, driven by engine events alone (no audio): the queue entered,
the place and expected wait said at entry and again at the menu's interval over music on hold,
keys that leave the queue for a voicemail or a call back, a hang-up that abandons the call,
an agent taking the call (put through to their desk phone, or a call back from that agent when
they have none or the transfer is refused), and the call detail record each call leaves."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from hotline.channels.phone import texts
from hotline.channels.phone.engine import CallEnded, CallStarted, RecordingReady
from hotline.channels.phone.ivr import Caller
from hotline.channels.phone.menu import BUILT_IN
from hotline.channels.phone.waiting import BACK, CallDetail, Place
from tests.channels.phone.test_ivr import FakeDesk, FakeEngine, FakePrompts, Line

HOLD = "hold"
MENU = (
    BUILT_IN.read_text(encoding="utf-8")
    .replace("announce_seconds = 45", "announce_seconds = 10")
    .replace(
        'prompt.en = "All agents are busy. We have your request and will call you back as soon'
        ' as possible."\naction = "callback"',
        'prompt.en = "Please hold for an agent."\naction = "queue"\nqueue = "general"',
    )
)


class HoldEngine(FakeEngine):
    """Prompts end at once; the music on hold plays until stopped (it would loop)."""

    async def play(self, call_id: str, path: Path) -> None:
        if str(path) == HOLD:
            self.commands.append(("play", call_id, str(path)))
            return
        await super().play(call_id, path)


class HoldPrompts(FakePrompts):
    async def hold(self) -> Path:
        return Path(HOLD)


class QueueDesk(FakeDesk):
    def __init__(self, open_now: bool = True) -> None:
        super().__init__(open_now)
        self.items: dict[int, Place] = {}
        self.queued: list[tuple[str, str]] = []
        self.left: list[tuple[int, str, str]] = []
        self.taken: list[int] = []
        self.through: list[int] = []
        self.phones: dict[int, str] = {}  # agent -> desk phone
        self.records: list[CallDetail] = []
        self.back: list[tuple[int, int]] = []
        self.asked = 0

    async def enqueue(self, caller: Caller, queue: str) -> tuple[int, int]:
        self.queued.append((caller.number, queue))
        item = len(self.items) + 1
        self.items[item] = Place("waiting", None, 3, 150)
        return item, 100 + item

    async def place(self, item_id: int) -> Place | None:
        self.asked += 1
        return self.items.get(item_id)

    async def state(self, item_id: int) -> str | None:
        self.asked += 1
        return self.items[item_id].state if item_id in self.items else None

    async def leave(self, item_id: int, reason: str, caller: Caller) -> float | None:
        if self.items[item_id].state not in ("waiting", "offered"):
            return None
        self.items[item_id] = Place("done", None, 0, 0)
        self.left.append((item_id, reason, caller.number))
        return 12.5

    async def put_through(self, item_id: int) -> tuple[int, str] | None:
        agent = self.items[item_id].agent_id
        if agent is None or agent not in self.phones:
            return None
        self.through.append(item_id)
        return agent, self.phones[agent]

    async def answered(self, item_id: int, caller: Caller) -> int | None:
        self.items[item_id] = Place("done", None, 0, 0)
        self.taken.append(item_id)
        return 7

    async def returned(self, item_id: int, agent_id: int, lost: bool = False) -> bool:
        if self.items[item_id].state != "assigned":
            return False
        self.items[item_id] = Place("waiting", None, 1, 60)
        self.back.append((item_id, agent_id))
        return True

    async def record_call(self, detail: CallDetail) -> None:
        self.records = [r for r in self.records if r.call_id != detail.call_id] + [detail]


class QueueLine(Line):
    def __init__(self, tmp: Path, open_now: bool = True, check: float = 0.02) -> None:
        super().__init__(tmp, MENU, open_now)
        self.engine = HoldEngine()
        self.desk = QueueDesk(open_now)
        self.ivr = type(self.ivr)(
            self.engine, self.menu, HoldPrompts(), self.desk, say, tmp / "rec", check_seconds=check
        )
        self.engine.ivr = self.ivr

    async def to_queue(self, caller: str = "+8613800138000") -> None:
        await self.call(caller)
        await self.press("20")  # English, then "speak to an agent"

    async def taken_by_7(self) -> None:
        """Agent 7 takes the waiting call; the line sees it at its next check."""
        self.desk.items[1] = Place("assigned", 7, 1, 0)
        await asyncio.sleep(0.05)
        await self.settle()


def say(language: str, message: str) -> str:
    return f"{language}|{message}"


def announcement(position: int, minutes: str) -> str:
    return f"say/en/en|{texts.PLACE % {'position': position}} {minutes} en|{texts.QUEUE_KEYS}"


async def test_a_caller_enters_the_queue_and_hears_place_wait_and_music(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    await line.to_queue()
    assert line.desk.queued == [("+8613800138000", "general")]
    three_minutes = "en|" + texts.WAIT_MINUTES % {"minutes": 3}  # 150 s, rounded up
    recorded = f"say/en/en|{texts.RECORDED}"  # before an agent answers: on by default
    assert line.heard()[-4:] == ["node/en/agent", recorded, announcement(3, three_minutes), HOLD]
    assert not line.did("hangup")
    assert line.ivr.calls["c1"].mode == "queue"


async def test_a_site_that_does_not_record_turns_the_recording_notice_off(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    line.ivr.menu = line.ivr.menu.model_copy(update={"announce_recording": False})
    await line.to_queue()
    three_minutes = "en|" + texts.WAIT_MINUTES % {"minutes": 3}
    assert line.heard()[-3:] == ["node/en/agent", announcement(3, three_minutes), HOLD]


async def test_the_place_is_said_again_at_the_menus_interval(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    line.ivr.menu = line.ivr.menu.model_copy(update={"announce_seconds": 0.3})
    await line.to_queue()
    line.desk.items[1] = Place("waiting", None, 1, 40)  # the line moved on
    said = announcement(1, "en|" + texts.WAIT_A_MINUTE)
    await asyncio.sleep(0.2)
    await line.settle()
    assert said not in line.heard()  # not before the interval
    await asyncio.sleep(0.2)
    await line.settle()
    assert line.heard()[-2:] == [said, HOLD]  # the music stops, the place, the music again
    assert ("stop_playback", "c1") in line.engine.commands
    await asyncio.sleep(0.3)
    await line.settle()
    assert line.heard().count(said) == 2
    await line.ivr.on_event(CallEnded("c1", "hangup"))
    await line.settle()
    played = len(line.heard())
    await asyncio.sleep(0.4)  # a gone caller hears no more announcements
    await line.settle()
    assert len(line.heard()) == played


async def test_key_1_leaves_the_queue_for_a_voicemail(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    await line.to_queue()
    await line.press("5")  # not a choice here: the caller keeps their place
    assert line.desk.left == [] and line.heard()[-1] == HOLD
    await line.press("1")
    assert line.desk.left == [(1, "voicemail", "+8613800138000")]
    assert line.heard()[-2:] == ["node/en/complaint", "tone"]
    await line.ivr.on_event(RecordingReady("c1", tmp_path / "m.wav", 5.0, "digit"))
    await line.settle()
    assert len(line.desk.voicemails) == 1
    [record] = line.desk.records
    assert (record.left_reason, record.wait_seconds, record.hung_up_by) == (
        "voicemail",
        12.5,
        "line",
    )
    assert record.path == ["language", "main", "agent", "complaint"]


async def test_key_2_leaves_the_queue_for_a_call_back(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    await line.to_queue()
    await line.press("2")
    assert line.desk.left == [(1, "callback", "+8613800138000")]
    assert line.heard()[-1] == f"say/en/en|{texts.QUEUE_CALLBACK}"
    assert line.engine.commands[-1] == ("hangup", "c1")
    withheld = QueueLine(tmp_path)
    await withheld.to_queue(caller="")
    await withheld.press("2")  # no number to call: a message instead
    assert withheld.desk.left == [(1, "voicemail", "")]
    assert withheld.heard()[-3:] == [f"say/en/en|{texts.WITHHELD}", "node/en/complaint", "tone"]


async def test_a_caller_who_hangs_up_while_waiting_abandons_the_call(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    await line.to_queue()
    await line.ivr.on_event(CallEnded("c1", "hangup"))
    await line.settle()
    assert line.desk.left == [(1, "abandoned", "+8613800138000")]
    assert "c1" not in line.ivr.calls
    assert not line.did("hangup")  # the caller is gone: nothing to hang up
    [record] = line.desk.records
    assert (record.queue, record.item_id, record.case_id) == ("general", 1, 101)
    assert (record.left_reason, record.wait_seconds, record.hung_up_by) == (
        "abandoned",
        12.5,
        "caller",
    )
    assert record.queued_at is not None and record.ended_at is not None
    assert record.arrived_at <= record.queued_at <= record.ended_at
    asked = line.desk.asked
    await asyncio.sleep(0.1)
    assert line.desk.asked == asked  # no more checks for a gone caller


async def test_a_hang_up_while_an_agent_is_offered_the_call_withdraws_it(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    await line.to_queue()
    line.desk.items[1] = Place("offered", 7, 1, 0)  # an agent's screen shows the offer
    await asyncio.sleep(0.05)
    await line.settle()
    assert line.ivr.calls["c1"].mode == "queue"  # still waiting while the agent is offered it
    await line.ivr.on_event(CallEnded("c1", "hangup"))
    await line.settle()
    assert line.desk.left == [(1, "abandoned", "+8613800138000")]  # closed: offer withdrawn
    assert line.desk.records[0].left_reason == "abandoned"


async def test_an_agent_taking_the_call_calls_the_caller_back(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    await line.to_queue()
    await line.taken_by_7()
    assert line.desk.taken == [1]
    assert line.heard()[-1] == f"say/en/en|{texts.AGENT_CALLS_BACK}"
    assert line.engine.commands[-1] == ("hangup", "c1")
    [record] = line.desk.records
    assert (record.left_reason, record.agent_id, record.hung_up_by) == ("answered", 7, "line")


async def test_an_agent_with_a_desk_phone_has_the_call_put_through(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    line.desk.phones = {7: "sip:1007@10.0.0.7:5060"}
    await line.to_queue()
    await line.taken_by_7()
    assert (line.desk.through, line.desk.taken) == ([1], [])  # no call-back request
    # the music stops and the call goes at once: the caller hears their phone ring the agent's
    assert line.engine.commands[-2:] == [
        ("stop_playback", "c1"),
        ("transfer", "c1", "sip:1007@10.0.0.7:5060"),
    ]
    assert not line.did("hangup")  # the caller's side ends our leg once through
    await line.ivr.on_event(CallEnded("c1", "hangup"))
    await line.settle()
    [record] = line.desk.records
    assert (record.left_reason, record.agent_id, record.hung_up_by) == ("answered", 7, "transfer")
    assert record.put_through_to == "sip:1007@10.0.0.7:5060"


@pytest.mark.parametrize("refused", [False, True, None])
async def test_a_leg_that_ends_before_the_engine_answers_the_transfer_is_recorded_right(
    tmp_path: Path, refused: bool | None
) -> None:
    """Under load the caller's side took the referral and ended the line's leg before the
    engine said it had (the record said the caller hung up, with no agent's phone): the record
    waits for the engine's answer. A refusal with the caller gone, or an engine that never
    answered (``None``): the caller hung up, recorded all the same."""
    line = QueueLine(tmp_path)
    line.desk.phones = {7: "sip:1007@10.0.0.7:5060"}
    answer = asyncio.Event()
    plain = line.engine.transfer

    async def slow_transfer(call_id: str, target: str) -> bool:
        await line.ivr.on_event(CallEnded(call_id, "hangup"))  # the leg ends first
        assert not line.desk.records  # nothing written on a guess
        await answer.wait()
        if refused is None:
            raise TimeoutError("the engine did not answer")
        return await plain(call_id, target) and not refused

    line.engine.transfer = slow_transfer  # type: ignore[method-assign]
    await line.to_queue()
    taking = asyncio.ensure_future(line.taken_by_7())
    await asyncio.sleep(0.1)
    answer.set()
    with contextlib.suppress(TimeoutError):
        await taking
    await line.settle()
    [record] = line.desk.records
    if refused is not False:
        assert (record.hung_up_by, record.put_through_to) == ("caller", None)
    else:
        assert (record.hung_up_by, record.agent_id) == ("transfer", 7)
        assert record.put_through_to == "sip:1007@10.0.0.7:5060"


async def test_a_refused_transfer_becomes_the_agents_call_back(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    line.desk.phones = {7: "sip:1007@10.0.0.7:5060"}
    line.engine.refuse_transfer = True
    await line.to_queue()
    await line.taken_by_7()
    assert (line.desk.through, line.desk.taken) == ([1], [1])
    assert line.heard()[-1] == f"say/en/en|{texts.AGENT_CALLS_BACK}"
    assert line.engine.commands[-1] == ("hangup", "c1")
    [record] = line.desk.records
    assert (record.left_reason, record.hung_up_by, record.put_through_to) == (
        "answered",
        "line",
        None,
    )


async def test_outside_office_hours_the_closed_step_answers(tmp_path: Path) -> None:
    line = QueueLine(tmp_path)
    await line.call()
    line.desk.open_now = False  # the office closed while the caller was in the menu
    await line.press("20")
    assert line.desk.queued == []
    assert line.heard()[-2:] == ["node/en/closed", "tone"]


async def test_a_hang_up_as_the_call_enters_the_queue_or_as_an_agent_takes_it(
    tmp_path: Path,
) -> None:
    line = QueueLine(tmp_path)
    entering = asyncio.Event()
    enqueue = line.desk.enqueue

    async def slow_enqueue(caller: Caller, queue: str) -> tuple[int, int]:
        entering.set()
        await asyncio.sleep(0.05)  # the item is being made when the caller hangs up
        return await enqueue(caller, queue)

    line.desk.enqueue = slow_enqueue  # type: ignore[method-assign]
    await line.call()
    await line.press("2")
    task = asyncio.ensure_future(line.press("0"))
    await entering.wait()
    await line.ivr.on_event(CallEnded("c1", "hangup"))
    await task
    await asyncio.sleep(0.1)
    await line.settle()
    assert line.desk.left == [(1, "abandoned", "+8613800138000")]
    [record] = line.desk.records  # one record, with the queue and how it was left
    assert (record.item_id, record.left_reason, record.hung_up_by) == (1, "abandoned", "caller")

    other = QueueLine(tmp_path, check=5.0)  # the line has not yet seen the agent take it
    await other.to_queue()
    other.desk.items[1] = Place("assigned", 7, 1, 0)
    await other.ivr.on_event(CallEnded("c1", "hangup"))
    await other.settle()
    assert other.desk.left == [] and other.desk.taken == [1]  # the agent calls back
    [record] = other.desk.records
    assert (record.left_reason, record.agent_id) == ("answered", 7)


async def test_a_caller_whose_agent_did_not_answer_comes_back_and_waits_first(
    tmp_path: Path,
) -> None:
    line = QueueLine(tmp_path)
    line.desk.phones = {7: "sip:agent-7@127.0.0.1:5072;hl=back"}
    await line.to_queue()
    await line.taken_by_7()
    assert line.engine.commands[-1][0] == "transfer"
    # the softphone did not take it: the registrar sends the caller back to the line
    await line.ivr.on_event(CallStarted("c2", "+8613800138000", BACK))
    await line.settle()
    assert line.desk.back == [(1, 7)]
    sorry = f"say/en/en|{texts.AGENT_MISSED}"
    assert line.heard("c2")[:3] == [sorry, announcement(1, "en|" + texts.WAIT_A_MINUTE), HOLD]
    assert line.ivr.calls["c2"].mode == "queue"
    await line.ivr.on_event(CallEnded("c1", "hangup"))  # the first leg ends: no record of its own
    await line.settle()
    assert line.desk.records == []
    # a stranger calling the line's number for returns gets the menu, not someone's place
    await line.ivr.on_event(CallStarted("c3", "+8613900000000", BACK))
    await line.settle()
    assert line.heard("c3")[0].startswith("node/")
    # the agent takes it this time; the call keeps one record, marked as come back
    await line.taken_by_7()
    await line.ivr.on_event(CallEnded("c2", "hangup"))
    await line.settle()
    [record] = line.desk.records
    assert (record.call_id, record.left_reason, record.agent_id) == ("c1", "answered", 7)
    assert record.path[-1] == "returned" and record.hung_up_by == "transfer"
