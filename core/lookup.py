"""Finding a case by its tracking number, as citizens, channels and the API do.

The number alone never opens personal data: these return the case row for the caller to show
its public parts, or the public timeline only.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.core import tracking
from hotline.core.db import Database
from hotline.core.models import Case, CaseEvent


def _find(session: Session, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.tracking_number == number))


def _timeline(session: Session, number: str) -> tuple[Case, list[CaseEvent]] | None:
    case = _find(session, number)
    if case is None:
        return None
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.public.is_(True))
        .order_by(CaseEvent.at, CaseEvent.id)
    )
    return case, list(events)


async def find_case(db: Database, number: str) -> Case | None:
    """The case with this tracking number (spaces and dashes allowed), or None."""
    number = tracking.clean(number)
    if not tracking.is_valid(number):
        return None
    return await db.run(lambda session: _find(session, number), write=False)


async def public_timeline(db: Database, number: str) -> tuple[Case, list[CaseEvent]] | None:
    """The case and its public events, oldest first, in one read; None for an unknown number."""
    number = tracking.clean(number)
    if not tracking.is_valid(number):
        return None
    return await db.run(lambda session: _timeline(session, number), write=False)
