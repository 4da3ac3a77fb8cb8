"""The hotline's workflow desk: cases waiting for the hotline's next step. To dispatch (handed
over, returned by a department, or reopened), replies to review, and answers waiting for the
callback and evaluation; oldest first, overdue marked."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.cases import Case
from hotline.core.storage.paging import Page, keyset_page, sort_of

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
LISTS = {
    "dispatch": CaseStatus.RECEIVED,
    "review": CaseStatus.REPLIED,
    "evaluate": CaseStatus.ANSWERED,
}


def desk_conditions(name: str) -> list[Any]:
    """Which cases a desk list holds (also what its export writes, plugins/reports)."""
    found = [Case.status == LISTS[name], Case.sealed.is_(False), Case.merged_into_id.is_(None)]
    if name == "dispatch":
        # handed over or back from a department: classified, no agent working on it
        found.append(Case.category_id.is_not(None))
    return found


@get("/console/desk", guards=[requires(Permission.CASE_EDIT)])
async def desk(request: Req) -> Response[str]:
    lists: dict[str, list[Case]] = {}
    pages: dict[str, Page[Any]] = {}
    order = request.query_params.get("order")
    async with ctx_of(request).db.session() as session:
        for name in LISTS:
            query = (
                select(Case)
                .where(*desk_conditions(name))
                .options(joinedload(Case.department), joinedload(Case.category))
            )
            pages[name] = await keyset_page(
                session,
                query,
                sort_of(order, Case.updated_at, Case.id, ascending=True),  # oldest first
                after=request.query_params.get(f"after_{name}"),
            )
            lists[name] = pages[name].scalars()
    params = {"order": order} if order in ("asc", "desc") else {}
    return render(request, "admin/desk.html", lists=lists, pages=pages, params=params)
