"""The audit of staff reads and changes outside a case (citizens' records, staff accounts,
permission overrides); reads and changes within a case are CaseEvents on it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.actors import Actor
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import AuditEntry


def audit(
    session: AsyncSession, actor: Actor, action: str, citizen_id: int | None, **detail: Any
) -> None:
    """Add an entry in the caller's transaction: who, when, from where, what, which record."""
    session.add(
        AuditEntry(
            at=utcnow(),
            action=action,
            actor_id=actor.id,
            actor_label=actor.label,
            address=actor.address,
            citizen_id=citizen_id,
            detail=detail,
        )
    )
