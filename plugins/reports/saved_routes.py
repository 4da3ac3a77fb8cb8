"""Reports users keep: the report page's period kind, dates and breakdown under a name, for
themselves or shared with everyone of a role that reads reports; deleted by their owner."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import or_, select

from hotline.admin.guards import ctx_of, requires
from hotline.core.people.permissions import ROLE_GRANTS, Permission
from hotline.core.storage.models.reports import SavedReport

from .report_page import show

Req = Request[Any, Any, Any]
PAGE = "/console/reports"
FIELDS = ("kind", "date", "end", "by", "breakdown", "chart")
SHARED_ROLES = tuple(
    str(role) for role, grants in ROLE_GRANTS.items() if Permission.REPORTS in grants
)


async def visible(ctx: Any, user: Any) -> list[SavedReport]:
    """The user's own saved reports and those shared with their role, by name."""
    async with ctx.db.session() as session:
        return list(
            await session.scalars(
                select(SavedReport)
                .where(
                    or_(SavedReport.owner_id == user.id, SavedReport.shared_with == str(user.role))
                )
                .order_by(SavedReport.name)
            )
        )


@post(f"{PAGE}/saved", guards=[requires(Permission.REPORTS)])
async def save_report(request: Req) -> Response[Any]:
    form = await request.form()
    name = str(form.get("name", "")).strip()[:100]
    shared = str(form.get("shared_with", ""))
    if not name or (shared and shared not in SHARED_ROLES):
        return await show(request, status=400, save_error=True)
    query = {k: str(form.get(k, ""))[:20] for k in FIELDS if form.get(k)}
    async with ctx_of(request).db.transaction() as session:
        session.add(
            SavedReport(
                name=name,
                query=query,
                owner_id=request.scope["state"]["user"].id,
                shared_with=shared or None,
            )
        )
    return Redirect(f"{PAGE}?saved_report=1#saved", status_code=303)


@post(f"{PAGE}/saved/{{report_id:int}}/delete", guards=[requires(Permission.REPORTS)])
async def delete_report(request: Req, report_id: FromPath[int]) -> Response[Any]:
    """Only its owner deletes a saved report."""
    async with ctx_of(request).db.transaction() as session:
        found = await session.get(SavedReport, report_id)
        if found is not None and found.owner_id == request.scope["state"]["user"].id:
            await session.delete(found)
    return Redirect(f"{PAGE}#saved", status_code=303)


def handlers() -> list[Any]:
    return [save_report, delete_report]
