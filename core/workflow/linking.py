"""Cases that belong together or apart: merge, link and split."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases import tracking
from hotline.core.cases.actions import ActionRefused, act, check_open
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent, CaseLink
from hotline.core.storage.models.reference import ServiceCategory

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext
from hotline.core.workflow.common import CLOSED, OPEN_STATES, _assignments, _Found, _text

if TYPE_CHECKING:
    from hotline.core.workflow.common import Result


async def _other(session: AsyncSession, number: str, case: Case) -> Case:
    other = await session.scalar(
        select(Case).where(Case.tracking_number == tracking.clean(number)).with_for_update()
    )
    if other is None or (other.sealed and not case.sealed):
        # a hotline case never learns that a number is a letter to the director: the same
        # answer as for a number that does not exist
        raise ActionRefused(f"no case {number}")
    if other.id == case.id:
        raise ActionRefused("that is this case")
    if other.sealed != case.sealed:
        raise ActionRefused("a letter to the director stays apart from the hotline's cases")
    return other


async def do_merge(ctx: AppContext, case_id: int, into: str, actor: Actor) -> Case:
    """Many callers, one pothole: this case follows case ``into``; its citizen is told now and
    receives the answer when that case is answered. Its own work stops."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        if case.status == CaseStatus.ANSWERED or case.merged_into_id is not None:
            raise ActionRefused(f"case {case.tracking_number} cannot be merged now")
        target = await _other(session, into, case)
        if not CaseStatus(target.status).is_open or target.merged_into_id is not None:
            raise ActionRefused(f"case {target.tracking_number} is closed or merged itself")
        if target.status == CaseStatus.ANSWERED:
            raise ActionRefused(f"case {target.tracking_number} is already answered")
        if await session.scalar(select(Case.id).where(Case.merged_into_id == case.id).limit(1)):
            raise ActionRefused("other cases follow this one: merge the other way")
        found.values.update(target=target, assignments=await _assignments(session, case))

    async def apply(session: AsyncSession, case: Case) -> Result:
        target: Case = found.values["target"]
        for assignment in found.values["assignments"]:
            if assignment.state in OPEN_STATES:
                assignment.state = CLOSED
        case.merged_into_id, case.status = target.id, target.status
        case.department_id = target.department_id
        session.add(CaseEvent.by(actor, target.id, "merged_from", {"case": case.tracking_number}))
        return "merged", {"into": target.tracking_number}, True

    return await act(ctx, case_id, actor, check, apply)


async def do_link(ctx: AppContext, case_id: int, other: str, actor: Actor) -> Case:
    """Related cases, each shown on the other's page."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        target = await _other(session, other, case)
        known = await session.scalar(
            select(CaseLink.id).where(
                ((CaseLink.case_id == case.id) & (CaseLink.other_id == target.id))
                | ((CaseLink.case_id == target.id) & (CaseLink.other_id == case.id))
            )
        )
        if known is not None:
            raise ActionRefused("the cases are linked already")
        found.values["target"] = target

    async def apply(session: AsyncSession, case: Case) -> Result:
        target: Case = found.values["target"]
        session.add(CaseLink(case_id=case.id, other_id=target.id, kind="related"))
        return "linked", {"case": target.tracking_number}, False

    return await act(ctx, case_id, actor, check, apply)


async def do_split(
    ctx: AppContext, case_id: int, text: str, category_code: str, actor: Actor
) -> Case:
    """A case that holds two matters: ``text`` becomes a new case of the same citizen, in
    ``category_code``, received now and linked to this one. Returns the new case."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        if case.sealed:
            raise ActionRefused("a letter to the director is not split")
        category = await session.scalar(
            select(ServiceCategory).where(
                ServiceCategory.code == category_code, ServiceCategory.active.is_(True)
            )
        )
        if category is None:
            raise ActionRefused(f"no service category {category_code!r}")
        found.values.update(category=category, text=_text(text, "text of the new case"))

    async def apply(session: AsyncSession, case: Case) -> Result:
        now = utcnow()
        part = Case(
            tracking_number=tracking.new_tracking_number(now),
            kind=case.kind,
            category_id=found.values["category"].id,
            status=CaseStatus.RECEIVED,
            priority=case.priority,
            language=case.language,
            first_channel=case.first_channel,
            citizen_id=case.citizen_id,
            subject=case.subject,
            description=found.values["text"],
            location_text=case.location_text,
            contact_hidden=case.contact_hidden,
            created_at=now,
            updated_at=now,
        )
        session.add(part)
        await session.flush()
        session.add(CaseLink(case_id=case.id, other_id=part.id, kind="split"))
        detail = {"split_from": case.tracking_number, "channel": case.first_channel}
        session.add(CaseEvent.by(actor, part.id, "received", detail, public=True, at=now))
        found.values["part"] = part.id
        return "split", {"case": part.tracking_number}, True

    await act(ctx, case_id, actor, check, apply)
    async with ctx.db.session() as session:
        part = await session.get(Case, found.values["part"])
    assert part is not None
    return part
