"""The floor now: agents by state (available, handling per medium, wrap-up, away per reason)
and the contacts waiting per medium and queue with the longest wait. Counts only: no names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.axd.selection import NOT_SEALED
from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.people import User

from .contacts import queue_of


@dataclass(frozen=True)
class AgentsNow:
    signed_in: int = 0
    available: int = 0  # available with nothing in hand
    handling: dict[str, int] = field(default_factory=dict)  # medium -> agents with one in hand
    wrap_up: int = 0
    away: dict[str, int] = field(default_factory=dict)  # reason ("" none given) -> agents
    busy: int = 0  # set busy by hand, nothing in hand


async def agents_now(session: AsyncSession) -> AgentsNow:
    in_hand: dict[int, set[str]] = {}
    for agent_id, media in await session.execute(
        select(QueueItem.agent_id, QueueItem.media)
        .where(QueueItem.state == QueueState.ASSIGNED, QueueItem.agent_id.is_not(None), NOT_SEALED)
        .distinct()
    ):
        in_hand.setdefault(int(agent_id or 0), set()).add(str(media))
    handling: dict[str, int] = {}
    away: dict[str, int] = {}
    signed_in = available = wrap_up = busy = 0
    for user_id, state, reason in await session.execute(
        select(AgentPresence.user_id, AgentPresence.state, AgentPresence.away_reason)
        .join(User, User.id == AgentPresence.user_id)
        .where(User.active.is_(True), AgentPresence.state != AgentState.SIGNED_OUT)
    ):
        signed_in += 1
        if state == AgentState.AWAY:
            away[reason or ""] = away.get(reason or "", 0) + 1
        elif state == AgentState.WRAP_UP:
            wrap_up += 1
        elif user_id in in_hand:
            for media in in_hand[user_id]:
                handling[media] = handling.get(media, 0) + 1
        elif state == AgentState.AVAILABLE:
            available += 1
        else:
            busy += 1
    return AgentsNow(signed_in, available, dict(sorted(handling.items())), wrap_up, away, busy)


@dataclass(frozen=True)
class Waiting:
    media: str
    queue: str
    count: int
    longest_seconds: int


async def waiting_now(session: AsyncSession, now: datetime) -> list[Waiting]:
    """Contacts waiting (or being offered) per medium and queue, the longest wait first."""
    queue = queue_of()
    rows = await session.execute(
        select(QueueItem.media, queue, func.count(), func.min(QueueItem.waiting_since))
        .where(QueueItem.state.in_([QueueState.WAITING, QueueState.OFFERED]), NOT_SEALED)
        .group_by(QueueItem.media, queue)
    )
    found = []
    for media, name, n, oldest in rows:
        if isinstance(oldest, str):  # SQLite's min() of a time is its text
            oldest = datetime.fromisoformat(oldest).replace(tzinfo=now.tzinfo)
        waited = max(0, int((now - oldest).total_seconds())) if oldest else 0
        found.append(Waiting(str(media), str(name), int(n), waited))
    return sorted(found, key=lambda w: (-w.longest_seconds, w.media, w.queue))
