"""Each AXD strategy with a scenario that shows its choice; queues with their own strategy and
offer time; timed wrap-up."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hotline.core.axd.selection import local_midnight, offerable
from hotline.core.axd.state import accept, end_wrap_ups, finish, offer_next, set_state
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem, SkillGroup
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, Citizen
from tests.conftest import seed_city
from tests.core.test_axd import MIXED, agents, item_for, offers_by_hand  # noqa: F401

_phones = itertools.count(1000)


def new_phone() -> str:
    return f"137{next(_phones):08d}"


async def ready(ctx: AppContext, agent: int, idle_minutes: int, **skills: int) -> None:
    """Available since ``idle_minutes`` ago, with these skills."""
    await set_state(
        ctx, agent, AgentState.AVAILABLE, capacity=MIXED, skills=skills or {"pothole": 1}
    )
    async with ctx.db.transaction() as s:
        await s.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == agent)
            .values(last_assigned_at=utcnow() - timedelta(minutes=idle_minutes))
        )


async def queue(ctx: AppContext, code: str = "pothole", **rules: object) -> None:
    async with ctx.db.transaction() as s:
        s.add(SkillGroup(code=code, name_zh=code, name_en=code, **rules))


async def contact(ctx: AppContext, phone: str | None = None, channel: str = "web") -> int:
    return await item_for(ctx, channel, contacts=[{"kind": "phone", "value": phone or new_phone()}])


async def waited(ctx: AppContext, item: int, seconds: int) -> None:
    async with ctx.db.transaction() as s:
        await s.execute(
            update(QueueItem)
            .where(QueueItem.id == item)
            .values(waiting_since=utcnow() - timedelta(seconds=seconds))
        )


async def test_least_handling_time_today(ctx: AppContext) -> None:
    await seed_city(ctx)
    long_calls, short_calls = await agents(ctx, "long", "short")
    await queue(ctx, strategy="least_handling")
    await ready(ctx, long_calls, 1)
    await ready(ctx, short_calls, 1)
    # long_calls took one contact for 40 minutes, short_calls three of 2 minutes each
    for agent, minutes in ((long_calls, [40]), (short_calls, [2, 2, 2])):
        for length in minutes:
            item = await contact(ctx)
            assert await accept(ctx, item, agent)
            async with ctx.db.transaction() as s:  # earlier today, in the hotline's time zone
                start = max(
                    utcnow() - timedelta(hours=1),
                    local_midnight(utcnow(), ctx.settings.timezone) + timedelta(minutes=1),
                )
                await s.execute(
                    update(QueueItem)
                    .where(QueueItem.id == item)
                    .values(
                        state=QueueState.DONE,
                        assigned_at=start,
                        done_at=start + timedelta(minutes=length),
                    )
                )
    await ready(ctx, long_calls, 30)  # longest idle would pick long_calls
    assert await offer_next(ctx, await contact(ctx)) == short_calls


async def test_skill_tiers_widen_after_a_wait(ctx: AppContext) -> None:
    await seed_city(ctx)
    (junior,) = await agents(ctx, "junior")
    await queue(ctx, strategy="skill_level", widen_after_seconds=60)
    await ready(ctx, junior, 10, pothole=2)
    item = await contact(ctx)
    assert await offer_next(ctx, item) is None  # level 2 only after one wait
    await waited(ctx, item, 61)
    assert await offer_next(ctx, item) == junior
    # a level-1 agent, even when idle for less time, is preferred from the start
    (expert,) = await agents(ctx, "expert")
    await ready(ctx, expert, 1, pothole=1)
    assert await offer_next(ctx, await contact(ctx)) == expert


async def test_region_by_phone_prefix(ctx: AppContext) -> None:
    ctx.settings.axd_offers_per_agent = 5  # offers are left unanswered here: several at once
    await seed_city(ctx)
    north_agent, city_agent = await agents(ctx, "north", "city")
    await queue(ctx, strategy="region", widen_after_seconds=60)
    await queue(ctx, "north", phone_prefixes=["+86139"])
    await ready(ctx, north_agent, 1, pothole=1, north=1)
    await ready(ctx, city_agent, 50, pothole=1)
    assert await offer_next(ctx, await contact(ctx, "13912345678")) == north_agent
    assert await offer_next(ctx, await contact(ctx, "13812345678")) == city_agent  # no region
    # the region's agents are all away: others only after a wait
    await set_state(ctx, north_agent, AgentState.AWAY, reason="meal")
    item = await contact(ctx, "13987654321")
    assert await offer_next(ctx, item) is None
    await waited(ctx, item, 61)
    assert await offer_next(ctx, item) == city_agent


async def test_the_agent_who_last_served_the_citizen(ctx: AppContext) -> None:
    await seed_city(ctx)
    ann, bob = await agents(ctx, "ann", "bob")
    await queue(ctx, strategy="last_agent")
    await ready(ctx, ann, 1)
    await ready(ctx, bob, 60)
    phone = new_phone()
    first = await contact(ctx, phone)
    assert await accept(ctx, first, ann)
    assert await finish(ctx, first, ann) is not None
    await ready(ctx, ann, 1)
    assert await offer_next(ctx, await contact(ctx, phone)) == ann
    assert await offer_next(ctx, await contact(ctx)) == bob  # a stranger: longest idle


async def test_priority_citizens_first_and_to_the_best_agent(ctx: AppContext) -> None:
    await seed_city(ctx)
    expert, junior = await agents(ctx, "expert", "junior")
    await queue(ctx, strategy="citizen_priority")
    await ready(ctx, expert, 1, pothole=1)
    await ready(ctx, junior, 60, pothole=2)
    elderly = new_phone()
    first = await contact(ctx, elderly)  # the citizen's record, then flagged by staff
    async with ctx.db.transaction() as s:
        citizen_id = await s.scalar(
            select(Case.citizen_id)
            .join(QueueItem, QueueItem.case_id == Case.id)
            .where(QueueItem.id == first)
        )
        await s.execute(
            update(Citizen).where(Citizen.id == citizen_id).values(flags={"priority": "elderly"})
        )
        await s.execute(update(QueueItem).where(QueueItem.id == first).values(state="done"))
    ordinary = await contact(ctx)
    flagged = await contact(ctx, elderly)
    async with ctx.db.session() as s:
        ranks = {i: p for i, p in await s.execute(select(QueueItem.id, QueueItem.priority))}
    assert ranks[flagged] == ranks[ordinary] + 1  # served first
    assert await offer_next(ctx, flagged) == expert  # the most skilled, though not longest idle
    assert await offer_next(ctx, ordinary) == junior


async def test_repeat_contacts_make_a_priority_citizen(ctx: AppContext) -> None:
    await seed_city(ctx)
    ctx.settings.axd_repeat_contacts = 3
    phone = new_phone()
    items = [await contact(ctx, phone) for _ in range(3)]
    async with ctx.db.session() as s:
        ranks = [await s.scalar(select(QueueItem.priority).where(QueueItem.id == i)) for i in items]
    assert ranks[2] == ranks[0] + 1 and ranks[0] == ranks[1]


async def test_each_queue_its_own_strategy_and_offer_time(ctx: AppContext) -> None:
    await seed_city(ctx)
    ctx.settings.axd_strategy = "longest_idle"
    busy_morning, fresh = await agents(ctx, "busy", "fresh")
    await queue(ctx, strategy="fewest_today", offer_seconds=45)
    await ready(ctx, busy_morning, 1)
    earlier = await contact(ctx)
    assert await accept(ctx, earlier, busy_morning)
    await finish(ctx, earlier, busy_morning)
    await ready(ctx, busy_morning, 90)  # idle longest, but one contact today
    await ready(ctx, fresh, 5)
    item = await contact(ctx)
    assert await offer_next(ctx, item) == fresh
    async with ctx.db.session() as s:
        offer = await s.scalar(select(QueueItem).where(QueueItem.id == item))
    assert offer is not None and offer.offer_expires_at and offer.offered_at
    assert offer.offer_expires_at - offer.offered_at == timedelta(seconds=45)
    # a contact of a queue without settings follows the site's strategy
    other = await item_for(
        ctx, "web", category="noise", contacts=[{"kind": "phone", "value": new_phone()}]
    )
    await set_state(ctx, busy_morning, AgentState.AVAILABLE, skills={"pothole": 1, "noise": 1})
    await set_state(ctx, fresh, AgentState.AVAILABLE, skills={"pothole": 1, "noise": 1})
    async with ctx.db.transaction() as s:
        await s.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == busy_morning)
            .values(last_assigned_at=utcnow() - timedelta(hours=2))
        )
    assert await offer_next(ctx, other) == busy_morning


async def test_wrap_up_holds_offers_for_its_time(ctx: AppContext) -> None:
    await seed_city(ctx)
    (ann,) = await agents(ctx, "ann")
    await queue(ctx, wrap_up_seconds=30)
    await ready(ctx, ann, 1)
    first = await contact(ctx)
    assert await accept(ctx, first, ann)
    assert await finish(ctx, first, ann) == 30
    assert await finish(ctx, first, ann) is None  # once only
    async with ctx.db.session() as s:
        presence = await s.get(AgentPresence, ann)
    assert presence is not None and presence.state == AgentState.WRAP_UP
    nxt = await contact(ctx)
    assert await offer_next(ctx, nxt) is None  # wrapping up: no offers
    assert await end_wrap_ups(ctx) == []  # not yet over
    async with ctx.db.transaction() as s:
        await s.execute(update(AgentPresence).values(wrap_up_until=utcnow() - timedelta(seconds=1)))
    assert await end_wrap_ups(ctx) == [ann]
    assert await offer_next(ctx, nxt) == ann


async def test_the_sweep_offers_only_what_someone_can_take(ctx: AppContext) -> None:
    """A long queue nobody on shift can take (a language no one speaks) is skipped in one pass;
    what an available agent can take is offered, in queue order."""
    from hotline.plugins.distribution import sweep

    await seed_city(ctx)
    (ann,) = await agents(ctx, "ann")
    await set_state(ctx, ann, AgentState.AVAILABLE, capacity=MIXED, languages=["zh_CN"])
    english = [await contact(ctx) for _ in range(3)]
    async with ctx.db.transaction() as s:
        await s.execute(update(QueueItem).where(QueueItem.id.in_(english)).values(language="en"))
    chinese = await contact(ctx)
    assert await ctx.db.run(offerable, write=False) == [chinese]
    assert await sweep(ctx) == 1
    async with ctx.db.session() as s:
        states = dict((await s.execute(select(QueueItem.id, QueueItem.state))).all())
    assert states[chinese] == "offered" and {states[i] for i in english} == {"waiting"}


def test_today_starts_at_the_hotlines_own_midnight() -> None:
    # 01:00 on 3 December in Shanghai is still 2 December in UTC
    now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert local_midnight(now, "Asia/Shanghai") == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert local_midnight(now, "UTC") == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)
