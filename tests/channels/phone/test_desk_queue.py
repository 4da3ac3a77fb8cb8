"""The kernel's side of callers waiting for an agent, on a real database: the call is a queue
item of medium voice in the chosen queue, offered at once by the distribution plugin and taking
the agent whole; its place in line; a caller who hangs up while it is offered withdraws the
offer (the agent no longer has it) and, with a known number, gets a call-back request on the
same case; leaving by key is recorded as such; an agent taking the call gets its call back;
the call detail record is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.ivr import Caller
from hotline.channels.phone.waiting import CallDetail
from hotline.core.axd.state import accept, set_state
from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.people.passwords import hash_password
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState, Media, QueueState
from hotline.core.storage.models.axd import AgentPresence, CallRecord, QueueItem, QueueOffer
from hotline.core.storage.models.people import User

CAPACITY = {"voice": 1, "chat": 3, "callback": 1}


def caller(call_id: str, number: str = "+8613800138000") -> Caller:
    return Caller(call_id, number, "12345", "zh_CN", ("language", "main", "agent"))


async def an_agent(ctx: AppContext, name: str = "ann") -> int:
    async with ctx.db.transaction() as s:
        user = User(
            username=name, display_name=name, role="agent", password_hash=hash_password("x")
        )
        s.add(user)
    await set_state(
        ctx,
        user.id,
        AgentState.AVAILABLE,
        capacity=CAPACITY,
        skills={"general": 1},
        languages=["zh_CN", "en"],
    )
    return user.id


async def items(ctx: AppContext) -> list[QueueItem]:
    async with ctx.db.session() as s:
        return list(await s.scalars(select(QueueItem).order_by(QueueItem.id)))


async def test_a_waiting_call_is_offered_and_withdrawn_when_the_caller_hangs_up(
    ctx: AppContext,
) -> None:
    published: list[dict[str, object]] = []
    real = ctx.events.publish
    ctx.events.publish = lambda data, channels: (  # type: ignore[method-assign]
        published.append(data) if QUEUE_CHANNEL in channels else None,
        real(data, channels),
    )[1]
    ann = await an_agent(ctx)
    desk = KernelDesk(ctx)
    item_id, case_id = await desk.enqueue(caller("c1"), "general")
    [call] = await items(ctx)
    assert (call.id, call.case_id, call.media, call.skills) == (
        item_id,
        case_id,
        "voice",
        ["general"],
    )
    assert (call.state, call.agent_id) == (QueueState.OFFERED, ann)  # offered at once
    place = await desk.place(item_id)
    assert place is not None and (place.state, place.agent_id) == ("offered", ann)
    assert await desk.state(item_id) == "offered"

    waited = await desk.leave(item_id, "abandoned", caller("c1"))
    assert waited is not None and waited >= 0
    call, callback = await items(ctx)
    assert (call.state, call.outcome, call.agent_id) == (QueueState.DONE, "abandoned", ann)
    assert call.offered_at is None and call.done_at is not None
    assert not await accept(ctx, item_id, ann)  # the offer is gone: the agent cannot take it
    assert any(e.get("withdrawn") and e.get("agent_id") == ann for e in published)
    # a known number: a call-back request on the same case, in the same queue
    assert (callback.case_id, callback.media, callback.skills) == (case_id, "callback", ["general"])
    assert callback.state in (QueueState.WAITING, QueueState.OFFERED)
    assert await desk.leave(item_id, "abandoned", caller("c1")) is None  # once only
    assert await desk.state(item_id) == "done" and await desk.state(999) is None


async def test_no_call_back_for_a_withheld_number_or_when_the_site_says_no(
    ctx: AppContext,
) -> None:
    desk = KernelDesk(ctx)
    first, _ = await desk.enqueue(caller("c1", number=""), "general")
    await desk.leave(first, "abandoned", caller("c1", number=""))
    ctx.settings.phone_abandoned_callback = False
    second, _ = await desk.enqueue(caller("c2"), "general")
    await desk.leave(second, "abandoned", caller("c2"))
    third, _ = await desk.enqueue(caller("c3"), "general")
    await desk.leave(third, "callback", caller("c3"))  # asked for by key: always
    found = [(i.media, i.outcome) for i in await items(ctx)]
    assert found == [
        (Media.VOICE, "abandoned"),
        (Media.VOICE, "abandoned"),
        (Media.VOICE, "callback"),
        (Media.CALLBACK, None),
    ]


async def test_the_place_in_line_and_the_expected_wait(ctx: AppContext) -> None:
    desk = KernelDesk(ctx)
    # three callers (different numbers: a repeated one would be a priority citizen, served first)
    ids = [
        (await desk.enqueue(caller(f"c{n}", f"+861380013800{n}"), "general"))[0] for n in range(3)
    ]
    other, _ = await desk.enqueue(caller("x"), "water")  # another queue: not ahead
    places = [await desk.place(i) for i in ids]
    assert [p.position for p in places if p] == [1, 2, 3]
    assert [p.expected_seconds for p in places if p] == [60, 120, 180]  # no history yet
    again = await desk.place(other)
    assert again is not None and again.position == 1
    async with ctx.db.transaction() as s:  # earlier calls were answered after 30 s each
        for _ in range(2):
            s.add(
                QueueItem(
                    case_id=(await s.get(QueueItem, ids[0])).case_id,  # type: ignore[union-attr]
                    media="voice",
                    skills=["general"],
                    language="zh_CN",
                    state=QueueState.DONE,
                    waiting_since=datetime.now(UTC) - timedelta(minutes=5),
                    assigned_at=datetime.now(UTC) - timedelta(minutes=5, seconds=-30),
                )
            )
    third = await desk.place(ids[2])
    assert third is not None and third.expected_seconds == 90


async def test_an_agent_taking_the_call_gets_its_call_back(ctx: AppContext) -> None:
    ann = await an_agent(ctx)
    desk = KernelDesk(ctx)
    item_id, case_id = await desk.enqueue(caller("c1"), "general")
    assert await accept(ctx, item_id, ann)
    place = await desk.place(item_id)
    assert place is not None and place.state == "assigned"
    assert await desk.answered(item_id, caller("c1")) == ann
    call, callback = await items(ctx)
    assert (call.state, call.outcome) == (QueueState.DONE, "answered")
    assert (callback.case_id, callback.media, callback.state, callback.agent_id) == (
        case_id,
        "callback",
        QueueState.ASSIGNED,
        ann,
    )


async def test_the_call_detail_record(ctx: AppContext) -> None:
    desk = KernelDesk(ctx)
    item_id, case_id = await desk.enqueue(caller("c1"), "general")
    start = datetime.now(UTC)
    detail = CallDetail(
        "c1",
        "+8613800138000",
        "12345",
        start,
        "zh_CN",
        ["language", "main", "agent"],
        "general",
        start + timedelta(seconds=8),
        item_id,
        case_id,
        "abandoned",
        None,
        31.5,
        start + timedelta(seconds=40),
        "caller",
    )
    await desk.record_call(detail)
    async with ctx.db.session() as s:
        [row] = list(await s.scalars(select(CallRecord)))
    assert (row.call_id, row.caller, row.queue, row.queue_item_id, row.case_id) == (
        "c1",
        "+8613800138000",
        "general",
        item_id,
        case_id,
    )
    assert (row.left_reason, row.wait_seconds, row.hung_up_by) == ("abandoned", 31.5, "caller")
    assert row.menu_path == ["language", "main", "agent"]
    assert row.ended_at - row.arrived_at == timedelta(seconds=40)


async def test_a_call_the_agents_phone_did_not_take_waits_again_first_and_counts_as_missed(
    ctx: AppContext,
) -> None:
    ctx.settings.axd_missed_before_away = 1
    ann = await an_agent(ctx)
    desk = KernelDesk(ctx)
    item_id, _ = await desk.enqueue(caller("c1"), "general")
    other, _ = await desk.enqueue(caller("c2", "+8613800138002"), "general")
    [before] = [i for i in await items(ctx) if i.id == item_id]
    assert (before.state, before.agent_id) == (QueueState.OFFERED, ann)
    assert await accept(ctx, item_id, ann)
    assert await desk.put_through(item_id) is None  # no phone yet: the call is still assigned
    async with ctx.db.transaction() as s:
        (await s.get(AgentPresence, ann)).desk_phone = "sip:ann@192.0.2.1"  # type: ignore[union-attr]
    assert await desk.put_through(item_id) == (ann, "sip:ann@192.0.2.1")

    assert await desk.returned(item_id, ann)
    [call] = [i for i in await items(ctx) if i.id == item_id]
    assert (call.state, call.agent_id, call.outcome, call.assigned_at) == (
        QueueState.WAITING,
        None,
        None,
        None,
    )
    assert call.waiting_since == before.waiting_since and str(ann) in call.declined_by
    place = await desk.place(item_id)
    assert place is not None and place.position == 1  # ahead of the call that came later
    async with ctx.db.session() as s:
        offers = [(o.agent_id, o.outcome) for o in await s.scalars(select(QueueOffer))]
        presence = await s.get(AgentPresence, ann)
    assert offers == [(ann, "missed")]
    assert presence is not None and presence.missed_offers == 1
    assert (presence.state, presence.away_reason) == (AgentState.AWAY, "missed_offers")
    assert not await desk.returned(item_id, ann)  # no longer ann's call
    assert await desk.state(other) == "waiting"


async def test_a_call_that_came_back_keeps_one_record(ctx: AppContext) -> None:
    start = datetime.now(UTC)
    first = CallDetail("c1", "+8613800138000", "12345", start, left_reason="answered")
    first.ended_at, first.hung_up_by = start + timedelta(seconds=20), "transfer"
    desk = KernelDesk(ctx)
    await desk.record_call(first)
    first.left_reason, first.hung_up_by = "abandoned", "caller"
    first.ended_at = start + timedelta(seconds=90)
    await desk.record_call(first)
    async with ctx.db.session() as s:
        [row] = list(await s.scalars(select(CallRecord)))
    assert (row.left_reason, row.hung_up_by) == ("abandoned", "caller")
