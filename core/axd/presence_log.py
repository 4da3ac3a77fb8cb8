"""Agents' states over time: one span per state (and away reason), opened when the agent's
presence changes and closed by the next change, in the transaction of the change. The figures
read signed-in time, away time per reason and wrap-up time from it, for any past period."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import AgentPresence, AgentStateSpan
from hotline.core.storage.models.base import utcnow

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


async def release(ctx: AppContext, *held: ColumnElement[bool]) -> list[int]:
    """The agents whose presence matches ``held`` (what held them, e.g. a wrap-up whose time
    is over) are available from now, in one transaction (their missed offers in a row kept),
    and the consoles are told after it committed. Returns who."""
    now = utcnow()

    def write(session: Session) -> list[int]:
        back = []
        for presence in session.scalars(select(AgentPresence).where(*held).with_for_update()):
            before = (presence.state, presence.away_reason)
            changed(session, presence.user_id, before, (AgentState.AVAILABLE, None), now)
            presence.state, presence.away_reason, presence.since = AgentState.AVAILABLE, None, now
            presence.wrap_up_until = None
            back.append(presence.user_id)
        return back

    back = await ctx.db.run(write, write=True)
    for agent_id in back:
        ctx.events.publish(
            {"type": "agent_state", "agent_id": agent_id, "state": str(AgentState.AVAILABLE)},
            [QUEUE_CHANNEL],
        )
    return back
