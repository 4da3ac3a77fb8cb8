"""Administrators manage staff accounts: add one (its generated password shown once, to be
replaced at first sign-in), change its role, department or name, switch it off, reset its
password. Every change is audited; the last active administrator cannot be switched off or
demoted."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import func, select

from hotline.core.accounts import add_user, reset_password
from hotline.core.audit import audit
from hotline.core.enums import Role
from hotline.core.models import Department, PermissionGrant, User
from hotline.core.permissions import Permission
from hotline.core.web import render

from .guards import ctx_of, requires, staff_actor

Req = Request[Any, Any, Any]


async def _page(
    request: Req, *, password: tuple[str, str] | None = None, error: str | None = None
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
    return render(
        request,
        "admin/users.html",
        users=users,
        departments=departments,
        roles=list(Role),
        permissions=list(Permission),
        grants=grants,
        names={d.id: d.code for d in departments},
        password=password,
        error=error,
        status=400 if error else 200,
    )


def _department(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


@get("/console/settings/users", guards=[requires(Permission.ADMINISTER)])
async def users(request: Req) -> Response[str]:
    return await _page(request)


@post("/console/settings/users", guards=[requires(Permission.ADMINISTER)])
async def user_add(request: Req) -> Response[Any]:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    role = str(form.get("role", ""))
    if not username or len(username) > 64 or role not in {r.value for r in Role}:
        return await _page(request, error="invalid")
    ctx = ctx_of(request)
    password = await add_user(
        ctx,
        username,
        Role(role),
        str(form.get("display_name", "")).strip() or username,
        department_id=_department(form.get("department")),
        must_change=True,
    )
    if password is None:
        return await _page(request, error="taken")
    async with ctx.db.transaction() as session:
        audit(session, staff_actor(request), "user_add", None, username=username, role=role)
    return await _page(request, password=(username, password))


async def _last_admin(session: Any, user: User) -> bool:
    others = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMINISTRATOR, User.active.is_(True), User.id != user.id)
    )
    return user.role == Role.ADMINISTRATOR and not others


@post("/console/settings/users/{user_id:int}", guards=[requires(Permission.ADMINISTER)])
async def user_edit(request: Req, user_id: FromPath[int]) -> Response[Any]:
    form = await request.form()
    role, active = str(form.get("role", "")), form.get("active") == "yes"
    if role not in {r.value for r in Role}:
        return await _page(request, error="invalid")
    async with ctx_of(request).db.transaction() as session:
        user = await session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFoundException("no such user")
        if (role != Role.ADMINISTRATOR or not active) and await _last_admin(session, user):
            return await _page(request, error="last_admin")
        changed = {
            "role": role,
            "active": active,
            "department_id": _department(form.get("department")),
            "display_name": str(form.get("display_name", "")).strip()[:200] or user.display_name,
        }
        fields = [k for k, v in changed.items() if getattr(user, k) != v]
        for field in fields:
            setattr(user, field, changed[field])
        audit(session, staff_actor(request), "user_edit", None, user=user.username, fields=fields)
    return Redirect("/console/settings/users", status_code=303)


@post("/console/settings/users/{user_id:int}/reset", guards=[requires(Permission.ADMINISTER)])
async def user_reset(request: Req, user_id: FromPath[int]) -> Response[Any]:
    ctx = ctx_of(request)
    password = await reset_password(ctx, user_id)
    if password is None:
        raise NotFoundException("no such user")
    async with ctx.db.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        audit(session, staff_actor(request), "password_reset", None, user=user.username)
        username = user.username
    return await _page(request, password=(username, password))


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
    async with ctx_of(request).db.transaction() as session:
        user = (
            await session.scalar(select(User).where(User.username == username))
            if username
            else None
        )
        if (username and user is None) or (user is None and department is None):
            return await _page(request, error="grant")
        session.add(
            PermissionGrant(
                department_id=None if user else department,
                role=None if user else role,
                user_id=user.id if user else None,
                permission=permission,
                allow=form.get("allow") == "yes",
            )
        )
        audit(
            session, staff_actor(request), "permission_override", None,
            user=username or None, department=department, role=role, permission=permission,
            allow=form.get("allow") == "yes",
        )  # fmt: skip
    return Redirect("/console/settings/users", status_code=303)


@post(
    "/console/settings/permissions/{grant_id:int}/delete", guards=[requires(Permission.ADMINISTER)]
)
async def grant_delete(request: Req, grant_id: FromPath[int]) -> Response[Any]:
    async with ctx_of(request).db.transaction() as session:
        grant = await session.get(PermissionGrant, grant_id)
        if grant is None:
            raise NotFoundException("no such override")
        await session.delete(grant)
        audit(session, staff_actor(request), "permission_override_removed", None, grant=grant_id)
    return Redirect("/console/settings/users", status_code=303)
