"""The citizens' portal, a plugin. This release: the home page (services, what the hotline is
for and not for). Submission, lookup and rating forms arrive with the portal issue."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import select

from hotline.core.context import AppContext
from hotline.core.models import ServiceCategory
from hotline.core.web import render
from hotline.plugins.manager import hookimpl


@get("/", include_in_schema=False)
async def home(request: Request[Any, Any, Any]) -> Response[str]:
    ctx: AppContext = request.app.state.ctx
    async with ctx.db.session() as session:
        services = (
            await session.scalars(
                select(ServiceCategory)
                .where(ServiceCategory.active.is_(True), ServiceCategory.public.is_(True))
                .order_by(ServiceCategory.code)
            )
        ).all()
    return render(request, "portal/home.html", services=services)


@hookimpl
def register_routes() -> list[Any]:
    return [home]


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.portal"]
