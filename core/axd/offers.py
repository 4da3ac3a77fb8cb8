"""The offer log: every offer the AXD queue makes, to whom, when it rang and how it ended
(accepted, declined, missed, withdrawn when the contact left, recalled when the agent was taken
out of the queue). Written in the same transaction as the queue item's change, so the call
detail records and the figures (ring time, answered and missed offers per agent) are exact."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.core.storage.models.axd import QueueOffer


class OfferEnd(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MISSED = "missed"  # the offer's time ran out
    WITHDRAWN = "withdrawn"  # the contact left the queue (a caller hung up) while it rang
    RECALLED = "recalled"  # the agent was signed out of the queue while it rang


def opened(session: Session, item_id: int, agent_id: int, at: datetime) -> None:
    session.add(QueueOffer(item_id=item_id, agent_id=agent_id, offered_at=at))


def closed(session: Session, item_id: int, end: OfferEnd, at: datetime) -> None:
    """The item's open offer (if any) ends with ``end``."""
    session.execute(
        update(QueueOffer)
        .where(QueueOffer.item_id == item_id, QueueOffer.ended_at.is_(None))
        .values(ended_at=at, outcome=end)
    )


def recalled_from(session: Session, agent_id: int, at: datetime) -> None:
    """Every offer still ringing for ``agent_id`` ends: the agent left the queue."""
    session.execute(
        update(QueueOffer)
        .where(QueueOffer.agent_id == agent_id, QueueOffer.ended_at.is_(None))
        .values(ended_at=at, outcome=OfferEnd.RECALLED)
    )


def of_item(session: Session, item_id: int) -> list[QueueOffer]:
    """Read unit: the item's offers in the order they were made."""
    return list(
        session.scalars(
            select(QueueOffer).where(QueueOffer.item_id == item_id).order_by(QueueOffer.id)
        )
    )
