"""Dispatch (派单) to a lead department and co-handlers (主办/协办), sign-for (签收), the
department's reply (回复), the hotline's review (审核) and returns (退回).

Every step is a ``do_*`` on the ``act`` pattern of ``core.cases.actions``: refusals first, then the
change and its CaseEvent in one transaction, events delivered after commit. Notices for the
message centre are written in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases.actions import ActionRefused, act, answer_subject, check_open, reply_contact
from hotline.core.cases.replies import queue_reply
from hotline.core.reference.calendar import load_calendar
from hotline.core.reference.deadlines import deadline
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import CaseStatus, Direction
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Attachment, Case, CaseEvent, Interaction
from hotline.core.storage.models.reference import Department, ServiceCategory
from hotline.core.storage.models.workflow import Assignment

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext
from hotline.core.workflow.common import (
    ACCEPTED,
    ACTIVE,
    CLOSED,
    DISPATCHED,
    DONE,
    HOTLINE,
    OPEN_STATES,
    REPLIED,
    RETURNED,
    _assignments,
    _department,
    _Found,
    _mine,
    _text,
    notify,
)

if TYPE_CHECKING:
    from hotline.core.workflow.common import Result


async def do_dispatch(
    ctx: AppContext,
    case_id: int,
    lead: str,
    actor: Actor,
    *,
    co: tuple[str, ...] | list[str] = (),
    instructions: str = "",
    direct_callback: bool = False,
) -> Case:
    """派单: the case goes to ``lead`` (主办) and the co-handlers (协办), each with sign-for
    and reply deadlines from the service category, counted on the working calendar."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        if case.status != CaseStatus.RECEIVED:
            raise ActionRefused(f"case {case.tracking_number} is already with a department")
        if case.merged_into_id is not None:
            raise ActionRefused("a merged case follows the case it was merged into")
        if case.sealed:
            raise ActionRefused("a letter to the director is answered by the director's office")
        if case.category_id is None:
            raise ActionRefused("classify the case before dispatching it")
        codes = [c for c in dict.fromkeys(co) if c and c != lead]
        departments = [await _department(session, c) for c in (lead, *codes)]
        active = {a.department_id for a in await _assignments(session, case) if a.state in ACTIVE}
        found.values.update(
            departments=departments,
            active=active,
            category=await session.get(ServiceCategory, case.category_id),
            instructions=_text(instructions, "instruction", required=False),
        )

    async def apply(session: AsyncSession, case: Case) -> Result:
        category: ServiceCategory = found.values["category"]
        cal = await load_calendar(session, ctx.settings.holidays_country)
        now = utcnow()
        sign_by = deadline(now, category.sign_limit, category.sign_limit_unit, ctx.tz, cal)
        reply_by = deadline(now, category.reply_limit, category.reply_limit_unit, ctx.tz, cal)
        departments: list[Department] = found.values["departments"]
        for number, department in enumerate(departments):
            if number > 0 and department.id in found.values["active"]:
                continue  # a co-handler still working from the earlier dispatch
            session.add(
                Assignment(
                    case_id=case.id,
                    department_id=department.id,
                    lead=number == 0,
                    state=DISPATCHED,
                    instructions=found.values["instructions"],
                    dispatched_at=now,
                    sign_deadline=sign_by,
                    reply_deadline=reply_by,
                )
            )
            notify(session, "dispatched", case, department_id=department.id, at=now)
        case.status = CaseStatus.DISPATCHED
        case.department_id = departments[0].id
        case.sign_deadline, case.reply_deadline = sign_by, reply_by
        case.direct_callback, case.overdue = direct_callback, False
        detail = {"department": lead, "co": [d.code for d in departments[1:]]}
        return "dispatched", detail, True

    return await act(ctx, case_id, actor, check, apply)


async def do_sign_for(ctx: AppContext, case_id: int, department_id: int, actor: Actor) -> Case:
    """签收: the department takes the case up."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        found.values["a"] = await _mine(session, case, department_id, (DISPATCHED,))

    async def apply(_s: AsyncSession, case: Case) -> Result:
        assignment: Assignment = found.values["a"]
        assignment.state, assignment.signed_at = ACCEPTED, utcnow()
        if assignment.lead:
            case.status = CaseStatus.ACCEPTED
        return "signed_for", {"department_id": department_id, "lead": assignment.lead}, True

    return await act(ctx, case_id, actor, check, apply)


@dataclass(frozen=True)
class StoredFile:
    """A file already in the file store (``ctx.files.put``), checked by the caller."""

    sha256: str
    size: int
    content_type: str
    filename: str


async def do_department_reply(
    ctx: AppContext,
    case_id: int,
    department_id: int,
    text: str,
    actor: Actor,
    *,
    files: list[StoredFile] | tuple[StoredFile, ...] = (),
) -> Case:
    """回复: the department's answer, with its files. The lead's reply goes to the hotline for
    review; a co-handler's reply is its part, read by the lead and the hotline. The reply and
    its files are kept as an internal message on the case (never shown to the citizen as is)."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        found.values["a"] = await _mine(session, case, department_id, (ACCEPTED,))
        found.values["text"] = _text(text, "reply")

    async def apply(session: AsyncSession, case: Case) -> Result:
        assignment: Assignment = found.values["a"]
        assignment.state, assignment.replied_at = REPLIED, utcnow()
        assignment.reply_text = found.values["text"]
        message = Interaction(
            case_id=case.id,
            direction=Direction.INTERNAL,
            channel="department",
            text=assignment.reply_text,
            meta={"department_id": department_id, "assignment_id": assignment.id},
            created_at=assignment.replied_at,
        )
        session.add(message)
        await session.flush()
        session.add_all(
            Attachment(
                interaction_id=message.id,
                sha256=f.sha256,
                size=f.size,
                content_type=f.content_type,
                filename=f.filename[:255],
            )
            for f in files
        )
        if assignment.lead:
            case.status = CaseStatus.REPLIED
            notify(session, "reply_to_review", case, role=HOTLINE)
        elif case.department_id is not None:
            notify(session, "co_replied", case, department_id=case.department_id)
        detail = {"department_id": department_id, "lead": assignment.lead}
        return "department_replied", detail, False

    return await act(ctx, case_id, actor, check, apply)


async def do_review(
    ctx: AppContext,
    case_id: int,
    accept: bool,
    actor: Actor,
    *,
    reason: str = "",
    answer: str | None = None,
) -> Case:
    """审核: the hotline accepts the lead's reply (the answer goes to the citizen, and to the
    citizen of every case merged into this one, through the channel each used), or sends it
    back to the department with a reason."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        if case.status != CaseStatus.REPLIED:
            raise ActionRefused(f"case {case.tracking_number} has no reply to review")
        assignments = await _assignments(session, case)
        lead = next((a for a in reversed(assignments) if a.lead and a.state == REPLIED), None)
        if lead is None:
            raise ActionRefused(f"case {case.tracking_number} has no lead department's reply")
        found.values.update(assignments=assignments, lead=lead)
        if accept:
            found.values["answer"] = _text(
                lead.reply_text if answer is None or not answer.strip() else answer, "answer"
            )
        else:
            found.values["reason"] = _text(reason, "reason for sending the reply back")

    async def apply(session: AsyncSession, case: Case) -> Result:
        lead: Assignment = found.values["lead"]
        if not accept:
            lead.state, lead.reason = ACCEPTED, found.values["reason"]
            lead.sent_back += 1
            case.status = CaseStatus.ACCEPTED
            notify(
                session,
                "reply_sent_back",
                case,
                department_id=lead.department_id,
                detail={"reason": found.values["reason"]},
            )
            return "reply_sent_back", {"reason": found.values["reason"]}, False
        now = utcnow()
        for assignment in found.values["assignments"]:
            if assignment.state in OPEN_STATES:
                assignment.state = DONE if assignment.state == REPLIED else CLOSED
        text: str = found.values["answer"]
        merged = list(await session.scalars(select(Case).where(Case.merged_into_id == case.id)))
        for target in (case, *merged):
            contact = await reply_contact(session, target)
            if contact is not None:
                subject = answer_subject(ctx, target)
                await queue_reply(session, target, contact, text, subject)
            target.status, target.answered_at = CaseStatus.ANSWERED, now
            if target is not case:
                detail = {"answer": text, "via": case.tracking_number}
                session.add(CaseEvent.by(actor, target.id, "answered", detail, public=True, at=now))
        return "answered", {"answer": text, "reviewed": True}, True

    # each answer's delivery job was written with it, and goes to a worker after the commit
    return await act(ctx, case_id, actor, check, apply)


async def do_return(
    ctx: AppContext, case_id: int, department_id: int, reason: str, actor: Actor
) -> Case:
    """退回: not this department's matter. The lead's return sends the case back to the hotline
    for dispatch elsewhere; a co-handler's return only ends its part."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        found.values["a"] = await _mine(session, case, department_id, ACTIVE)
        found.values["reason"] = _text(reason, "reason for the return")

    async def apply(session: AsyncSession, case: Case) -> Result:
        assignment: Assignment = found.values["a"]
        assignment.state, assignment.reason = RETURNED, found.values["reason"]
        if assignment.lead:
            case.status, case.department_id = CaseStatus.RECEIVED, None
            notify(session, "returned", case, role=HOTLINE, detail={"reason": assignment.reason})
        elif case.department_id is not None:
            notify(session, "co_returned", case, department_id=case.department_id)
        detail = {
            "department_id": department_id,
            "lead": assignment.lead,
            "reason": assignment.reason,
        }
        return "returned", detail, False

    return await act(ctx, case_id, actor, check, apply)
