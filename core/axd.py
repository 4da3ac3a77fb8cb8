"""The AXD queue: call distribution generalised to every medium.

A contact waiting for a person (a call, a chat, an e-mail, an SMS, a web form) is a QueueItem.
An agent is offered an item only when available, speaking its language, having its skills, and
having free capacity for its medium; a voice contact takes the agent whole. The
``choose_agent`` hook picks among the eligible (built-in: longest idle). An offer is accepted
by exactly one agent: the state change is a conditional UPDATE, so two accepts race safely on
any number of app processes.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.core.context import AppContext
from hotline.core.enums import AgentState, Media, QueueState
from hotline.core.events import QUEUE_CHANNEL
from hotline.core.models import AgentPresence, QueueItem, utcnow

OFFER_SECONDS = 20


@dataclass(frozen=True)
class Candidate:
    """An agent who could take the item now, with what strategies weigh."""

    user_id: int
    idle_since: datetime
    skill_level: int  # worst (highest) level over the item's skills; 0 when none are needed
    load: dict[str, int]
    last_assigned_at: datetime | None = None
    today: int = 0  # contacts assigned to them since midnight (local time)


def free_for(presence: AgentPresence, load: dict[str, int], media: str) -> bool:
    """One capacity model across media: a voice contact takes the agent whole, and an agent on
    a call takes nothing else; other media count against their own capacity."""
    if load.get(Media.VOICE, 0) > 0:
        return False
    if media == Media.VOICE:
        return sum(load.values()) == 0 and int(presence.capacity.get(Media.VOICE, 0)) > 0
    return load.get(media, 0) < int(presence.capacity.get(media, 0))


def _load(session: Session) -> dict[int, dict[str, int]]:
    rows = session.execute(
        select(QueueItem.agent_id, QueueItem.media, func.count())
        .where(
            QueueItem.state.in_([QueueState.OFFERED, QueueState.ASSIGNED]),
            QueueItem.agent_id.is_not(None),
        )
        .group_by(QueueItem.agent_id, QueueItem.media)
    )
    load: dict[int, dict[str, int]] = {}
    for agent_id, media, count in rows:
        if agent_id is not None:
            load.setdefault(agent_id, {})[str(media)] = int(count)
    return load


def _today(session: Session, since: datetime) -> dict[int, int]:
    rows = session.execute(
        select(QueueItem.agent_id, func.count())
        .where(
            QueueItem.agent_id.is_not(None),
            QueueItem.state.in_([QueueState.ASSIGNED, QueueState.DONE]),
            QueueItem.updated_at >= since,
        )
        .group_by(QueueItem.agent_id)
    )
    return {int(agent): int(count) for agent, count in rows if agent is not None}


def candidates(
    session: Session, item: QueueItem, now: datetime, midnight: datetime | None = None
) -> list[Candidate]:
    """Every agent who may be offered ``item`` now."""
    load = _load(session)
    today = _today(session, midnight or now.replace(hour=0, minute=0, second=0, microsecond=0))
    found = []
    for presence in session.scalars(
        select(AgentPresence).where(AgentPresence.state == AgentState.AVAILABLE)
    ):
        if str(presence.user_id) in item.declined_by:
            continue
        if item.language and presence.languages and item.language not in presence.languages:
            continue
        # An agent with no skills set is a generalist: every group's contacts are theirs.
        levels = [
            presence.skills.get(skill, 0 if not presence.skills else None) for skill in item.skills
        ]
        if any(level is None for level in levels):
            continue
        agent_load = load.get(presence.user_id, {})
        if not free_for(presence, agent_load, item.media):
            continue
        idle = presence.last_assigned_at or presence.since
        found.append(
            Candidate(
                presence.user_id,
                idle,
                max((int(v) for v in levels if v is not None), default=0),
                agent_load,
                presence.last_assigned_at,
                today.get(presence.user_id, 0),
            )
        )
    return found


async def choose(ctx: AppContext, item: QueueItem, found: list[Candidate]) -> int | None:
    """Ask the ``choose_agent`` hook; an answer that is not among the candidates is ignored."""
    if not found:
        return None
    answer: Any = ctx.pm.hook.choose_agent(ctx=ctx, item=item, candidates=found)
    if inspect.isawaitable(answer):
        answer = await answer
    return int(answer) if answer is not None and any(c.user_id == answer for c in found) else None


def _pool(
    session: Session, item_id: int, now: datetime
) -> tuple[QueueItem | None, list[Candidate]]:
    item = session.scalar(
        select(QueueItem).where(QueueItem.id == item_id, QueueItem.state == QueueState.WAITING)
    )
    return item, candidates(session, item, now) if item is not None else []


async def offer_next(ctx: AppContext, item_id: int) -> int | None:
    """Offer a waiting item to the agent the strategy chooses; returns that agent, or None."""
    now = utcnow()
    item, pool = await ctx.db.run(lambda session: _pool(session, item_id, now), write=False)
    if item is None:
        return None
    agent = await choose(ctx, item, pool)
    if agent is None:
        return None

    def claim(session: Session) -> bool:
        done = session.execute(
            update(QueueItem)
            .where(QueueItem.id == item_id, QueueItem.state == QueueState.WAITING)
            .values(
                state=QueueState.OFFERED,
                agent_id=agent,
                offered_at=now,
                offer_expires_at=now + timedelta(seconds=OFFER_SECONDS),
                updated_at=now,
            )
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    if not await ctx.db.run(claim, write=True):
        return None  # another process offered it first
    ctx.events.publish(
        {"type": "offer", "item_id": item_id, "agent_id": agent, "media": item.media},
        [QUEUE_CHANNEL],
    )
    return agent


async def accept(ctx: AppContext, item_id: int, agent_id: int) -> bool:
    """The agent takes the item: an offer made to them, or a waiting item they pick.
    Exactly one of several agents accepting at once wins."""
    now = utcnow()

    def take(session: Session) -> bool:
        done = session.execute(
            update(QueueItem)
            .where(
                QueueItem.id == item_id,
                ((QueueItem.state == QueueState.OFFERED) & (QueueItem.agent_id == agent_id))
                | (QueueItem.state == QueueState.WAITING),
            )
            .values(state=QueueState.ASSIGNED, agent_id=agent_id, updated_at=now)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return False
        session.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == agent_id)
            .values(last_assigned_at=now)
        )
        return True

    won = await ctx.db.run(take, write=True)
    if won:
        ctx.events.publish(
            {"type": "assigned", "item_id": item_id, "agent_id": agent_id}, [QUEUE_CHANNEL]
        )
    return won


async def decline(ctx: AppContext, item_id: int, agent_id: int, *, missed: bool = False) -> bool:
    """The agent says no (or let the offer time run out): the item waits again, and will not be
    offered to them again; a timeout counts as a miss."""

    def give_back(session: Session) -> bool:
        item = session.scalar(
            select(QueueItem)
            .where(
                QueueItem.id == item_id,
                QueueItem.state == QueueState.OFFERED,
                QueueItem.agent_id == agent_id,
            )
            .with_for_update()
        )
        if item is None:
            return False
        item.state = QueueState.WAITING
        item.agent_id = None
        item.offered_at = item.offer_expires_at = None
        item.declined_by = [*item.declined_by, str(agent_id)]
        if missed:
            session.execute(
                update(AgentPresence)
                .where(AgentPresence.user_id == agent_id)
                .values(missed_offers=AgentPresence.missed_offers + 1)
            )
        return True

    return await ctx.db.run(give_back, write=True)


async def expire_offers(ctx: AppContext) -> list[int]:
    """Offers nobody answered in time go back to the queue (and count as misses)."""
    now = utcnow()
    expired = await ctx.db.run(
        lambda s: list(
            s.execute(
                select(QueueItem.id, QueueItem.agent_id).where(
                    QueueItem.state == QueueState.OFFERED, QueueItem.offer_expires_at < now
                )
            )
        ),
        write=False,
    )
    back = []
    for item_id, agent_id in expired:
        if agent_id is not None and await decline(ctx, item_id, agent_id, missed=True):
            back.append(int(item_id))
    return back


async def set_state(
    ctx: AppContext,
    user_id: int,
    state: AgentState,
    *,
    reason: str | None = None,
    capacity: dict[str, int] | None = None,
    skills: dict[str, int] | None = None,
    languages: list[str] | None = None,
) -> None:
    """Sign in, become available, go away (with a reason), wrap up, sign out."""
    now = utcnow()

    def write(session: Session) -> None:
        presence = session.get(AgentPresence, user_id) or AgentPresence(
            user_id=user_id, capacity={}, skills={}, languages=[]
        )
        presence.state = state
        presence.away_reason = reason if state == AgentState.AWAY else None
        presence.since = now
        if capacity is not None:
            presence.capacity = capacity
        if skills is not None:
            presence.skills = skills
        if languages is not None:
            presence.languages = languages
        session.add(presence)

    await ctx.db.run(write, write=True)
    ctx.events.publish(
        {"type": "agent_state", "agent_id": user_id, "state": str(state)}, [QUEUE_CHANNEL]
    )
