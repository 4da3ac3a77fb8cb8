"""How many offers an agent holds at once: one, unless the administrator sets more
(``HOTLINE_AXD_OFFERS_PER_AGENT``). A newly available agent is offered the first contact that
fits, not everything waiting; the next comes when they answer it or its time runs out (an
unanswered offer goes to the next agent and counts once as a miss, ``axd.decline``). Capacity
per medium still applies on top (``axd.free_for``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.core.storage.enums import QueueState
from hotline.core.storage.models.axd import QueueItem

if TYPE_CHECKING:
    from hotline.core.axd.selection import Candidate

C = TypeVar("C", bound="Candidate")


def offers_held(session: Session) -> dict[int, int]:
    """Open offers per agent."""
    rows = session.execute(
        select(QueueItem.agent_id, func.count())
        .where(QueueItem.state == QueueState.OFFERED, QueueItem.agent_id.is_not(None))
        .group_by(QueueItem.agent_id)
    )
    return {int(agent): int(count) for agent, count in rows if agent is not None}


def within_limit(session: Session, found: list[C], limit: int) -> list[C]:
    """The candidates who hold fewer than ``limit`` open offers."""
    if not found:
        return found
    held = offers_held(session)
    return [c for c in found if held.get(c.user_id, 0) < max(1, limit)]
