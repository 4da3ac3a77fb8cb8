"""The AXD queue: one queue for every medium, one capacity model, offers accepted exactly once."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.core.axd.state import MISSED, accept, decline, expire_offers, offer_next, set_state
from hotline.core.intake.receive import receive
from hotline.core.people.accounts import hash_password
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import User
from tests.conftest import seed_city, spans_of
from tests.factories import submission

MIXED = {"voice": 1, "chat": 3, "email": 5, "web_form": 5}
DISTRIBUTION = "hotline.plugins.distribution"


@pytest.fixture(autouse=True)
def offers_by_hand(ctx: AppContext) -> Iterator[object]:
    """These tests call the AXD functions themselves, so the distribution plugin (which offers a
    new contact at once) is taken out; a test that wants it registers it again."""
    plugin = ctx.pm.unregister(name=DISTRIBUTION)
    yield plugin
    if plugin is not None and not ctx.pm.is_registered(plugin):
        ctx.pm.register(plugin, name=DISTRIBUTION)


async def agents(ctx: AppContext, *names: str) -> list[int]:
    async with ctx.db.transaction() as s:
        users = [
            User(username=n, display_name=n, role="agent", password_hash=hash_password("x"))
            for n in names
        ]
        s.add_all(users)
    return [u.id for u in users]


async def item_for(ctx: AppContext, channel: str, **extra: object) -> int:
    result = await receive(ctx, submission(channel=channel, **extra))
    async with ctx.db.session() as s:
        return int(
            await s.scalar(
                select(QueueItem.id).where(QueueItem.interaction_id == result.interaction_id)
            )
        )


async def test_one_capacity_model_across_media(ctx: AppContext) -> None:
    ctx.settings.axd_offers_per_agent = 10  # the administrator allows several offers at once
    await seed_city(ctx)
    (ann,) = await agents(ctx, "ann")
    await set_state(
        ctx, ann, AgentState.AVAILABLE, capacity=MIXED, skills={"pothole": 1}, languages=["zh_CN"]
    )
    chats = [await item_for(ctx, "webchat") for _ in range(4)]
    taken = [await offer_next(ctx, c) for c in chats]
    assert taken == [ann, ann, ann, None]  # three chats at once, not four
    call = await item_for(ctx, "phone")
    assert await offer_next(ctx, call) is None  # a call needs the agent whole
    mail = await item_for(ctx, "email")
    assert await offer_next(ctx, mail) == ann  # e-mail has its own capacity
    for c in [*chats[:3], mail]:
        assert await accept(ctx, c, ann)
    async with ctx.db.transaction() as s:  # the agent finishes everything
        await s.execute(
            update(QueueItem).where(QueueItem.agent_id == ann).values(state=QueueState.DONE)
        )
    assert await offer_next(ctx, call) == ann and await accept(ctx, call, ann)
    assert await offer_next(ctx, chats[3]) is None  # on a call: nothing else


async def test_only_available_agents_with_the_language_and_skills(ctx: AppContext) -> None:
    await seed_city(ctx)
    away, english, noskill, right = await agents(ctx, "away", "english", "noskill", "right")
    await set_state(
        ctx,
        away,
        AgentState.AWAY,
        reason="meal",
        capacity=MIXED,
        skills={"pothole": 1},
        languages=["zh_CN"],
    )
    await set_state(
        ctx, english, AgentState.AVAILABLE, capacity=MIXED, skills={"pothole": 1}, languages=["en"]
    )
    await set_state(
        ctx, noskill, AgentState.AVAILABLE, capacity=MIXED, skills={"noise": 1}, languages=["zh_CN"]
    )
    item = await item_for(ctx, "sms")  # pothole, zh_CN, SMS: nobody has SMS capacity yet
    assert await offer_next(ctx, item) is None
    await set_state(
        ctx,
        right,
        AgentState.AVAILABLE,
        capacity={**MIXED, "sms": 2},
        skills={"pothole": 2},
        languages=["zh_CN"],
    )
    assert await offer_next(ctx, item) == right


async def test_longest_idle_gets_the_offer(ctx: AppContext) -> None:
    await seed_city(ctx)
    busy_lately, idle_long = await agents(ctx, "busy", "idle")
    for agent in (busy_lately, idle_long):
        await set_state(
            ctx, agent, AgentState.AVAILABLE, capacity=MIXED, skills={"pothole": 1}, languages=[]
        )
    async with ctx.db.transaction() as s:
        await s.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == busy_lately)
            .values(last_assigned_at=utcnow())
        )
        await s.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == idle_long)
            .values(last_assigned_at=utcnow() - timedelta(hours=1))
        )
    assert await offer_next(ctx, await item_for(ctx, "web")) == idle_long


async def test_declined_and_missed_offers_go_to_the_next_agent(ctx: AppContext) -> None:
    await seed_city(ctx)
    first, second = await agents(ctx, "first", "second")
    for agent in (first, second):
        await set_state(
            ctx, agent, AgentState.AVAILABLE, capacity=MIXED, skills={"pothole": 1}, languages=[]
        )
    item = await item_for(ctx, "web")
    offered = await offer_next(ctx, item)
    assert await decline(ctx, item, offered)
    other = await offer_next(ctx, item)
    assert other not in (None, offered)
    async with ctx.db.transaction() as s:  # nobody answers in time
        await s.execute(
            update(QueueItem)
            .where(QueueItem.id == item)
            .values(offer_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await expire_offers(ctx) == [item]
    async with ctx.db.session() as s:
        missed = await s.scalar(
            select(AgentPresence.missed_offers).where(AgentPresence.user_id == other)
        )
        state = await s.scalar(select(QueueItem.state).where(QueueItem.id == item))
    assert missed == 1 and state == QueueState.WAITING
    assert await offer_next(ctx, item) is None  # both said no; it waits for someone else


async def test_two_agents_accepting_at_once_one_wins(ctx: AppContext) -> None:
    """Real concurrent sessions: on PostgreSQL each accept runs on its own connection."""
    await seed_city(ctx)
    team = await agents(ctx, *(f"agent{n}" for n in range(6)))
    for _ in range(5):
        item = await item_for(ctx, "web")
        results = await asyncio.gather(*(accept(ctx, item, agent) for agent in team))
        assert sum(results) == 1
        async with ctx.db.session() as s:
            owner = await s.scalar(select(QueueItem.agent_id).where(QueueItem.id == item))
        assert owner == team[results.index(True)]


async def test_new_contacts_are_offered_and_unanswered_offers_move_on(
    ctx: AppContext, offers_by_hand: object
) -> None:
    """Through the plugin: intake -> offer at once; time out (a job) -> next agent."""
    from hotline.plugins.distribution import offer_timeout

    await seed_city(ctx)
    ctx.pm.register(offers_by_hand, name=DISTRIBUTION)
    first, second = await agents(ctx, "first", "second")
    for agent in (first, second):
        await set_state(
            ctx, agent, AgentState.AVAILABLE, capacity=MIXED, skills={"pothole": 1}, languages=[]
        )
    result = await receive(ctx, submission(channel="web"))  # offered at once, no job needed
    async with ctx.db.session() as s:
        item = await s.scalar(select(QueueItem).where(QueueItem.case_id == result.case_id))
    assert item is not None and item.state == QueueState.OFFERED
    assert ctx.jobs.huey.scheduled_count() >= 1  # the offer's timeout is waiting in the schedule
    assert await offer_timeout(ctx, item.id, item.agent_id)  # as the scheduled job will
    async with ctx.db.session() as s:
        again = await s.scalar(select(QueueItem).where(QueueItem.id == item.id))
    assert (
        again is not None and again.state == QueueState.OFFERED and again.agent_id != item.agent_id
    )
    assert await accept(ctx, item.id, again.agent_id)
    assert not await offer_timeout(
        ctx, item.id, again.agent_id
    )  # accepted in time: nothing happens


async def test_each_strategy_shows_its_choice(ctx: AppContext) -> None:
    await seed_city(ctx)
    veteran, newcomer = await agents(ctx, "veteran", "newcomer")
    await set_state(
        ctx, veteran, AgentState.AVAILABLE, capacity=MIXED, skills={"pothole": 2}, languages=[]
    )
    await set_state(
        ctx, newcomer, AgentState.AVAILABLE, capacity=MIXED, skills={"pothole": 1}, languages=[]
    )
    # the veteran served two contacts this morning and has been idle an hour since
    for _ in range(2):
        done = await item_for(ctx, "web")
        assert await accept(ctx, done, veteran)
    async with ctx.db.transaction() as s:
        await s.execute(
            update(QueueItem).where(QueueItem.agent_id == veteran).values(state=QueueState.DONE)
        )
        await s.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == veteran)
            .values(last_assigned_at=utcnow() - timedelta(hours=1))
        )
    expected = {
        "longest_idle": veteran,
        "round_robin": newcomer,
        "fewest_today": newcomer,
        "skill_level": newcomer,
    }
    chosen = {}
    for strategy in expected:
        ctx.settings.axd_strategy = strategy
        item = await item_for(ctx, "web")
        chosen[strategy] = await offer_next(ctx, item)
        assert await decline(ctx, item, chosen[strategy])  # leave both agents free
    assert chosen == expected


async def test_one_offer_at_a_time_and_a_miss_counted_once(ctx: AppContext) -> None:
    """A newly available agent is offered one contact, not all that wait (the default); the
    next comes when the first is answered. An ignored offer goes to the next agent and counts
    once as a miss, however many times the time-out is seen."""
    await seed_city(ctx)
    ann, bob = await agents(ctx, "ann", "bob")
    items = [await item_for(ctx, "email") for _ in range(5)]
    await set_state(ctx, ann, AgentState.AVAILABLE, capacity=MIXED, languages=["zh_CN"])
    taken = [await offer_next(ctx, i) for i in items]
    assert taken == [ann, None, None, None, None]
    assert await accept(ctx, items[0], ann)
    assert await offer_next(ctx, items[1]) == ann  # the next, once the first is answered
    async with ctx.db.transaction() as s:  # ann lets this one run out
        await s.execute(
            update(QueueItem)
            .where(QueueItem.id == items[1])
            .values(offer_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await expire_offers(ctx) == [items[1]]
    assert await expire_offers(ctx) == []  # seen again: not counted again
    assert not await decline(ctx, items[1], ann, missed=True)
    async with ctx.db.session() as s:
        assert (await s.get(AgentPresence, ann)).missed_offers == 1  # type: ignore[union-attr]
    await set_state(ctx, bob, AgentState.AVAILABLE, capacity=MIXED, languages=["zh_CN"])
    assert await offer_next(ctx, items[1]) == bob  # the next agent


async def _let_run_out(ctx: AppContext, item: int) -> None:
    async with ctx.db.transaction() as s:
        await s.execute(
            update(QueueItem)
            .where(QueueItem.id == item)
            .values(offer_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert await expire_offers(ctx) == [item]


async def test_an_agent_who_misses_offers_in_a_row_is_set_away(ctx: AppContext) -> None:
    """As app_queue and mod_callcenter do: after the set number of offers missed in a row, the
    agent is away with the reason "missed offers" and offered nothing more; an answered offer
    starts the count again, and so does becoming available."""
    ctx.settings.axd_missed_before_away = 2
    await seed_city(ctx)
    (ann,) = await agents(ctx, "ann")
    await set_state(ctx, ann, AgentState.AVAILABLE, capacity=MIXED, languages=["zh_CN"])
    items = [await item_for(ctx, "email") for _ in range(5)]

    async def presence() -> AgentPresence:
        async with ctx.db.session() as s:
            found = await s.get(AgentPresence, ann)
            assert found is not None
            return found

    assert await offer_next(ctx, items[0]) == ann
    await _let_run_out(ctx, items[0])  # one miss
    assert await offer_next(ctx, items[1]) == ann
    assert await accept(ctx, items[1], ann)  # answered: the count starts again
    assert (await presence()).state == AgentState.AVAILABLE
    assert await offer_next(ctx, items[2]) == ann
    await _let_run_out(ctx, items[2])
    assert (await presence()).state == AgentState.AVAILABLE  # one in a row
    assert await offer_next(ctx, items[3]) == ann
    await _let_run_out(ctx, items[3])  # two in a row
    now = await presence()
    assert (now.state, now.away_reason, now.missed_offers) == (AgentState.AWAY, MISSED, 3)
    assert await offer_next(ctx, items[4]) is None  # away: offered nothing
    await set_state(ctx, ann, AgentState.AVAILABLE)  # back: counted from zero
    assert await offer_next(ctx, items[4]) == ann
    await _let_run_out(ctx, items[4])
    assert (await presence()).state == AgentState.AVAILABLE


async def test_a_declined_offer_is_not_a_miss_and_zero_never_sets_away(ctx: AppContext) -> None:
    ctx.settings.axd_missed_before_away = 0  # the administrator turned it off
    await seed_city(ctx)
    (ann,) = await agents(ctx, "ann")
    await set_state(ctx, ann, AgentState.AVAILABLE, capacity=MIXED, languages=["zh_CN"])
    item = await item_for(ctx, "email")
    for _ in range(5):
        assert await offer_next(ctx, item) == ann
        await _let_run_out(ctx, item)
        async with ctx.db.transaction() as s:  # offered again to the same agent
            await s.execute(update(QueueItem).where(QueueItem.id == item).values(declined_by=[]))
    async with ctx.db.session() as s:
        assert (await s.get(AgentPresence, ann)).state == AgentState.AVAILABLE  # type: ignore[union-attr]
    ctx.settings.axd_missed_before_away = 1
    assert await offer_next(ctx, item) == ann
    assert await decline(ctx, item, ann)  # said no: not a miss
    async with ctx.db.session() as s:
        assert (await s.get(AgentPresence, ann)).state == AgentState.AVAILABLE  # type: ignore[union-attr]


async def test_every_offer_is_logged_with_its_ring_time_and_how_it_ended(ctx: AppContext) -> None:
    """The offer log (the call detail record's offers, the figures' ring times): declined,
    missed, accepted, withdrawn as the contact left, recalled when the agent was signed out."""
    from hotline.core.axd import calls, offers
    from hotline.core.axd.state import sign_out
    from hotline.core.storage.enums import QueueOutcome

    await seed_city(ctx)
    ann, bob, cy = await agents(ctx, "ann", "bob", "cy")
    for agent in (ann, bob, cy):
        await set_state(ctx, agent, AgentState.AVAILABLE, capacity=MIXED, languages=["zh_CN"])
    first, second, third = [await item_for(ctx, "email") for _ in range(3)]

    async def log(item: int) -> list[tuple[int, str | None, bool]]:
        rows = await ctx.db.run(lambda s: offers.of_item(s, item), write=False)
        return [
            (o.agent_id, o.outcome, o.ended_at is not None and o.ended_at >= o.offered_at)
            for o in rows
        ]

    a = await offer_next(ctx, first)
    assert await decline(ctx, first, a)
    b = await offer_next(ctx, first)
    await _let_run_out(ctx, first)
    c = await offer_next(ctx, first)
    assert await accept(ctx, first, c)
    assert await log(first) == [(a, "declined", True), (b, "missed", True), (c, "accepted", True)]

    d = await offer_next(ctx, second)
    assert await log(second) == [(d, None, False)]  # ringing
    assert await calls.leave(ctx, second, QueueOutcome.ABANDONED)
    assert await log(second) == [(d, "withdrawn", True)]

    e = await offer_next(ctx, third)
    await sign_out(ctx, e)
    assert await log(third) == [(e, "recalled", True)]
    async with ctx.db.session() as s:
        item = await s.get(QueueItem, third)
        assert item is not None and (item.state, item.agent_id) == (QueueState.WAITING, None)


async def test_the_agents_states_are_kept_as_spans_over_time(ctx: AppContext) -> None:
    """Signed-in time, wrap-up and away time per reason can be figured for any past period:
    every change of state (or away reason) closes one span and opens the next; repeating the
    same state opens none."""
    from hotline.core.axd.state import end_wrap_ups, finish

    ctx.settings.axd_wrap_up_seconds = 30
    await seed_city(ctx)
    (ann,) = await agents(ctx, "ann")
    await set_state(ctx, ann, AgentState.AVAILABLE, capacity=MIXED, languages=["zh_CN"])
    await set_state(ctx, ann, AgentState.AVAILABLE)  # the same: no new span
    item = await item_for(ctx, "email")
    assert await offer_next(ctx, item) == ann
    assert await accept(ctx, item, ann)
    assert await finish(ctx, item, ann) == 30  # wrap-up
    async with ctx.db.transaction() as s:  # the wrap-up time is over
        await s.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == ann)
            .values(wrap_up_until=utcnow() - timedelta(seconds=1))
        )
    assert await end_wrap_ups(ctx) == [ann]
    await set_state(ctx, ann, AgentState.AWAY, reason="meal")
    await set_state(ctx, ann, AgentState.AWAY, reason="meeting")
    await set_state(ctx, ann, AgentState.SIGNED_OUT)
    spans = await spans_of(ctx, ann)
    assert [(x.state, x.reason) for x in spans] == [
        ("available", None),
        ("wrap_up", None),
        ("available", None),
        ("away", "meal"),
        ("away", "meeting"),
        ("signed_out", None),
    ]
    assert all(a.ended_at == b.started_at for a, b in itertools.pairwise(spans))
    assert spans[-1].ended_at is None  # still signed out
