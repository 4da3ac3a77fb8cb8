"""Supervision (督办): supervised cases with their history, overdue cases per department, and
extension requests waiting for a decision. The director's mailbox in counts and deadlines only
(supervisors and administrators never see a letter's content), and break-glass: a supervisor
opens one letter with a stated reason, audited, the director's office told at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import joinedload

from hotline.core.cases import tracking
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.enums import CaseStatus, Role
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.workflow import Assignment
from hotline.core.storage.paging import Page, Sort, keyset_page
from hotline.core.workflow.common import ACTIVE, notify

from .guards import ctx_of, requires, staff_actor
from .workspace import _show

Req = Request[Any, Any, Any]
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


async def mailbox_counts(request: Req) -> dict[str, Any]:
    """The sealed mailbox as numbers: letters by status, and the open ones' deadlines (no
    tracking numbers: outside the office nothing tells which numbers are letters)."""
    async with ctx_of(request).db.session() as session:
        by_status = dict(
            tuple(row)
            for row in await session.execute(
                select(Case.status, func.count()).where(Case.sealed.is_(True)).group_by(Case.status)
            )
        )
        due = await keyset_page(
            session,
            select(Case.reply_deadline, Case.overdue).where(
                Case.sealed.is_(True), Case.status != CaseStatus.CLOSED
            ),
            Sort(by_deadline(Case.reply_deadline), Case.id, ascending=True),
            after=request.query_params.get("after_due"),
        )
    return {"by_status": by_status, "due": due.rows, "due_page": due}


def by_deadline(column: Any) -> Any:
    """A deadline as a sort key: none set sorts last (keyset paging needs a value)."""
    return func.coalesce(column, literal(NO_DEADLINE, column.type))


@get("/console/supervision", guards=[requires(Permission.SUPERVISE)])
async def supervision(request: Req) -> Response[str]:
    after = request.query_params.get
    async with ctx_of(request).db.session() as session:
        supervised = await keyset_page(
            session,
            select(Case).where(Case.supervised.is_(True), Case.sealed.is_(False)),
            Sort(by_deadline(Case.reply_deadline), Case.id, ascending=True),
            after=after("after_supervised"),
        )
        overdue = await keyset_page(
            session,
            select(Assignment)
            .where(Assignment.overdue.is_(True), Assignment.state.in_(ACTIVE))
            .options(joinedload(Assignment.case), joinedload(Assignment.department)),
            Sort(by_deadline(Assignment.reply_deadline), Assignment.id, ascending=True),
            after=after("after_overdue"),
        )
        per_department = list(
            tuple(row)
            for row in await session.execute(
                select(Department.code, Department.name_zh, Department.name_en, func.count())
                .join(Assignment, Assignment.department_id == Department.id)
                .where(Assignment.overdue.is_(True), Assignment.state.in_(ACTIVE))
                .group_by(Department.code, Department.name_zh, Department.name_en)
                .order_by(func.count().desc())
            )
        )
        extensions = await keyset_page(
            session,
            select(Assignment)
            .where(Assignment.extension_state == "requested", Assignment.state.in_(ACTIVE))
            .options(joinedload(Assignment.case), joinedload(Assignment.department)),
            Sort(Assignment.id, Assignment.id, ascending=True),
            after=after("after_extensions"),
        )
    return render(
        request,
        "admin/supervision.html",
        supervised=supervised.scalars(),
        overdue=overdue.scalars(),
        per_department=per_department,
        extensions=extensions.scalars(),
        pages={"supervised": supervised, "overdue": overdue, "extensions": extensions},
        mailbox=await mailbox_counts(request),
    )


@get("/console/mailbox", guards=[requires(Permission.MAILBOX_COUNTS)])
async def mailbox_overview(request: Req) -> Response[str]:
    """The director's office: its letters. Supervisors and administrators: counts and
    deadlines only."""
    permissions = request.scope["state"]["permissions"]
    letters: Page[Any] | None = None
    if Permission.DIRECTOR_MAILBOX in permissions:
        async with ctx_of(request).db.session() as session:
            letters = await keyset_page(  # the open letters first, then the newest
                session,
                select(Case).where(Case.sealed.is_(True)),
                Sort(case((Case.status != CaseStatus.CLOSED, 1), else_=0), Case.id),
                after=request.query_params.get("after"),
            )
    return render(
        request,
        "admin/mailbox.html",
        letters=letters.scalars() if letters else [],
        letters_page=letters,
        full=Permission.DIRECTOR_MAILBOX in permissions,
        can_break_glass=Permission.SUPERVISE in permissions,
        mailbox=await mailbox_counts(request),
    )


@post("/console/break-glass", guards=[requires(Permission.SUPERVISE)])
async def break_glass(request: Req) -> Response[Any]:
    """Open one letter: a reason is required; the reading is audited on the letter and in the
    audit trail, and the director's office is told at once."""
    form = await request.form()
    reason = str(form.get("reason", "")).strip()[:1000]
    number = tracking.clean(str(form.get("number", "")))
    if not reason:
        return Redirect("/console/mailbox?error=reason", status_code=303)
    ctx, actor = ctx_of(request), staff_actor(request)
    async with ctx.db.transaction() as session:
        case = await session.scalar(
            select(Case).where(Case.tracking_number == number, Case.sealed.is_(True))
        )
        if case is None:  # every attempt is kept, the ones that found no letter too
            audit(session, actor, "break_glass_refused", None, reason=reason)
            return Redirect("/console/mailbox?error=number", status_code=303)
        session.add(CaseEvent.by(actor, case.id, "break_glass", {"reason": reason}))
        audit(session, actor, "break_glass", case.citizen_id, case=number, reason=reason)
        notify(
            session,
            "break_glass",
            case,
            role=Role.DIRECTOR_OFFICE,
            detail={"by": actor.label, "reason": reason},
        )
    return await _show(request, case, glass=reason)
