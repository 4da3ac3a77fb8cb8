"""The end of a case: the citizen's evaluation (回访/评价), closing (办结) and reopening (重办)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases.actions import ActionRefused, act
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import CaseStatus, Satisfaction
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext
from hotline.core.workflow.common import HOTLINE, _Found, _text, notify

if TYPE_CHECKING:
    from hotline.core.workflow.common import Result


async def do_evaluate(
    ctx: AppContext,
    case_id: int,
    satisfaction: Satisfaction,
    actor: Actor,
    *,
    via: str = "call",
    comment: str = "",
) -> Case:
    """回访/评价: the citizen's evaluation, taken by an agent's call, an SMS or the portal; the
    answered case is closed (办结). Not satisfied: the hotline may reopen it within the days."""
    found = _Found()

    async def check(_s: AsyncSession, case: Case) -> None:
        if case.status != CaseStatus.ANSWERED:
            raise ActionRefused(f"case {case.tracking_number} is not waiting for an evaluation")
        found.values["comment"] = _text(comment, "comment", required=False)

    async def apply(session: AsyncSession, case: Case) -> Result:
        now = utcnow()
        case.satisfaction = satisfaction
        case.status, case.closed_at = CaseStatus.CLOSED, now
        if satisfaction == Satisfaction.NOT_SATISFIED:
            notify(session, "not_satisfied", case, role=HOTLINE)
        detail = {"satisfaction": str(satisfaction), "via": via, "comment": found.values["comment"]}
        return "evaluated", detail, True

    return await act(ctx, case_id, actor, check, apply)


async def do_close(ctx: AppContext, case_id: int, actor: Actor, *, reason: str = "") -> Case:
    """办结 without an evaluation (the citizen could not be reached in the days allowed)."""

    async def check(_s: AsyncSession, case: Case) -> None:
        if case.status != CaseStatus.ANSWERED:
            raise ActionRefused(f"case {case.tracking_number} is not answered yet")

    async def apply(_s: AsyncSession, case: Case) -> Result:
        case.status, case.closed_at = CaseStatus.CLOSED, utcnow()
        return "closed", {"reason": reason[:500]}, True

    return await act(ctx, case_id, actor, check, apply)


async def do_reopen(ctx: AppContext, case_id: int, reason: str, actor: Actor) -> Case:
    """重办: the answer did not settle it; within the allowed days the case goes back to the
    hotline for dispatch again, its history kept."""
    found = _Found()

    async def check(_s: AsyncSession, case: Case) -> None:
        if case.status not in (CaseStatus.ANSWERED, CaseStatus.CLOSED):
            raise ActionRefused(f"case {case.tracking_number} has not been answered")
        if case.merged_into_id is not None:
            raise ActionRefused("reopen the case this one was merged into")
        answered = case.answered_at or case.closed_at or case.updated_at
        if utcnow() - answered > timedelta(days=ctx.settings.reopen_days):
            raise ActionRefused(f"more than {ctx.settings.reopen_days} days since the answer")
        found.values["reason"] = _text(reason, "reason")

    async def apply(_s: AsyncSession, case: Case) -> Result:
        case.status, case.department_id = CaseStatus.RECEIVED, None
        case.closed_at = case.answered_at = case.satisfaction = None
        case.reopened += 1
        return "reopened", {"reason": found.values["reason"], "times": case.reopened}, True

    return await act(ctx, case_id, actor, check, apply)
