"""The government case workflow: dispatch (派单) to a lead department and co-handlers (主办/
协办), sign-for (签收), the department's reply (回复), the hotline's review (审核), the answer to
the citizen, evaluation (回访/评价) and closing (办结); returns (退回), extensions (延期),
urging (催办), supervision (督办), reopen (重办), merge, split and link.

Every step is a ``do_*`` on the ``act`` pattern of ``core.actions``: refusals first, then the
change and its CaseEvent in one transaction, events delivered after commit. Notices for the
message centre are written in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases import tracking
from hotline.core.cases.actions import (
    MAX_TEXT,
    ActionRefused,
    act,
    answer_subject,
    check_open,
    reply_contact,
)
from hotline.core.cases.replies import queue_reply
from hotline.core.reference.calendar import load_calendar
from hotline.core.reference.deadlines import add_working_days, deadline
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import CaseStatus, Direction, Satisfaction
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Attachment, Case, CaseEvent, CaseLink, Interaction
from hotline.core.storage.models.reference import Department, ServiceCategory
from hotline.core.storage.models.workflow import Assignment, Notice

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

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


async def do_request_extension(
    ctx: AppContext, case_id: int, department_id: int, days: int, reason: str, actor: Actor
) -> Case:
    """延期: the department asks for ``days`` more working days; a supervisor decides."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        assignment = await _mine(session, case, department_id, ACTIVE)
        if assignment.extension_state == "requested":
            raise ActionRefused("an extension is already waiting for a decision")
        if not 1 <= days <= MAX_EXTENSION_DAYS:
            raise ActionRefused(f"ask for 1 to {MAX_EXTENSION_DAYS} working days")
        found.values.update(a=assignment, reason=_text(reason, "reason for the extension"))

    async def apply(session: AsyncSession, case: Case) -> Result:
        assignment: Assignment = found.values["a"]
        assignment.extension_state, assignment.extension_days = "requested", days
        assignment.extension_reason = found.values["reason"]
        notify(session, "extension_requested", case, role="supervisor", detail={"days": days})
        detail = {
            "department_id": department_id,
            "days": days,
            "reason": assignment.extension_reason,
        }
        return "extension_requested", detail, False

    return await act(ctx, case_id, actor, check, apply)


async def do_decide_extension(
    ctx: AppContext, case_id: int, department_id: int, approve: bool, actor: Actor
) -> Case:
    """A supervisor approves (the reply deadline moves by the working days asked) or refuses."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        assignment = await _mine(session, case, department_id, ACTIVE)
        if assignment.extension_state != "requested":
            raise ActionRefused("no extension is waiting for a decision")
        found.values["a"] = assignment

    async def apply(session: AsyncSession, case: Case) -> Result:
        assignment: Assignment = found.values["a"]
        days = assignment.extension_days or 0
        detail: dict[str, Any] = {"department_id": department_id, "days": days}
        if approve:
            cal = await load_calendar(session, ctx.settings.holidays_country)
            base = assignment.reply_deadline or utcnow()
            assignment.reply_deadline = add_working_days(base, days, ctx.tz, cal)
            assignment.overdue = False
            if assignment.lead:
                case.reply_deadline, case.overdue = assignment.reply_deadline, False
            detail["until"] = assignment.reply_deadline.isoformat()
        assignment.extension_state = "approved" if approve else "refused"
        notify(
            session,
            "extension_" + assignment.extension_state,
            case,
            department_id=department_id,
            detail=detail,
        )
        return "extension_" + assignment.extension_state, detail, False

    return await act(ctx, case_id, actor, check, apply)


async def do_urge(
    ctx: AppContext, case_id: int, text: str, actor: Actor, *, department_id: int | None = None
) -> Case:
    """催办: an urging message to the departments still working on the case (or one of them)."""
    found = _Found()

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        working = [
            a
            for a in await _assignments(session, case)
            if a.state in ACTIVE and department_id in (None, a.department_id)
        ]
        if not working:
            raise ActionRefused(f"no department is working on case {case.tracking_number}")
        found.values.update(working=working, text=_text(text, "urging message"))

    async def apply(session: AsyncSession, case: Case) -> Result:
        for assignment in found.values["working"]:
            assignment.urged += 1
            notify(
                session,
                "urged",
                case,
                department_id=assignment.department_id,
                detail={"text": found.values["text"]},
            )
        ids = [a.department_id for a in found.values["working"]]
        return "urged", {"department_ids": ids, "text": found.values["text"]}, False

    return await act(ctx, case_id, actor, check, apply)


async def do_supervise(
    ctx: AppContext, case_id: int, note: str, actor: Actor, *, on: bool = True
) -> Case:
    """督办: a supervisor flags a case (overdue, major); it shows on the supervision list."""
    found = _Found()

    async def check(_s: AsyncSession, case: Case) -> None:
        if case.supervised == on:
            raise ActionRefused("already supervised" if on else "not supervised")
        found.values["note"] = _text(note, "note", required=on)

    async def apply(session: AsyncSession, case: Case) -> Result:
        case.supervised = on
        if on and case.department_id is not None:
            notify(
                session,
                "supervised",
                case,
                department_id=case.department_id,
                detail={"note": found.values["note"]},
            )
        action = "supervised" if on else "supervision_ended"
        return action, {"note": found.values["note"]}, False

    return await act(ctx, case_id, actor, check, apply)


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
