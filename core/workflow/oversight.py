"""Oversight of a case in progress: extensions (延期) asked and decided, urging (催办) and
supervision (督办)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases.actions import ActionRefused, act, check_open
from hotline.core.reference.calendar import load_calendar
from hotline.core.reference.deadlines import add_working_days
from hotline.core.storage.actors import Actor
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.workflow import Assignment

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext
from hotline.core.workflow.common import (
    ACTIVE,
    MAX_EXTENSION_DAYS,
    _assignments,
    _Found,
    _mine,
    _text,
    notify,
)

if TYPE_CHECKING:
    from hotline.core.workflow.common import Result


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
