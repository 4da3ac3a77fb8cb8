"""Agents record contacts that reached them outside the system: a call on a desk phone, a
walk-in visit, a letter (with its scan). Each goes through the one intake with its channel."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy import select

from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused, parse_submission
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.models.reference import ServiceCategory

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
OUTSIDE_CHANNELS = {"phone": "voice", "visit": "web_form", "postal": "web_form"}


async def active_services(request: Req) -> list[ServiceCategory]:
    """The services in use, by code: what a form offers to choose from."""
    async with ctx_of(request).db.session() as session:
        return list(
            await session.scalars(
                select(ServiceCategory)
                .where(ServiceCategory.active.is_(True))
                .order_by(ServiceCategory.code)
            )
        )


@get("/console/record", guards=[requires(Permission.CASE_EDIT)])
async def record_form(request: Req) -> Response[str]:
    return render(
        request,
        "admin/record.html",
        services=await active_services(request),
        problems=[],
        values={},
    )


@post("/console/record", guards=[requires(Permission.CASE_EDIT)])
async def record(request: Req) -> Response[Any]:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if not hasattr(v, "read")}
    channel = values.get("channel", "")
    files = [f for f in form.getall("scan", []) if hasattr(f, "read")]
    attachments = []
    for upload in files:
        data = await upload.read()
        if data:
            attachments.append({"filename": upload.filename or "scan", "data": data})
    contacts = []
    if values.get("phone"):
        contacts.append({"kind": "phone", "value": values["phone"]})
    if values.get("address") and channel == "postal":
        contacts.append({"kind": "postal", "value": values["address"]})
    user = request.scope["state"]["user"]
    try:
        if channel not in OUTSIDE_CHANNELS:
            raise ValueError
        submission = parse_submission(
            {
                "channel": channel,
                "external_id": f"recorded-{uuid.uuid4().hex}",
                "kind": values.get("kind") or "complaint",
                "text": values.get("text", ""),
                "category": values.get("category") or None,
                "citizen_name": values.get("name") or None,
                "contacts": contacts,
                "attachments": attachments,
                "media": OUTSIDE_CHANNELS[channel],
                "meta": {"recorded_by": user.username},
                "address": request.client.host if request.client else None,
            }
        )
        result = await receive(ctx_of(request), submission)
    except ValueError:
        return render(
            request,
            "admin/record.html",
            services=await active_services(request),
            values=values,
            problems=[{"field": "channel", "code": "not_a_choice"}],
        )
    except IntakeRefused as refused:
        return render(
            request,
            "admin/record.html",
            services=await active_services(request),
            values=values,
            problems=[p.model_dump() for p in refused.problems],
            status=422,
        )
    return Redirect(f"/console/cases/{result.tracking_number}", status_code=303)
