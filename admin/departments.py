"""Departments' settings for administrators: the mailbox each department's notices also go to."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy import select

from hotline.core.cases.contacts import InvalidContact, normalise_email
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.models.reference import Department

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]


@get("/console/settings/departments", guards=[requires(Permission.ADMINISTER)])
async def departments(request: Req) -> Response[str]:
    async with ctx_of(request).db.session() as session:
        rows = list(await session.scalars(select(Department).order_by(Department.code)))
    return render(
        request,
        "admin/departments.html",
        departments=rows,
        # only a department's own code is named back: no text from a link reaches the page
        error=next((d.code for d in rows if d.code == request.query_params.get("error")), None),
        saved=request.query_params.get("saved"),
    )


@post("/console/settings/departments", guards=[requires(Permission.ADMINISTER)])
async def save_departments(request: Req) -> Response[Any]:
    """Every department's mailbox at once; one address that is not one changes nothing."""
    form = await request.form()
    async with ctx_of(request).db.session() as session:
        rows = list(await session.scalars(select(Department)))
    addresses: dict[int, str | None] = {}
    for department in rows:
        value = str(form.get(f"email-{department.id}", "")).strip()
        try:
            addresses[department.id] = normalise_email(value) if value else None
        except InvalidContact:
            error = f"/console/settings/departments?error={quote(department.code, safe='')}"
            return Redirect(error, status_code=303)
    async with ctx_of(request).db.transaction() as session:
        for department in await session.scalars(select(Department)):
            if department.id in addresses:
                department.email = addresses[department.id]
    return Redirect("/console/settings/departments?saved=1", status_code=303)
