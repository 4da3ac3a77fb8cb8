"""Open311 GeoReport v2 under ``/open311/v2/`` and the discovery document at ``/open311/``.

GET answers carry public fields only: no names, contacts or the citizen's own words, and no
director's-mailbox case at all. Posting needs an API key (``hotline api-key add NAME``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath
from sqlalchemy import select

from hotline.core.apikeys import check_key
from hotline.core.context import AppContext
from hotline.core.enums import CaseStatus
from hotline.core.intake import receive
from hotline.core.models import Case, Department, ServiceCategory, utcnow
from hotline.core.services import public_services
from hotline.core.submission import IntakeRefused, parse_submission
from hotline.core.web import request_language

from .formats import Open311Error, answer, error, split_format, w3c

Req = Request[Any, Any, Any]
SPEC = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_DAYS = 90
MAX_RESULTS = 1000
ATTRIBUTE_TAGS = {"attributes": "attribute", "values": "value", "keywords": "keyword"}


def _ctx(request: Req) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _zh(request: Req) -> bool:
    return request_language(request).startswith("zh")


def _service(category: ServiceCategory, zh: bool) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name_zh if zh else category.name_en,
        "description": category.description_zh if zh else category.description_en,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


def _definition(category: ServiceCategory, zh: bool) -> dict[str, Any]:
    attributes = []
    for order, attr in enumerate(category.attributes, start=1):
        attributes.append(
            {
                "variable": True,
                "code": attr["code"],
                "datatype": attr.get("datatype", "string"),
                "required": bool(attr.get("required")),
                "datatype_description": attr.get("datatype_description", ""),
                "order": order,
                "description": attr.get("description_zh" if zh else "description_en", ""),
                "values": [
                    {"key": v["key"], "name": v.get("name_zh" if zh else "name_en", "")}
                    for v in attr.get("values", [])
                ],
            }
        )
    return {"service_code": category.code, "attributes": attributes}


def _status(case: Case) -> str:
    return "closed" if case.status == CaseStatus.CLOSED else "open"


def _request(
    case: Case, categories: dict[int, ServiceCategory], departments: dict[int, Department], zh: bool
) -> dict[str, Any]:
    category = categories.get(case.category_id or 0)
    department = departments.get(case.department_id or 0)
    return {
        "service_request_id": case.tracking_number,
        "status": _status(case),
        "status_notes": "",
        "service_name": (category.name_zh if zh else category.name_en) if category else "",
        "service_code": category.code if category else "",
        "description": "",  # the citizen's own words may hold personal data: never published
        "agency_responsible": department.name("zh" if zh else "en") if department else "",
        "service_notice": "",
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.reply_deadline),
        "address": case.location_text or "",
        "address_id": "",
        "zipcode": "",
        "lat": case.latitude,
        "long": case.longitude,
        "media_url": "",
    }


@get("/open311/{name:str}")
async def discovery(request: Req, name: FromPath[str]) -> Response[Any]:
    stem, fmt = split_format(name)
    if stem != "discovery":
        raise Open311Error(404, "not found")
    ctx = _ctx(request)
    base = (ctx.settings.public_url or str(request.base_url)).rstrip("/")
    data = {
        "changeset": "2026-11-23T00:00:00Z",
        "contact": "Civic Hotline",
        "key_service": "Ask the hotline's administrator for an API key.",
        "endpoints": [
            {
                "specification": SPEC,
                "url": f"{base}/open311/v2",
                "changeset": "2026-11-23T00:00:00Z",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return answer(
        fmt, data, "discovery", None, item_tags={"endpoints": "endpoint", "formats": "format"}
    )


@get("/open311/v2/{name:str}")
async def collection(request: Req, name: FromPath[str]) -> Response[Any]:
    stem, fmt = split_format(name)
    ctx = _ctx(request)
    if stem == "services":
        services = [_service(c, _zh(request)) for c in await public_services(ctx)]
        return answer(fmt, services, "services", "service")
    if stem == "requests":
        return answer(fmt, await _find_requests(request, ctx), "service_requests", "request")
    raise Open311Error(404, "not found")


@get("/open311/v2/services/{name:str}")
async def service_definition(request: Req, name: FromPath[str]) -> Response[Any]:
    code, fmt = split_format(name)
    for category in await public_services(_ctx(request)):
        if category.code == code:
            return answer(
                fmt,
                _definition(category, _zh(request)),
                "service_definition",
                None,
                item_tags=ATTRIBUTE_TAGS,
            )
    raise Open311Error(404, f"service_code {code} not found")


@get("/open311/v2/requests/{name:str}")
async def one_request(request: Req, name: FromPath[str]) -> Response[Any]:
    number, fmt = split_format(name)
    found = await _find_requests(request, _ctx(request), ids=[number])
    if not found:
        raise Open311Error(404, f"service_request_id {number} not found")
    return answer(fmt, found, "service_requests", "request")


@get("/open311/v2/tokens/{name:str}")
async def token(request: Req, name: FromPath[str]) -> Response[Any]:
    """Requests get their id at once, so a token is the request id itself."""
    number, fmt = split_format(name)
    found = await _find_requests(request, _ctx(request), ids=[number])
    if not found:
        raise Open311Error(404, f"token {number} not found")
    return answer(
        fmt, [{"service_request_id": number, "token": number}], "service_requests", "request"
    )


def _date(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{field} must be a W3C date and time") from None
    if parsed.tzinfo is None:
        raise Open311Error(400, f"{field} must include a time zone")
    return parsed


async def _find_requests(
    request: Req, ctx: AppContext, ids: list[str] | None = None
) -> list[dict[str, Any]]:
    params = request.query_params
    ids = ids or [
        i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip()
    ]
    query = select(Case).where(Case.sealed.is_(False))
    if ids:
        query = query.where(Case.tracking_number.in_(ids[:MAX_RESULTS]))
    else:
        start = _date(params.get("start_date"), "start_date")
        end = _date(params.get("end_date"), "end_date")
        if start is None and end is None:
            start = utcnow() - timedelta(days=DEFAULT_DAYS)
        if start is not None:
            query = query.where(Case.created_at >= start)
        if end is not None:
            query = query.where(Case.created_at <= end)
        status = params.get("status")
        if status == "closed":
            query = query.where(Case.status == CaseStatus.CLOSED)
        elif status == "open":
            query = query.where(Case.status != CaseStatus.CLOSED)
        elif status:
            raise Open311Error(400, "status must be open or closed")
    async with ctx.db.session() as session:
        categories = {c.id: c for c in await session.scalars(select(ServiceCategory))}
        departments = {d.id: d for d in await session.scalars(select(Department))}
        codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
        if codes:
            query = query.where(
                Case.category_id.in_([c.id for c in categories.values() if c.code in codes])
            )
        cases = await session.scalars(query.order_by(Case.created_at.desc()).limit(MAX_RESULTS))
        return [_request(case, categories, departments, _zh(request)) for case in cases]


def _attribute_answers(
    definition: list[dict[str, Any]], form: dict[str, list[str]]
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for attr in definition:
        code = str(attr["code"])
        values = [
            v
            for v in form.get(f"attribute[{code}][]", []) + form.get(f"attribute[{code}]", [])
            if v
        ]
        allowed = {str(v["key"]) for v in attr.get("values", [])}
        if not values:
            if attr.get("required"):
                raise Open311Error(400, f"attribute {code} is required")
            continue
        datatype = attr.get("datatype", "string")
        if datatype in ("singlevaluelist", "multivaluelist") and not set(values) <= allowed:
            raise Open311Error(400, f"attribute {code} must be one of {', '.join(sorted(allowed))}")
        if datatype == "number":
            try:
                float(values[0])
            except ValueError:
                raise Open311Error(400, f"attribute {code} must be a number") from None
        answers[code] = values if datatype == "multivaluelist" else values[0]
    return answers


@post("/open311/v2/{name:str}", opt={"exclude_from_csrf": True})
async def create_request(request: Req, name: FromPath[str]) -> Response[Any]:
    stem, fmt = split_format(name)
    if stem != "requests":
        raise Open311Error(404, "not found")
    ctx = _ctx(request)
    form: dict[str, list[str]] = {}
    for key, value in (await request.form()).multi_items():
        form.setdefault(key, []).append(str(value))

    def one(key: str) -> str:
        return (form.get(key) or [""])[0].strip()

    client = await check_key(ctx, one("api_key"))
    if client is None:
        raise Open311Error(403, "api_key is missing, unknown or revoked")
    category = next((c for c in await public_services(ctx) if c.code == one("service_code")), None)
    if category is None:
        raise Open311Error(
            404 if one("service_code") else 400,
            "service_code not found" if one("service_code") else "service_code is required",
        )
    lat, lon = one("lat"), one("long")
    if not ((lat and lon) or one("address_string") or one("address_id")):
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id"
        )
    try:
        latitude = float(lat) if lat else None
        longitude = float(lon) if lon else None
    except ValueError:
        raise Open311Error(400, "lat and long must be numbers") from None
    answers = _attribute_answers(category.attributes, form)
    fields = {
        k: one(k)
        for k in (
            "service_code",
            "lat",
            "long",
            "address_string",
            "address_id",
            "email",
            "device_id",
            "account_id",
            "first_name",
            "last_name",
            "phone",
            "description",
            "media_url",
        )
    }
    # A client retrying the identical request must not make a second case.
    identity = repr((client.key_prefix, sorted(fields.items()), sorted(answers.items())))
    name_parts = [one("first_name"), one("last_name")]
    contacts = [{"kind": "email", "value": one("email")}] if one("email") else []
    if one("phone"):
        contacts.append({"kind": "phone", "value": one("phone")})
    data = {
        "channel": "open311",
        "external_id": hashlib.sha256(identity.encode()).hexdigest()[:40],
        "kind": "report",
        "text": one("description") or category.name_zh,
        "category": category.code,
        "citizen_name": " ".join(p for p in name_parts if p) or None,
        "contacts": contacts,
        "location": {
            "text": one("address_string") or None,
            "latitude": latitude,
            "longitude": longitude,
        },
        "meta": {
            "open311": {
                "client": client.name,
                "device_id": one("device_id"),
                "account_id": one("account_id"),
                "media_url": one("media_url"),
                "attributes": answers,
            }
        },
        "address": request.client.host if request.client else None,
    }
    try:
        result = await receive(ctx, parse_submission(data))
    except IntakeRefused as refused:
        raise Open311Error(
            400, "; ".join(f"{p.field}: {p.message}" for p in refused.problems)
        ) from None
    body = [
        {
            "service_request_id": result.tracking_number,
            "service_notice": "",
            "account_id": one("account_id") or None,
        }
    ]
    return answer(fmt, body, "service_requests", "request", status=201 if result.created else 200)


def _error_handler(request: Req, exc: Open311Error) -> Response[Any]:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return error(fmt, exc.status, exc.description)


def open311_router() -> Router:
    return Router(
        path="/",
        route_handlers=[
            discovery,
            collection,
            service_definition,
            one_request,
            token,
            create_request,
        ],
        exception_handlers={Open311Error: _error_handler},
        tags=["open311"],
    )
