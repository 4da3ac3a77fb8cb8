"""Reply templates: ready answers an agent starts a reply from. Administrators write them in both
languages, for one service or for every service; the case workspace offers those that fit the
case, filled in with the case's number, service and the citizen's name, in the citizen's
language."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases import tracking
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import ReplyTemplate, ServiceCategory

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
FIELDS = ("title_zh", "title_en", "body_zh", "body_en")
LIMITS = {"title_zh": 200, "title_en": 200, "body_zh": 10000, "body_en": 10000}
_SLOT = re.compile(r"\{(number|service|name)\}")


def fill(body: str, values: dict[str, str]) -> str:
    """``body`` with its ``{number}``, ``{service}`` and ``{name}`` slots filled in; any other
    brace is left as written."""
    return _SLOT.sub(lambda m: values.get(m.group(1), ""), body)


async def templates_for(
    session: AsyncSession,
    case: Case,
    citizen_name: str | None,
    service_name: str,
    language: str,
    page_language: str,
) -> list[dict[str, Any]]:
    """The active templates for this case's service and for every service: each titled in the
    agent's language, its text in the citizen's (``language``), filled in."""
    rows = await session.scalars(
        select(ReplyTemplate)
        .where(
            ReplyTemplate.active.is_(True),
            or_(ReplyTemplate.category_id.is_(None), ReplyTemplate.category_id == case.category_id),
        )
        .order_by(ReplyTemplate.category_id.is_(None), ReplyTemplate.id)
    )
    values = {
        "number": tracking.display(case.tracking_number),
        "service": service_name,
        "name": citizen_name or "",
    }
    return [
        {"id": t.id, "title": t.title(page_language), "body": fill(t.body(language), values)}
        for t in rows
    ]


async def _services(request: Req) -> list[ServiceCategory]:
    async with ctx_of(request).db.session() as session:
        return list(
            await session.scalars(
                select(ServiceCategory)
                .where(ServiceCategory.active.is_(True))
                .order_by(ServiceCategory.code)
            )
        )


@get("/console/settings/replies", guards=[requires(Permission.ADMINISTER)])
async def reply_templates(request: Req) -> Response[str]:
    async with ctx_of(request).db.session() as session:
        rows = list(await session.scalars(select(ReplyTemplate).order_by(ReplyTemplate.id)))
    services = await _services(request)
    return render(
        request,
        "admin/reply_templates.html",
        templates=rows,
        services={s.id: s for s in services},
        service_list=services,
        editing=None,
        values={},
        errors=[],
        saved=request.query_params.get("saved"),
    )


@get("/console/settings/replies/{template_id:int}", guards=[requires(Permission.ADMINISTER)])
async def reply_template(request: Req, template_id: FromPath[int]) -> Response[str]:
    async with ctx_of(request).db.session() as session:
        found = await session.get(ReplyTemplate, template_id)
    if found is None:
        raise NotFoundException("no such template")
    values = {f: getattr(found, f) for f in FIELDS}
    values["category"] = str(found.category_id or "")
    values["active"] = found.active
    services = await _services(request)
    return render(
        request,
        "admin/reply_template.html",
        editing=found,
        values=values,
        errors=[],
        service_list=services,
    )


def _check(form: Any, services: set[int]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {f: str(form.get(f, "")).strip() for f in FIELDS}
    values["category"] = str(form.get("category", ""))
    values["active"] = form.get("active") == "on"
    errors = [f for f in FIELDS if len(values[f]) > LIMITS[f]]
    if not (values["title_zh"] or values["title_en"]):
        errors.append("title")
    if not (values["body_zh"] or values["body_en"]):
        errors.append("body")
    if values["category"] and (
        not values["category"].isdigit() or int(values["category"]) not in services
    ):
        errors.append("category")
    return values, errors


@post("/console/settings/replies", guards=[requires(Permission.ADMINISTER)])
async def save_reply_template(request: Req) -> Response[Any]:
    """Add a template, or change one (``id`` in the form); an incomplete form comes back filled
    in, with what is missing said beside it."""
    form = await request.form()
    services = await _services(request)
    values, errors = _check(form, {s.id for s in services})
    template_id = str(form.get("id", ""))
    if errors:
        editing = None
        if template_id.isdigit():
            async with ctx_of(request).db.session() as session:
                editing = await session.get(ReplyTemplate, int(template_id))
        return render(
            request,
            "admin/reply_template.html",
            editing=editing,
            values=values,
            errors=errors,
            service_list=services,
            status=422,
        )
    async with ctx_of(request).db.transaction() as session:
        row = await session.get(ReplyTemplate, int(template_id)) if template_id.isdigit() else None
        if row is None:
            row = ReplyTemplate()
            session.add(row)
        for f in FIELDS:
            setattr(row, f, values[f])
        row.category_id = int(values["category"]) if values["category"] else None
        row.active = values["active"] if template_id.isdigit() else True
    return Redirect("/console/settings/replies?saved=1", status_code=303)
