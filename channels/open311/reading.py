"""What Open311 GET answers: services, their definitions, and requests (public fields only).

A request shows its service, status, department and times, never the citizen's name,
contacts or words. Its place is published only as the citizen agreed (``public_location`` in
the meta of the case's first message: the portal's consent box; an Open311 app's post), and
then only rounded to ``COARSE_DIGITS`` decimals of a degree (about 100 m); the free-text
address is never published. A director's-mailbox case is never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from hotline.core.reference.services import public_services
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseStatus, Direction
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, Interaction
from hotline.core.storage.models.reference import Department, RoutingRule, ServiceCategory

from .formats import Open311Error, w3c
from .params import Params, parse_date

DEFAULT_DAYS = 90
MAX_RESULTS = 1000
COARSE_DIGITS = 3  # 0.001° of latitude is 111 m
PUBLIC_LOCATION = "public_location"  # meta key: "coarse" when the citizen agreed


def _name(category: ServiceCategory, zh: bool) -> str:
    return category.name_zh if zh else category.name_en


async def services(ctx: AppContext, zh: bool) -> list[dict[str, Any]]:
    """The public services; ``group`` is the parent service's name (else the department's),
    ``keywords`` the routing rules' words for the service."""
    found = await public_services(ctx)
    async with ctx.db.session() as session:
        everything = {c.id: c for c in await session.scalars(select(ServiceCategory))}
        departments = {d.id: d for d in await session.scalars(select(Department))}
        rules = await session.execute(
            select(RoutingRule.category_id, RoutingRule.pattern)
            .where(RoutingRule.kind == "keyword", RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
        keywords: dict[int, list[str]] = {}
        for category_id, pattern in rules:
            if category_id is not None and pattern not in keywords.get(category_id, []):
                keywords.setdefault(category_id, []).append(pattern)
    answer = []
    for category in found:
        parent = everything.get(category.parent_id or 0)
        department = departments.get(category.default_department_id or 0)
        group = (
            _name(parent, zh)
            if parent
            else department.name("zh" if zh else "en")
            if department
            else ""
        )
        answer.append(
            {
                "service_code": category.code,
                "service_name": _name(category, zh),
                "description": category.description_zh if zh else category.description_en,
                "metadata": bool(category.attributes),
                "type": "realtime",
                "keywords": ",".join(keywords.get(category.id, [])),
                "group": group,
            }
        )
    return answer


def definition(category: ServiceCategory, zh: bool) -> dict[str, Any]:
    attributes = []
    for order, attr in enumerate(category.attributes, start=1):
        attributes.append(
            {
                "variable": True,
                "code": str(attr["code"]),
                "datatype": attr.get("datatype", "string"),
                "required": bool(attr.get("required")),
                "datatype_description": attr.get("datatype_description", ""),
                "order": order,
                "description": attr.get("description_zh" if zh else "description_en", ""),
                "values": [
                    {"key": str(v["key"]), "name": v.get("name_zh" if zh else "name_en", "")}
                    for v in attr.get("values", [])
                ],
            }
        )
    return {"service_code": category.code, "attributes": attributes}


async def service_definition(ctx: AppContext, code: str, zh: bool) -> dict[str, Any]:
    for category in await public_services(ctx):
        if category.code == code:
            return definition(category, zh)
    raise Open311Error(404, "service_code not found")


@dataclass
class Window:
    start: datetime
    end: datetime


def window(params: Params, ctx: AppContext) -> Window:
    """start_date and end_date as the specification says: without them the last 90 days;
    one alone spans 90 days from it; both may not span more than 90 days."""
    span = timedelta(days=DEFAULT_DAYS)
    start = parse_date(params.one("start_date"), "start_date", ctx.tz)
    end = parse_date(params.one("end_date"), "end_date", ctx.tz)
    if start is None and end is None:
        end = utcnow()
        start = end - span
    elif start is None:
        assert end is not None
        start = end - span
    elif end is None:
        end = start + span
    if start > end:
        raise Open311Error(400, "start_date must come before end_date")
    if end - start > span:
        raise Open311Error(
            400, f"start_date and end_date may not span more than {DEFAULT_DAYS} days"
        )
    return Window(start, end)


def _statuses(params: Params) -> set[str]:
    wanted = set(params.listed("status"))
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise Open311Error(400, "status must be open, closed, or both (open,closed)")
    return wanted


def _coarse(value: float | None) -> float | None:
    return None if value is None else round(value, COARSE_DIGITS)


def _media_url(meta: dict[str, Any]) -> str | None:
    url = (meta.get("open311") or {}).get("media_url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def _request(
    case: Case,
    first_meta: dict[str, Any],
    categories: dict[int, ServiceCategory],
    departments: dict[int, Department],
    zh: bool,
) -> dict[str, Any]:
    category = categories.get(case.category_id or 0)
    department = departments.get(case.department_id or 0)
    public_place = first_meta.get(PUBLIC_LOCATION) == "coarse"
    has_place = case.latitude is not None and case.longitude is not None
    return {
        "service_request_id": case.tracking_number,
        "status": "closed" if case.status == CaseStatus.CLOSED else "open",
        "status_notes": "",
        "service_name": _name(category, zh) if category else "",
        "service_code": category.code if category else "",
        "description": "",  # the citizen's own words may hold personal data: never published
        "agency_responsible": department.name("zh" if zh else "en") if department else "",
        "service_notice": "",
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.reply_deadline),
        "address": None,  # free text may name a flat or a person: never published
        "address_id": None,
        "zipcode": None,
        "lat": _coarse(case.latitude) if public_place and has_place else None,
        "long": _coarse(case.longitude) if public_place and has_place else None,
        "media_url": _media_url(first_meta),
    }


async def find_requests(
    ctx: AppContext, params: Params, zh: bool, ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """Requests by id (``service_request_id`` overrides every other parameter, as the
    specification says), else by service_code, status and the date window."""
    ids = ids if ids is not None else params.listed("service_request_id")
    query = select(Case).where(Case.sealed.is_(False))
    if ids:
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, f"at most {MAX_RESULTS} service_request_id values")
        query = query.where(Case.tracking_number.in_(ids))
    else:
        span = window(params, ctx)
        query = query.where(Case.created_at >= span.start, Case.created_at <= span.end)
        statuses = _statuses(params)
        if statuses == {"closed"}:
            query = query.where(Case.status == CaseStatus.CLOSED)
        elif statuses == {"open"}:
            query = query.where(Case.status != CaseStatus.CLOSED)
    async with ctx.db.session() as session:
        categories = {c.id: c for c in await session.scalars(select(ServiceCategory))}
        departments = {d.id: d for d in await session.scalars(select(Department))}
        codes = params.listed("service_code") if not ids else []
        if codes:
            wanted = [c.id for c in categories.values() if c.code in codes]
            query = query.where(Case.category_id.in_(wanted))
        cases = list(
            await session.scalars(query.order_by(Case.created_at.desc()).limit(MAX_RESULTS))
        )
        firsts: dict[int, dict[str, Any]] = {}
        if cases:
            rows = await session.execute(
                select(Interaction.case_id, Interaction.meta)
                .where(
                    Interaction.case_id.in_([c.id for c in cases]),
                    Interaction.direction == Direction.IN,
                )
                .order_by(Interaction.id)
            )
            for case_id, meta in rows:
                firsts.setdefault(case_id, meta or {})
    return [_request(c, firsts.get(c.id, {}), categories, departments, zh) for c in cases]
