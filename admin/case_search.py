"""The cases list: found by what was said in them (core/cases/search.py) and by filters (status,
date range, department, channel, category, kind, district, the agent who opened it), paged with
the total; for the people who read cases."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import select

from hotline.core.cases.attribution import district_names
from hotline.core.cases.search import SORTS, CaseFilters, search_cases
from hotline.core.people.permissions import Permission, allowed
from hotline.core.reference import labels
from hotline.core.shell.web import render, request_language
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import Department, ServiceCategory
from hotline.core.storage.paging import page_size

from .guards import ctx_of, requires, staff_actor

Req = Request[Any, Any, Any]

FILTERS = (
    "q",
    "status",
    "since",
    "until",
    "department",
    "channel",
    "category",
    "kind",
    "district",
    "agent",
    "sort",
)


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


def filters_of(params: dict[str, str]) -> CaseFilters:
    return CaseFilters(
        status=params["status"] if params["status"] in labels.STATUS else None,
        since=_day(params["since"]),
        until=_day(params["until"]),
        department_id=_number(params["department"]),
        channel=params["channel"][:32] or None,
        category_id=_number(params["category"]),
        kind=params["kind"] if params["kind"] in labels.KIND else None,
        district=params.get("district") or None,
        agent_id=_number(params.get("agent", "")),
    )


@get("/console/cases", guards=[requires(Permission.CASE_READ)])
async def case_search(request: Req) -> Response[str]:
    ctx = ctx_of(request)
    params = {name: request.query_params.get(name, "")[:200].strip() for name in FILTERS}
    async with ctx.db.session() as session:
        districts = await district_names(session)
        agents = [
            (u.id, u.display_name)
            for u in await session.scalars(
                select(User)
                .where(User.role.in_([r for r in Role if allowed(r, Permission.QUEUE_WORK)]))
                .order_by(User.display_name)
            )
        ]
    page = await search_cases(
        ctx,
        params["q"],
        staff_actor(request),
        filters_of(params),
        after=request.query_params.get("after"),
        sort=params["sort"] if params["sort"] in SORTS else "newest",
        size=page_size(request.query_params.get("size")),
    )
    zh = request_language(request).startswith("zh")
    async with ctx.db.session() as session:
        departments = [
            (d.id, d.name_zh if zh else d.name_en)
            for d in await session.scalars(select(Department).order_by(Department.code))
        ]
        categories = [
            (c.id, c.name_zh if zh else c.name_en)
            for c in await session.scalars(select(ServiceCategory).order_by(ServiceCategory.code))
        ]
    return render(
        request,
        "admin/case_search.html",
        query=params["q"],
        params={k: v for k, v in params.items() if v},
        chosen=params,
        page=page,
        found=page.rows,
        departments=departments,
        categories=categories,
        districts=districts,
        agents=agents,
        statuses=list(labels.STATUS),
        kinds=[k for k in labels.KIND if k != "director_mailbox"],
        channels=list(labels.MEDIA),
        block="results",
    )
