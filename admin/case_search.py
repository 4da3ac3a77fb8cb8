"""Cases found by what was said in them (core/cases/search.py): for the people who read cases."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from hotline.core.cases.search import search_cases
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render

from .guards import ctx_of, requires, staff_actor

Req = Request[Any, Any, Any]


@get("/console/cases", guards=[requires(Permission.CASE_READ)])
async def case_search(request: Req) -> Response[str]:
    query = request.query_params.get("q", "")[:200].strip()
    found = await search_cases(ctx_of(request), query, staff_actor(request)) if query else []
    return render(request, "admin/case_search.html", query=query, found=found, block="results")
