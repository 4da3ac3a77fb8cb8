"""The kernel's side of an agent's blind transfer, on SQLite and PostgreSQL: what may be asked
(only the agent's own call in progress, to a queue that exists, an agent available now, an
outside number when a trunk is set), and what the line's taking does: to a queue the call
waits there first in line and is not offered back to the agent who moved it; to an agent it is
theirs; each transfer is taken once, by the caller's number, within two minutes; the agent who
transferred wraps up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.waiting import CallDetail
from hotline.core.axd import consultations, transfers
from hotline.core.axd.state import move, offer, set_state
from hotline.core.axd.transfers import TransferRefused
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind, AgentState, QueueState
from hotline.core.storage.models.axd import (
    AgentPresence,
    CallTransfer,
    QueueItem,
    SkillGroup,
)
from tests.channels.phone.test_desk_queue import an_agent, caller
from tests.conftest import spans_of


async def a_call_with(ctx: AppContext, agent: int, number: str = "+8613800138000") -> int:
    """A caller waiting in 'general', taken by ``agent`` and put through (its record)."""
    desk = KernelDesk(ctx)
    item_id, case_id = await desk.enqueue(caller(f"c-{number}", number), "general")
    assert await move(ctx, item_id, agent)
    arrived = datetime.now(UTC) - timedelta(seconds=60)
    await desk.record_call(
        CallDetail(
            f"c-{number}",
            number,
            "12345",
            arrived,
            item_id=item_id,
            case_id=case_id,
            agent_id=agent,
            left_reason="answered",
            ended_at=arrived + timedelta(seconds=30),
            hung_up_by="transfer",
        )
    )
    return item_id


async def test_only_the_agents_own_call_goes_and_only_where_it_can(ctx: AppContext) -> None:
    async with ctx.db.transaction() as s:
        s.add(SkillGroup(code="water", name_zh="供水", name_en="Water supply"))
    ann, bob = await an_agent(ctx, "ann"), await an_agent(ctx, "bob")
    with pytest.raises(TransferRefused, match="no call in progress"):
        await transfers.ask(ctx, ann, "queue", "water")
    await set_state(ctx, bob, AgentState.AWAY)
    await a_call_with(ctx, ann)
    refused = {
        ("queue", "nowhere"): "no such queue",
        ("agent", str(ann)): "not another agent",
        ("agent", "999999"): "not another agent",
        ("agent", str(bob)): "not available now",
        ("number", "110"): "No trunk",
        ("fax", "x"): "Choose where",
    }
    for (kind, target), why in refused.items():
        with pytest.raises(TransferRefused, match=why):
            await transfers.ask(ctx, ann, kind, target)
    ctx.settings = ctx.settings.model_copy(update={"phone_trunk": "10.0.0.9:5060"})
    with pytest.raises(TransferRefused, match="not a telephone number"):
        await transfers.ask(ctx, ann, "number", "call me")
    assert await transfers.ask(ctx, ann, "number", "0571-8888 1234")
    with pytest.raises(TransferRefused, match="no call in progress"):
        await transfers.ask(ctx, bob, "queue", "water")  # bob has no call
    async with ctx.db.session() as s:
        [asked] = await s.scalars(select(CallTransfer))
    assert (asked.kind, asked.target, asked.taken_at) == ("number", "057188881234", None)


async def test_to_a_queue_the_call_waits_there_first_and_not_for_the_same_agent(
    ctx: AppContext,
) -> None:
    async with ctx.db.transaction() as s:
        s.add(SkillGroup(code="water", name_zh="供水", name_en="Water supply"))
    ctx.settings = ctx.settings.model_copy(update={"axd_wrap_up_seconds": 30})
    ann = await an_agent(ctx, "ann")
    item_id = await a_call_with(ctx, ann)
    await transfers.ask(ctx, ann, "queue", "water")
    assert await KernelDesk(ctx).take_transfer("+8613900000000") is None  # another caller
    taken = await KernelDesk(ctx).take_transfer("+8613800138000")
    assert taken is not None and (taken.item_id, taken.kind, taken.target) == (
        item_id,
        "queue",
        "water",
    )
    assert await KernelDesk(ctx).take_transfer("+8613800138000") is None  # taken once
    async with ctx.db.session() as s:
        item = await s.get(QueueItem, item_id)
        presence = await s.get(AgentPresence, ann)
    assert item is not None and (item.state, item.agent_id, item.skills) in (
        (QueueState.WAITING, None, ["water"]),
    )
    assert str(ann) in item.declined_by  # not offered back to the agent who moved it
    assert presence is not None and presence.state == AgentState.WRAP_UP


async def test_to_an_agent_the_call_is_theirs_and_a_late_caller_finds_nothing(
    ctx: AppContext,
) -> None:
    ann, bob = await an_agent(ctx, "ann"), await an_agent(ctx, "bob")
    item_id = await a_call_with(ctx, ann, number="")  # a withheld number matches withheld
    await transfers.ask(ctx, ann, "agent", str(bob))
    taken = await transfers.take(ctx, "")
    assert taken is not None and taken.kind == "agent"
    async with ctx.db.session() as s:
        item = await s.get(QueueItem, item_id)
    assert item is not None and (item.state, item.agent_id) == (QueueState.ASSIGNED, bob)

    await set_state(ctx, ann, AgentState.AVAILABLE)  # back from wrapping up
    late = await an_agent(ctx, "cy")
    other = await a_call_with(ctx, late, number="+8613700000000")
    await transfers.ask(ctx, late, "agent", str(ann))
    async with ctx.db.transaction() as s:  # the caller never came: three minutes ago
        await s.execute(
            update(CallTransfer)
            .where(CallTransfer.item_id == other)
            .values(asked_at=datetime.now(UTC) - timedelta(minutes=3))
        )
    assert await transfers.take(ctx, "+8613700000000") is None


async def test_an_agent_on_a_call_is_neither_given_a_transfer_nor_consulted(
    ctx: AppContext,
) -> None:
    """An agent a call is with (or ringing for) is not offered as a target: a call handed to
    them would ring beside the one they are on."""
    ann, bob = await an_agent(ctx, "ann"), await an_agent(ctx, "bob")
    await a_call_with(ctx, ann)
    await a_call_with(ctx, bob, number="+8613900000000")
    with pytest.raises(TransferRefused, match="on a call"):
        await transfers.ask(ctx, ann, "agent", str(bob))
    with pytest.raises(TransferRefused, match="on a call"):
        await transfers.consult(ctx, Actor(ActorKind.STAFF, ann), str(bob))
    async with ctx.db.session() as s:
        assert list(await s.scalars(transfers.on_calls().order_by(QueueItem.agent_id))) == [
            ann,
            bob,
        ]
        presence = await s.get(AgentPresence, bob)
    assert presence is not None and presence.state == AgentState.AVAILABLE  # untouched


async def test_a_consulted_agent_is_offered_nothing_until_the_consultation_is_over(
    ctx: AppContext,
) -> None:
    """While another agent talks to them before a transfer, an agent is busy (the reason says
    why, and the time is theirs in the state log) and the queue offers them nothing; once the
    stack sees the consultation's call over, they are available and offered again. Only the
    agent who consulted them may hand them the call meanwhile (attended). An agent who chose
    another state meanwhile keeps it."""
    ann, bob = await an_agent(ctx, "ann"), await an_agent(ctx, "bob")
    await a_call_with(ctx, ann)
    consulted = await transfers.consult(ctx, Actor(ActorKind.STAFF, ann), str(bob))
    assert consulted.agent_id == bob
    async with ctx.db.session() as s:
        presence = await s.get(AgentPresence, bob)
    assert presence is not None
    assert (presence.state, presence.away_reason) == (AgentState.BUSY, consultations.CONSULTATION)
    with pytest.raises(TransferRefused, match="not available now"):  # nor consulted twice
        await transfers.consult(ctx, Actor(ActorKind.STAFF, ann), str(bob))
    with pytest.raises(TransferRefused, match="not available now"):  # not blind: busy
        await transfers.ask(ctx, ann, "agent", str(bob))
    assert await transfers.ask(ctx, ann, "agent", str(bob), attended=True)  # talked to him

    item_id, _case = await KernelDesk(ctx).enqueue(caller("c-2", "+8613700000000"), "general")
    assert await offer(ctx, item_id) is None  # ann is on a call, bob consulted
    assert await consultations.consulted(ctx, settled=False) == [bob]
    assert await consultations.consulted(ctx) == []  # its call has had no time to begin yet
    assert await consultations.release(ctx, [bob]) == [bob]
    made = await offer(ctx, item_id)
    assert made is not None and made.agent_id == bob
    spans = await spans_of(ctx, bob)
    assert [(span.state, span.reason) for span in spans][-2:] == [
        (AgentState.BUSY, consultations.CONSULTATION),
        (AgentState.AVAILABLE, None),
    ]

    cy, dan = await an_agent(ctx, "cy"), await an_agent(ctx, "dan")
    await a_call_with(ctx, dan, number="+8613600000000")
    await transfers.consult(ctx, Actor(ActorKind.STAFF, dan), str(cy))
    with pytest.raises(TransferRefused, match="not available now"):  # dan's consultation
        await transfers.ask(ctx, ann, "agent", str(cy), attended=True)
    await set_state(ctx, cy, AgentState.AWAY, reason="lunch")
    assert await consultations.release(ctx, [cy]) == []
    async with ctx.db.session() as s:
        presence = await s.get(AgentPresence, cy)
    assert presence is not None and (presence.state, presence.away_reason) == ("away", "lunch")
