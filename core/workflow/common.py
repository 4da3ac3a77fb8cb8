"""What every workflow step shares: assignment states, notices for the message centre, and
finding a case's assignments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases.actions import MAX_TEXT, ActionRefused
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.workflow import Assignment, Notice

Result = tuple[str, dict[str, Any], bool]

# assignment states
DISPATCHED, ACCEPTED, REPLIED, DONE, RETURNED, CLOSED = (
    "dispatched",
    "accepted",
    "replied",
    "done",
    "returned",
    "closed",
)
ACTIVE = (DISPATCHED, ACCEPTED)
OPEN_STATES = (DISPATCHED, ACCEPTED, REPLIED)
HOTLINE = "hotline"  # a notice's audience: agents, team leaders and supervisors
DIRECTOR_OFFICE = "director_office"
MAX_EXTENSION_DAYS = 30


def notify(
    session: AsyncSession,
    kind: str,
    case: Case | None,
    *,
    department_id: int | None = None,
    role: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """A notice in the message centre, written with the change that caused it. A letter to the
    director is told to the director's office only, whoever the notice was meant for."""
    if case is not None and case.sealed:
        department_id, role = None, DIRECTOR_OFFICE
    session.add(
        Notice(
            kind=kind,
            case_id=case.id if case else None,
            department_id=department_id,
            role=role,
            detail={"case": case.tracking_number if case else None, **(detail or {})},
            at=at or utcnow(),
        )
    )


def notify_user(
    session: AsyncSession,
    user_id: int,
    kind: str,
    *,
    title: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """A notice in the message centre for one staff member (their export is ready...)."""
    session.add(Notice(kind=kind, user_id=user_id, title=title, detail=detail or {}, at=utcnow()))


def _text(value: str, what: str, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise ActionRefused(f"the {what} is empty")
    if len(value) > MAX_TEXT:
        raise ActionRefused(f"the {what} is longer than {MAX_TEXT} characters")
    return value


async def _assignments(session: AsyncSession, case: Case) -> list[Assignment]:
    return list(
        await session.scalars(
            select(Assignment).where(Assignment.case_id == case.id).order_by(Assignment.id)
        )
    )


async def _mine(
    session: AsyncSession, case: Case, department_id: int, states: tuple[str, ...]
) -> Assignment:
    """The department's open assignment on the case, in one of ``states``."""
    found = await session.scalar(
        select(Assignment)
        .where(
            Assignment.case_id == case.id,
            Assignment.department_id == department_id,
            Assignment.state.in_(states),
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    if found is None:
        raise ActionRefused(f"case {case.tracking_number} is not with this department now")
    return found


async def _department(session: AsyncSession, code: str) -> Department:
    found = await session.scalar(
        select(Department).where(Department.code == code, Department.active.is_(True))
    )
    if found is None:
        raise ActionRefused(f"no department {code!r}")
    return found


@dataclass
class _Found:
    """What a check looked up, for its apply."""

    values: dict[str, Any] = field(default_factory=dict)
