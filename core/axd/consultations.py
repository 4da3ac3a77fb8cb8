"""An agent another agent talks to before a transfer (a consultation) is busy while that call
lasts: the queue offers them nothing, as it offers nothing to an agent on a call (their
"device state", as a call-centre switch keeps it). ``engage`` sets them busy with the reason
``CONSULTATION`` when the consultation is asked for; the phone stack, which sees the call,
``release``\\ s them once it has ended (or never began), and they are available again unless
they chose another state meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core.axd import presence_log
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import AgentPresence
from hotline.core.storage.models.base import utcnow

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

CONSULTATION = "consultation"  # the reason shown with "busy"; no agent chooses it
# the time a consultation's call has to begin: released before then only when it has ended
SETTLE = timedelta(seconds=10)


def in_consultation(presence: AgentPresence) -> bool:
    return presence.state == AgentState.BUSY and presence.away_reason == CONSULTATION


def engage(session: Session, presence: AgentPresence, now: datetime) -> None:
    """Write unit: the agent being consulted is busy from ``now``."""
    before = (presence.state, presence.away_reason)
    presence_log.changed(session, presence.user_id, before, (AgentState.BUSY, CONSULTATION), now)
    presence.state, presence.away_reason, presence.since = AgentState.BUSY, CONSULTATION, now


async def consulted(ctx: AppContext, *, settled: bool = True) -> list[int]:
    """The agents busy in a consultation (``settled``: only those asked for ``SETTLE`` ago or
    more, whose call has had time to begin)."""
    query = select(AgentPresence.user_id).where(
        AgentPresence.state == AgentState.BUSY, AgentPresence.away_reason == CONSULTATION
    )
    if settled:
        query = query.where(AgentPresence.since <= utcnow() - SETTLE)

    def read(session: Session) -> list[int]:
        return list(session.scalars(query))

    return await ctx.db.run(read, write=False)


async def release(ctx: AppContext, agent_ids: list[int]) -> list[int]:
    """The consultations of ``agent_ids`` are over: those still busy in one are available
    again (their missed offers in a row kept); returns who."""
    if not agent_ids:
        return []
    return await presence_log.release(
        ctx,
        AgentPresence.user_id.in_(agent_ids),
        AgentPresence.state == AgentState.BUSY,
        AgentPresence.away_reason == CONSULTATION,
    )
