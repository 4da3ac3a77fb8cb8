"""Citizens' records: search by name, phone, e-mail or tracking number; read with their cases;
correct; merge two records of the same person. Every step is audited (core/cases/citizens.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from hotline.core.axd.dialing import case_to_call_on
from hotline.core.cases import citizens
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import parse_id, render

from .guards import can, ctx_of, requires, staff_actor

Req = Request[Any, Any, Any]


@get("/console/citizens", guards=[requires(Permission.CASE_READ)])
async def citizen_search(request: Req) -> Response[str]:
    query = request.query_params.get("q", "")[:200]
    page = await citizens.search(
        ctx_of(request), query, staff_actor(request), after=request.query_params.get("after")
    )
    return render(
        request,
        "admin/citizens.html",
        query=query,
        found=page.rows,
        page=page,
        params={"q": query},
        block="results",
    )


@get("/console/citizens/{citizen_id:int}", guards=[requires(Permission.CASE_READ)])
async def citizen_record(request: Req, citizen_id: FromPath[int]) -> Response[str]:
    record = await citizens.read(
        ctx_of(request), citizen_id, staff_actor(request), after=request.query_params.get("after")
    )
    if record is None:
        raise NotFoundException("no such citizen")
    found, cases = record
    ctx = ctx_of(request)
    dialling = (
        ctx.settings.phone_softphone_ws
        and ctx.settings.phone_trunk
        and can(request, Permission.QUEUE_WORK)
    )
    call_on = await case_to_call_on(ctx, citizen_id) if dialling else None
    return render(
        request,
        "admin/citizen.html",
        call_on=call_on,
        found=found,
        cases=cases.rows,
        cases_page=cases,
        flags=citizens.PRIORITY_FLAGS,
        can_edit=can(request, Permission.CASE_EDIT),
        can_merge=can(request, Permission.CITIZEN_MERGE),
        error=request.query_params.get("error"),
    )


@post("/console/citizens/{citizen_id:int}", guards=[requires(Permission.CASE_EDIT)])
async def citizen_edit(request: Req, citizen_id: FromPath[int]) -> Response[Any]:
    form = await request.form()
    try:
        await citizens.edit(
            ctx_of(request),
            citizen_id,
            staff_actor(request),
            name=str(form.get("name", "")).strip() or None,
            language=str(form.get("language", "")) or None,
            priority=str(form.get("priority", "")) or None,
        )
    except citizens.CitizenRefused:
        return Redirect(f"/console/citizens/{citizen_id}?error=edit", status_code=303)
    return Redirect(f"/console/citizens/{citizen_id}", status_code=303)


@post("/console/citizens/{citizen_id:int}/merge", guards=[requires(Permission.CITIZEN_MERGE)])
async def citizen_merge(request: Req, citizen_id: FromPath[int]) -> Response[Any]:
    form = await request.form()
    other = parse_id(form.get("other"))
    try:
        if other is None:
            raise citizens.CitizenRefused("give the other record's number")
        await citizens.merge(ctx_of(request), citizen_id, other, staff_actor(request))
    except citizens.CitizenRefused:
        return Redirect(f"/console/citizens/{citizen_id}?error=merge", status_code=303)
    return Redirect(f"/console/citizens/{citizen_id}", status_code=303)
