"""Named changes to a case. Each ``do_*`` has its refusals in a ``check_*`` before it, writes
its CaseEvent in the same transaction, and tells plugins and screens only after commit.

The workflow issue adds dispatch, sign-for, reply, review, return, extend, urge, close...
on the same pattern: ``act(ctx, case_id, actor, check, apply)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.actors import Actor
from hotline.core.context import AppContext
from hotline.core.enums import CaseStatus, Priority
from hotline.core.events import CaseEventMessage
from hotline.core.models import Case, CaseEvent, ServiceCategory, utcnow


class ActionRefused(Exception):
    """The change is not allowed now; the message says why. Nothing was written."""


class CaseNotFound(ActionRefused):
    pass


Check = Callable[[AsyncSession, Case], Awaitable[None]]
Apply = Callable[[AsyncSession, Case], Awaitable[tuple[str, dict[str, Any], bool]]]


async def act(ctx: AppContext, case_id: int, actor: Actor, check: Check, apply: Apply) -> Case:
    """Lock the case, check, apply, record the event; commit; then deliver the event."""
    async with ctx.db.transaction() as session:
        case = await session.scalar(select(Case).where(Case.id == case_id).with_for_update())
        if case is None:
            raise CaseNotFound(f"no case {case_id}")
        await check(session, case)
        action, detail, public = await apply(session, case)
        now = utcnow()
        case.updated_at = now
        event = CaseEvent(
            case_id=case.id,
            action=action,
            detail=detail,
            public=public,
            at=now,
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            address=actor.address,
        )
        session.add(event)
        await session.flush()
        message = CaseEventMessage.of(case, event)
    await ctx.events.deliver(ctx, [message])
    return case


def check_open(case: Case) -> None:
    if not CaseStatus(case.status).is_open:
        raise ActionRefused(f"case {case.tracking_number} is closed")


async def do_set_priority(ctx: AppContext, case_id: int, priority: Priority, actor: Actor) -> Case:
    async def check(_s: AsyncSession, case: Case) -> None:
        check_open(case)
        if case.priority == priority:
            raise ActionRefused(f"priority is already {priority}")

    async def apply(_s: AsyncSession, case: Case) -> tuple[str, dict[str, Any], bool]:
        before, case.priority = case.priority, priority
        return "priority_changed", {"from": before, "to": str(priority)}, False

    return await act(ctx, case_id, actor, check, apply)


async def do_classify(ctx: AppContext, case_id: int, category_code: str, actor: Actor) -> Case:
    """Put the case in another service category (the agent's classification)."""
    found: dict[str, ServiceCategory] = {}

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        category = await session.scalar(
            select(ServiceCategory).where(
                ServiceCategory.code == category_code, ServiceCategory.active.is_(True)
            )
        )
        if category is None:
            raise ActionRefused(f"no service category {category_code!r}")
        found["category"] = category

    async def apply(_s: AsyncSession, case: Case) -> tuple[str, dict[str, Any], bool]:
        case.category_id = found["category"].id
        return "classified", {"category": category_code}, False

    return await act(ctx, case_id, actor, check, apply)


async def do_add_note(ctx: AppContext, case_id: int, text: str, actor: Actor) -> Case:
    """An internal note on the case: staff see it, the citizen never does."""

    async def check(_s: AsyncSession, _case: Case) -> None:
        if not text.strip():
            raise ActionRefused("the note is empty")
        if len(text) > 10_000:
            raise ActionRefused("the note is longer than 10000 characters")

    async def apply(_s: AsyncSession, _case: Case) -> tuple[str, dict[str, Any], bool]:
        return "note_added", {"text": text}, False

    return await act(ctx, case_id, actor, check, apply)
