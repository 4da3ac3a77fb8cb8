"""Agents' states over time: one span per state (and away reason), opened when the agent's
presence changes and closed by the next change, in the transaction of the change. The figures
read signed-in time, away time per reason and wrap-up time from it, for any past period."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.orm import Session

from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import AgentPresence, AgentStateSpan

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext


def changed(
    session: Session,
    agent_id: int,
    before: tuple[str | None, str | None],
    after: tuple[str, str | None],
    at: datetime,
) -> None:
    """The agent's (state, away reason) went from ``before`` to ``after`` at ``at``; nothing is
    written when it did not change."""
    if before == after:
        return
    session.execute(
        update(AgentStateSpan)
        .where(AgentStateSpan.agent_id == agent_id, AgentStateSpan.ended_at.is_(None))
        .values(ended_at=at)
    )
    state, reason = after
    session.add(AgentStateSpan(agent_id=agent_id, state=state, reason=reason, started_at=at))


def available_again(session: Session, presence: AgentPresence, now: datetime) -> None:
    """Write unit: what held the agent (a wrap-up, a consultation) is over; available from
    ``now``."""
    before = (presence.state, presence.away_reason)
    changed(session, presence.user_id, before, (AgentState.AVAILABLE, None), now)
    presence.state, presence.away_reason, presence.since = AgentState.AVAILABLE, None, now
    presence.wrap_up_until = None


def announce_available(ctx: AppContext, agent_ids: list[int]) -> None:
    """Tell the consoles those agents are available again (after the write committed)."""
    for agent_id in agent_ids:
        ctx.events.publish(
            {"type": "agent_state", "agent_id": agent_id, "state": str(AgentState.AVAILABLE)},
            [QUEUE_CHANNEL],
        )
