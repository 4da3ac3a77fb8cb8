"""Ignored mail and duplicates, for staff: what made no case, with the reason, kept for
``HOTLINE_MAIL_TRACE_DAYS`` and then purged. A person reads one as it came and makes a case of
one wrongly ignored (a citizen's reply marked bulk, an out-of-office that says more).

The hotline's agents and supervisors see the public and fax mailboxes' traces
(``/console/mail/ignored``; making a case needs ``case.edit``); the director's mailbox's traces
are the director's office's alone (``/console/mail/director``). Departments see none. Every
opening of a list or of a message is written to the audit trail.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.intake.traces import DUPLICATE, made_case
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.reference.labels import N_
from hotline.core.shell.web import render
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.intake import MessageTrace
from hotline.core.storage.paging import Sort, keyset_page

from .charsets import decode_text
from .process import process_message

Req = Request[Any, Any, Any]
LIMIT = 100  # a page
DIRECTOR = "director"
REASONS = {
    "auto_reply": N_("Auto-reply"),
    "bulk": N_("Bulk mail"),
    "list": N_("Mailing list"),
    "report": N_("Delivery or read report"),
    "bounce": N_("Bounce"),
    "loop": N_("Our own mail"),
    "duplicate": N_("Second copy"),
}
MAILBOXES = {
    "public": N_("Public mailbox"),
    "director": N_("The director's mailbox"),
    "fax": N_("Fax mailbox"),
}
PUBLIC_BASE, DIRECTOR_BASE = "/console/mail/ignored", "/console/mail/director"


def _sealed(base: str) -> bool:
    return base == DIRECTOR_BASE


async def _list(request: Req, base: str) -> Response[str]:
    ctx = ctx_of(request)
    reason = request.query_params.get("reason") or ""
    search = (request.query_params.get("q") or "").strip()[:100]
    query = select(MessageTrace)
    sealed = MessageTrace.source == DIRECTOR
    query = query.where(sealed if _sealed(base) else ~sealed)
    if reason:
        query = query.where(MessageTrace.reason == reason)
    if search:  # a citizen asks after their mail: by address or subject
        like = f"%{search.replace('%', '').replace('_', '')}%"
        query = query.where(MessageTrace.sender.ilike(like) | MessageTrace.subject.ilike(like))
    async with ctx.db.transaction() as session:
        page = await keyset_page(
            session,
            query,
            Sort(MessageTrace.last_seen_at, MessageTrace.id),
            after=request.query_params.get("after"),
            size=LIMIT,
        )
        rows = page.scalars()
        cases = {r.case_id for r in rows if r.case_id}
        found = await session.execute(
            select(Case.id, Case.tracking_number).where(Case.id.in_(cases))
        )
        numbers = {case_id: number for case_id, number in found}
        audit(
            session,
            staff_actor(request),
            "traces_listed",
            None,
            mailbox=base,
            shown=len(rows),
            reason=reason,
            search=search,
        )
    return render(
        request,
        "email/traces.html",
        rows=rows,
        reasons=REASONS,
        mailboxes=MAILBOXES,
        numbers=numbers,
        base=base,
        reason=reason,
        search=search,
        page=page,
        params={k: v for k, v in (("reason", reason), ("q", search)) if v},
        sealed=_sealed(base),
        days=ctx.settings.mail_trace_days,
        may_make=_sealed(base) or Permission.CASE_EDIT in request.scope["state"]["permissions"],
        error=request.query_params.get("error"),
    )


async def _trace(request: Req, base: str, trace_id: int) -> tuple[MessageTrace, bytes]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        row = await session.get(MessageTrace, trace_id)
    if row is None or (row.source == DIRECTOR) != _sealed(base):
        raise NotFoundException("no such message")
    raw = await anyio.to_thread.run_sync(ctx.files.get, row.sha256)
    return row, raw


async def _read(request: Req, base: str, trace_id: int) -> Response[str]:
    row, raw = await _trace(request, base, trace_id)
    async with ctx_of(request).db.transaction() as session:
        audit(session, staff_actor(request), "trace_read", None, trace=row.id, mailbox=row.source)
    text = decode_text(raw)[:200_000]
    return render(
        request,
        "email/trace.html",
        row=row,
        text=text,
        base=base,
        reasons=REASONS,
        mailboxes=MAILBOXES,
    )


async def _make_case(request: Req, base: str, trace_id: int) -> Response[Any]:
    """The message taken as a citizen's writing, through the same path as any mail."""
    ctx, actor = ctx_of(request), staff_actor(request)
    row, raw = await _trace(request, base, trace_id)
    if row.state != "kept" or row.reason == DUPLICATE:
        return Redirect(f"{base}?error=resolved", status_code=303)
    outcome = await process_message(
        ctx, raw, purpose=row.source, by_person={"made_by": actor.label, "trace": row.id}
    )
    if outcome.case_id is None:  # held for a person: the reason is on the held list
        return Redirect(f"{base}?error={outcome.kind}", status_code=303)
    await made_case(ctx, row.id, outcome.case_id, actor)
    target = "/console/mailbox/" if _sealed(base) else "/console/cases/"
    return Redirect(f"{target}{outcome.tracking_number}", status_code=303)


@get(PUBLIC_BASE, guards=[requires(Permission.CASE_READ)])
async def traces(request: Req) -> Response[str]:
    return await _list(request, PUBLIC_BASE)


@get(PUBLIC_BASE + "/{trace_id:int}", guards=[requires(Permission.CASE_READ)])
async def trace(request: Req, trace_id: FromPath[int]) -> Response[str]:
    return await _read(request, PUBLIC_BASE, trace_id)


@post(PUBLIC_BASE + "/{trace_id:int}/case", guards=[requires(Permission.CASE_EDIT)])
async def trace_case(request: Req, trace_id: FromPath[int]) -> Response[Any]:
    return await _make_case(request, PUBLIC_BASE, trace_id)


@get(DIRECTOR_BASE, guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)])
async def director_traces(request: Req) -> Response[str]:
    return await _list(request, DIRECTOR_BASE)


@get(
    DIRECTOR_BASE + "/{trace_id:int}",
    guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)],
)
async def director_trace(request: Req, trace_id: FromPath[int]) -> Response[str]:
    return await _read(request, DIRECTOR_BASE, trace_id)


@post(
    DIRECTOR_BASE + "/{trace_id:int}/case",
    guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)],
)
async def director_trace_case(request: Req, trace_id: FromPath[int]) -> Response[Any]:
    return await _make_case(request, DIRECTOR_BASE, trace_id)


CONSOLE_ROUTES = [
    traces,
    trace,
    trace_case,
    director_traces,
    director_trace,
    director_trace_case,
]
