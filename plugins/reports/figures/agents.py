"""Each agent's figures for a period, from the agents' state spans (``agent_state_spans``), the
offer log (``queue_offers``) and the queue items they took:

- *signed in*: the time in any state but signed out, inside the period; split into available,
  wrap-up (after-contact work), busy and away, away per reason;
- *offers*: made to the agent in the period, and how they ended: accepted, declined, missed
  (the offer's time ran out), withdrawn (the contact left while it rang), recalled; the mean
  ring time of the accepted ones;
- *handled*: contacts the agent took in the period, per medium, and their handling time (taken
  to finished, for the finished ones);
- *occupancy*: handling and wrap-up over the signed-in time less away, ``None`` without any.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import AgentStateSpan, QueueItem, QueueOffer

from .period import Period


@dataclass
class AgentFigures:
    signed_in_seconds: float = 0.0
    state_seconds: dict[str, float] = field(default_factory=dict)  # state -> seconds
    away_seconds: dict[str, float] = field(default_factory=dict)  # reason ("" none) -> seconds
    offers: Counter[str] = field(default_factory=Counter)  # how they ended ("" still ringing)
    ring_seconds: float = 0.0  # the accepted offers' ring time, summed
    handled: Counter[str] = field(default_factory=Counter)  # medium -> contacts taken
    handle_seconds: float = 0.0  # the finished ones', summed

    @property
    def offered(self) -> int:
        return sum(self.offers.values())

    @property
    def average_ring(self) -> float | None:
        accepted = self.offers.get("accepted", 0)
        return self.ring_seconds / accepted if accepted else None

    @property
    def occupancy(self) -> float | None:
        """Handling and wrap-up over the time signed in and not away."""
        at_work = self.signed_in_seconds - sum(self.away_seconds.values())
        if at_work <= 0:
            return None
        busy = self.handle_seconds + self.state_seconds.get(AgentState.WRAP_UP, 0.0)
        return min(1.0, busy / at_work)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def agent_figures(
    session: AsyncSession, period: Period, now: datetime | None = None
) -> dict[int, AgentFigures]:
    """Per agent who was signed in, was offered or took a contact in ``period``."""
    until = min(period.end, now or datetime.now(UTC))
    found: dict[int, AgentFigures] = defaultdict(AgentFigures)
    spans = await session.execute(
        select(AgentStateSpan).where(
            AgentStateSpan.started_at < period.end,
            or_(AgentStateSpan.ended_at.is_(None), AgentStateSpan.ended_at > period.start),
            AgentStateSpan.state != AgentState.SIGNED_OUT,
        )
    )
    for (span,) in spans:
        start = max(_aware(span.started_at), period.start)
        end = min(_aware(span.ended_at) if span.ended_at else until, period.end)
        seconds = max(0.0, (end - start).total_seconds())
        figures = found[span.agent_id]
        figures.signed_in_seconds += seconds
        figures.state_seconds[span.state] = figures.state_seconds.get(span.state, 0.0) + seconds
        if span.state == AgentState.AWAY:
            reason = span.reason or ""
            figures.away_seconds[reason] = figures.away_seconds.get(reason, 0.0) + seconds
    for (offer,) in await session.execute(
        select(QueueOffer).where(period.holds(QueueOffer.offered_at))
    ):
        figures = found[offer.agent_id]
        figures.offers[offer.outcome or ""] += 1
        if offer.outcome == "accepted" and offer.ended_at is not None:
            rang = _aware(offer.ended_at) - _aware(offer.offered_at)
            figures.ring_seconds += rang.total_seconds()
    for agent_id, media, taken, done in await session.execute(
        select(QueueItem.agent_id, QueueItem.media, QueueItem.assigned_at, QueueItem.done_at).where(
            QueueItem.agent_id.is_not(None), period.holds(QueueItem.assigned_at)
        )
    ):
        figures = found[int(agent_id or 0)]
        figures.handled[str(media)] += 1
        if done is not None and taken is not None:
            figures.handle_seconds += (_aware(done) - _aware(taken)).total_seconds()
    return dict(found)
