"""The director's office as an audience: what concerns its sealed mailbox and its people is
told to it in the message centre (a notice to the role), written in the same transaction as
the change that caused it. Intake, the workflow, break-glass readings and changes to staff
rights (``core.people.separation``) all tell the office through here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from hotline.core.storage.enums import Role
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.workflow import Notice

OFFICE = Role.DIRECTOR_OFFICE.value
# Held messages from these sources (the director's mailbox) are letters all the same: for the
# office's eyes only.
SEALED_HELD_SOURCES = ("director",)


def notify_office(
    session: Session | AsyncSession,
    kind: str,
    *,
    case_id: int | None = None,
    number: str | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    """A notice to the director's office; ``detail`` says who did what (no letter's text)."""
    session.add(
        Notice(
            kind=kind,
            role=OFFICE,
            case_id=case_id,
            detail={"case": number, **detail},
            at=at or utcnow(),
        )
    )
