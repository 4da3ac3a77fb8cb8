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

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
LIMIT = 200
LISTS = {
    "dispatch": CaseStatus.RECEIVED,
    "review": CaseStatus.REPLIED,
    "evaluate": CaseStatus.ANSWERED,
}


@get("/console/desk", guards=[requires(Permission.CASE_EDIT)])
async def desk(request: Req) -> Response[str]:
    lists: dict[str, list[Case]] = {}
    async with ctx_of(request).db.session() as session:
        for name, status in LISTS.items():
            query = (
                select(Case)
                .where(
                    Case.status == status,
                    Case.sealed.is_(False),
                    Case.merged_into_id.is_(None),
                )
                .options(joinedload(Case.department), joinedload(Case.category))
                .order_by(Case.updated_at)
                .limit(LIMIT)
            )
            if name == "dispatch":
                # handed over or back from a department: classified, no agent working on it
                query = query.where(Case.category_id.is_not(None))
            lists[name] = list(await session.scalars(query))
    return render(request, "admin/desk.html", lists=lists)
