"""The JSON API (``/api/v1``), a built-in plugin. Public reads only in this release: services,
departments, and a case's public status by tracking number (no personal data, ever)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from pydantic import BaseModel
from sqlalchemy import select

from hotline.core.cases.lookup import public_timeline
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.reference.services import public_services
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.reference import Department


class ServiceOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    reply_limit: int
    reply_limit_unit: str


class DepartmentOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    parent: str | None


class TimelineEntry(BaseModel):
    at: datetime
    action: str


class CaseStatusOut(BaseModel):
    tracking_number: str
    status: str
    received_at: datetime
    reply_deadline: datetime | None
    timeline: list[TimelineEntry]


def _ctx(request: Request[Any, Any, Any]) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


@get("/services", summary="Service categories citizens can choose")
async def list_services(request: Request[Any, Any, Any]) -> list[ServiceOut]:
    rows = await public_services(_ctx(request))
    return [ServiceOut.model_validate(row, from_attributes=True) for row in rows]


@get("/departments", summary="The department tree")
async def list_departments(request: Request[Any, Any, Any]) -> list[DepartmentOut]:
    async with _ctx(request).db.session() as session:
        rows = (await session.scalars(select(Department).where(Department.active.is_(True)))).all()
        codes = {row.id: row.code for row in rows}
        return [
            DepartmentOut(
                code=row.code,
                name_zh=row.name_zh,
                name_en=row.name_en,
                parent=codes.get(row.parent_id) if row.parent_id else None,
            )
            for row in sorted(rows, key=lambda r: r.code)
        ]


@get("/cases/{number:str}/status", summary="A case's public status and timeline")
async def case_status(request: Request[Any, Any, Any], number: FromPath[str]) -> CaseStatusOut:
    """Public timeline only; the number alone never shows personal data or the case's text."""
    found = await public_timeline(_ctx(request).db, number)
    if found is None or found[0].sealed:
        # a letter to the director is answered like an unknown number (as Open311 does): its
        # writer follows it with the lookup code on the portal
        raise NotFoundException("no such case")
    case, events = found
    return CaseStatusOut(
        tracking_number=case.tracking_number,
        status=case.status,
        received_at=case.created_at,
        reply_deadline=case.reply_deadline,
        timeline=[TimelineEntry(at=e.at, action=e.action) for e in events],
    )


@hookimpl
def register_routes() -> list[Router]:
    return [
        Router(
            path="/api/v1",
            route_handlers=[list_services, list_departments, case_status],
            tags=["public"],
        )
    ]
