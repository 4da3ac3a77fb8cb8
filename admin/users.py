"""Administrators manage staff accounts: add one (its generated password shown once, to be
replaced at first sign-in), change its role, department or name, switch it off, reset its
password or second factor, and permission overrides. Every change goes through the rules of
separation of duties (``core.separation``): no one changes their own rights, and what would
open the director's mailbox to someone waits for a second person of the director's office.
Every change is audited; the last active administrator cannot be switched off or demoted."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from hotline.core.enums import Role
from hotline.core.models import AccountRequest, Department, PermissionGrant, User
from hotline.core.permissions import Permission
from hotline.core.rights import (
    ADD,
    EDIT,
    GRANT,
    GRANT_DELETE,
    RESET_PASSWORD,
    RESET_TOTP,
    Change,
    RightsRefused,
)
from hotline.core.separation import PENDING, request_change
from hotline.core.web import render

from .guards import ctx_of, requires, staff_actor
from .triage import permission_labeller

Req = Request[Any, Any, Any]


async def _page(
    request: Req,
    *,
    password: tuple[str, str] | None = None,
    error: str | None = None,
    pending: str | None = None,
) -> Response[str]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        users = list(await session.scalars(select(User).order_by(User.username)))
        departments = list(await session.scalars(select(Department).order_by(Department.code)))
        grants = list(
            await session.execute(
                select(PermissionGrant, User.username)
                .outerjoin(User, User.id == PermissionGrant.user_id)
                .order_by(PermissionGrant.id)
            )
        )
        requests = list(
            await session.execute(
                select(AccountRequest, User.username)
                .outerjoin(User, User.id == AccountRequest.user_id)
                .where(AccountRequest.state == PENDING)
                .order_by(AccountRequest.id)
            )
        )
    return render(
        request,
        "admin/users.html",
        users=users,
        departments=departments,
        roles=list(Role),
        permissions=list(Permission),
        permission_label=permission_labeller(request),
        grants=grants,
        names={d.id: d.code for d in departments},
        password=password,
        error=error,
        pending=pending,
        requests=requests,
        me=request.scope["state"]["user"].id,
        status={"self": 403, "missing": 404}.get(error or "", 400)
        if error
        else 202
        if pending
        else 200,
    )


def _department(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


@get("/console/settings/users", guards=[requires(Permission.ADMINISTER)])
async def users(request: Req) -> Response[str]:
    return await _page(request)


async def _outcome(request: Req, change: Change) -> Response[Any]:
    """Make the change through the rules of separation of duties; show what came of it."""
    try:
        outcome = await request_change(ctx_of(request), staff_actor(request), change)
    except RightsRefused as refused:
        return await _page(request, error=refused.code)
    if outcome.state == "pending":
        return await _page(request, pending=change.kind)
    if outcome.password and outcome.username:
        return await _page(request, password=(outcome.username, outcome.password))
    return Redirect("/console/settings/users", status_code=303)


@post("/console/settings/users", guards=[requires(Permission.ADMINISTER)])
async def user_add(request: Req) -> Response[Any]:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    role = str(form.get("role", ""))
    if not username or len(username) > 64 or role not in {r.value for r in Role}:
        return await _page(request, error="invalid")
    detail = {
        "username": username,
        "role": role,
        "display_name": str(form.get("display_name", "")).strip() or username,
        "department_id": _department(form.get("department")),
    }
    return await _outcome(request, Change(ADD, None, detail))


@post("/console/settings/users/{user_id:int}", guards=[requires(Permission.ADMINISTER)])
async def user_edit(request: Req, user_id: FromPath[int]) -> Response[Any]:
    form = await request.form()
    role, active = str(form.get("role", "")), form.get("active") == "yes"
    if role not in {r.value for r in Role}:
        return await _page(request, error="invalid")
    async with ctx_of(request).db.session() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise NotFoundException("no such user")
    detail = {
        "role": role,
        "active": active,
        "department_id": _department(form.get("department")),
        "display_name": str(form.get("display_name", "")).strip()[:200] or user.display_name,
    }
    return await _outcome(request, Change(EDIT, user_id, detail))


@post("/console/settings/users/{user_id:int}/reset", guards=[requires(Permission.ADMINISTER)])
async def user_reset(request: Req, user_id: FromPath[int]) -> Response[Any]:
    """A new password, shown once, replaced at the next sign-in; the account's sessions end."""
    return await _outcome(request, Change(RESET_PASSWORD, user_id))


@post("/console/settings/users/{user_id:int}/reset-totp", guards=[requires(Permission.ADMINISTER)])
async def user_reset_totp(request: Req, user_id: FromPath[int]) -> Response[Any]:
    """The second factor removed (a lost phone): set up again at the next sign-in."""
    return await _outcome(request, Change(RESET_TOTP, user_id))


@post("/console/settings/permissions", guards=[requires(Permission.ADMINISTER)])
async def grant_add(request: Req) -> Response[Any]:
    """An override: for a unit (and optionally one role there) or for one user."""
    form = await request.form()
    permission, role = str(form.get("permission", "")), str(form.get("role", "")) or None
    department, username = (
        _department(form.get("department")),
        str(form.get("username", "")).strip(),
    )
    if permission not in {p.value for p in Permission} or (
        role is not None and role not in {r.value for r in Role}
    ):
        return await _page(request, error="invalid")
    async with ctx_of(request).db.session() as session:
        user = (
            await session.scalar(select(User).where(User.username == username))
            if username
            else None
        )
    if (username and user is None) or (user is None and department is None):
        return await _page(request, error="grant")
    detail = {
        "department_id": None if user else department,
        "role": None if user else role,
        "permission": permission,
        "allow": form.get("allow") == "yes",
    }
    return await _outcome(request, Change(GRANT, user.id if user else None, detail))


@post(
    "/console/settings/permissions/{grant_id:int}/delete", guards=[requires(Permission.ADMINISTER)]
)
async def grant_delete(request: Req, grant_id: FromPath[int]) -> Response[Any]:
    async with ctx_of(request).db.session() as session:
        if await session.get(PermissionGrant, grant_id) is None:
            raise NotFoundException("no such override")
    return await _outcome(request, Change(GRANT_DELETE, None, {"grant_id": grant_id}))
