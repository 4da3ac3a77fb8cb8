"""Supervisors search the audit trail: who read or changed which case or citizen's record,
when, from where."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import select

from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.people import AuditEntry, User
from hotline.core.storage.paging import keyset_page, page_size, sort_of

from .guards import can, ctx_of, requires

Req = Request[Any, Any, Any]


def day(value: str | None, end: bool, tz: Any) -> datetime | None:
    """The start (or end) of a YYYY-MM-DD day in the hotline's time zone; None when not a date."""
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=tz)


@get("/console/audit", guards=[requires(Permission.SUPERVISE)])
async def audit_search(request: Req) -> Response[str]:
    ctx = ctx_of(request)
    params = request.query_params
    query = (
        select(CaseEvent, Case.tracking_number, User.username)
        .join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(User, User.id == CaseEvent.actor_id)
        .where(CaseEvent.actor_kind == "staff")
    )
    if not can(request, Permission.DIRECTOR_MAILBOX):
        # what the director's office does with its letters is not shown outside it (the number
        # itself would tell that it is a letter); break-glass readings are listed below
        query = query.where(Case.sealed.is_(False))
    if params.get("case"):
        query = query.where(Case.tracking_number == params["case"].replace(" ", ""))
    if params.get("user"):
        query = query.where(User.username == params["user"].strip())
    if params.get("action"):
        query = query.where(CaseEvent.action == params["action"])
    since, until = day(params.get("from"), False, ctx.tz), day(params.get("to"), True, ctx.tz)
    records = select(AuditEntry)
    if since:
        query = query.where(CaseEvent.at >= since)
        records = records.where(AuditEntry.at >= since)
    if until:
        query = query.where(CaseEvent.at <= until)
        records = records.where(AuditEntry.at <= until)
    if params.get("user"):
        records = records.where(AuditEntry.actor_label == params["user"].strip())
    order = params.get("order")
    kept = {
        k: params[k] for k in ("case", "user", "action", "from", "to", "order") if params.get(k)
    }
    async with ctx.db.session() as session:
        events = await keyset_page(
            session,
            query,
            sort_of(order, CaseEvent.at, CaseEvent.id),
            after=params.get("after_events"),
            size=page_size(params.get("size")),
        )
        entries = (
            None
            if params.get("case")
            else await keyset_page(
                session,
                records,
                sort_of(order, AuditEntry.at, AuditEntry.id),
                after=params.get("after_entries"),
                size=page_size(params.get("size")),
            )
        )
    return render(
        request,
        "admin/audit.html",
        rows=events.rows,
        events=events,
        entries=entries.scalars() if entries else [],
        entries_page=entries,
        params=params,
        kept=kept,
    )
