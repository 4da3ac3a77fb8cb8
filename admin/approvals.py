"""The director's office approves or refuses changes of rights that concern it (core.people.separation):
a pending request from an administrator, decided by a second person of the office (not the
one who asked, not the one concerned). An approved reset's new password is shown here, once,
to the person of the office who approved it, who hands it to their colleague."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import ClientException
from litestar.params import FromPath
from sqlalchemy import case, select
from sqlalchemy.orm import aliased

from hotline.core.people.permissions import Permission
from hotline.core.people.rights import RightsRefused
from hotline.core.people.separation import PENDING, decide
from hotline.core.shell.web import render
from hotline.core.storage.models.people import AccountRequest, User
from hotline.core.storage.models.reference import Department
from hotline.core.storage.paging import Sort, keyset_page

from .guards import ctx_of, requires, staff_actor

Req = Request[Any, Any, Any]


async def _page(
    request: Req, *, password: tuple[str, str] | None = None, error: str | None = None
) -> Response[str]:
    asker, concerned = aliased(User), aliased(User)
    async with ctx_of(request).db.session() as session:
        # the pending requests first, then the decided ones, newest first
        page = await keyset_page(
            session,
            select(AccountRequest, asker.username, concerned.username)
            .join(asker, asker.id == AccountRequest.requested_by)
            .outerjoin(concerned, concerned.id == AccountRequest.user_id),
            Sort(case((AccountRequest.state == PENDING, 1), else_=0), AccountRequest.id),
            after=request.query_params.get("after"),
        )
        departments = {d.id: d for d in await session.scalars(select(Department))}
    return render(
        request,
        "admin/approvals.html",
        rows=page.rows,
        page=page,
        departments=departments,
        me=request.scope["state"]["user"].id,
        password=password,
        error=error,
        status={"decided": 409, "missing": 404, "same_person": 403}.get(error or "", 400)
        if error
        else 200,
    )


@get("/console/approvals", guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)])
async def approvals(request: Req) -> Response[str]:
    return await _page(request)


@post(
    "/console/approvals/{request_id:int}/{decision:str}",
    guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)],
)
async def approval_decide(
    request: Req, request_id: FromPath[int], decision: FromPath[str]
) -> Response[str]:
    if decision not in ("approve", "refuse"):
        raise ClientException("approve or refuse")
    try:
        outcome = await decide(
            ctx_of(request), staff_actor(request), request_id, decision == "approve"
        )
    except RightsRefused as refused:
        return await _page(request, error=refused.code)
    shown = (outcome.username, outcome.password) if outcome.password and outcome.username else None
    return await _page(request, password=shown)
