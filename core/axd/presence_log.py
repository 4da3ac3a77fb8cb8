"""Agents' states over time: one span per state (and away reason), opened when the agent's
presence changes and closed by the next change, in the transaction of the change. The figures
read signed-in time, away time per reason and wrap-up time from it, for any past period."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from hotline.core.storage.models.axd import AgentStateSpan


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
