"""The message centre: notices for new cases, urging, returns, deadlines and break-glass
readings, addressed to a department, a role, the hotline's people or one user; and
announcements from supervisors to all staff or a group. Reading the list marks it read."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect
from sqlalchemy import and_, or_, select, update

from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.enums import Role
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.workflow import Notice
from hotline.core.storage.paging import keyset_page, page_size, sort_of
from hotline.core.workflow.common import HOTLINE

from .guards import can, ctx_of, requires

Req = Request[Any, Any, Any]
HOTLINE_ROLES = {Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR}


def addressed_to(user: User) -> Any:
    """Notices for ``user``: theirs, their department's, their role's, the hotline's when they
    work in it, and announcements to everyone."""
    audiences = [
        Notice.user_id == user.id,
        Notice.role == user.role,
        and_(Notice.user_id.is_(None), Notice.department_id.is_(None), Notice.role.is_(None)),
    ]
    if user.department_id is not None:
        audiences.append(and_(Notice.department_id == user.department_id, Notice.role.is_(None)))
    if user.role in HOTLINE_ROLES:
        audiences.append(Notice.role == HOTLINE)
    return or_(*audiences)


@get("/console/notices", guards=[requires(Permission.CONSOLE)])
async def notices(request: Req) -> Response[str]:
    user: User = request.scope["state"]["user"]
    order = request.query_params.get("order")
    async with ctx_of(request).db.transaction() as session:
        page = await keyset_page(
            session,
            select(Notice).where(addressed_to(user)),
            sort_of(order, Notice.at, Notice.id),
            after=request.query_params.get("after"),
            size=page_size(request.query_params.get("size")),
        )
        read_before = user.notices_read_at
        await session.execute(
            update(User).where(User.id == user.id).values(notices_read_at=utcnow())
        )
        departments = list(await session.scalars(select(Department).order_by(Department.code)))
    return render(
        request,
        "admin/notices.html",
        notices=page.scalars(),
        page=page,
        params={"order": order} if order in ("asc", "desc") else {},
        read_before=read_before,
        can_announce=can(request, Permission.SUPERVISE),
        departments=departments,
        roles=list(Role),
        sent=request.query_params.get("sent"),
        error=request.query_params.get("error"),
    )


@post("/console/notices", guards=[requires(Permission.SUPERVISE)])
async def announce(request: Req) -> Response[Any]:
    """An announcement to everyone, a role, or a department."""
    form = await request.form()
    title = str(form.get("title", "")).strip()[:300]
    body = str(form.get("body", "")).strip()[:10_000]
    audience = str(form.get("audience", "all"))
    if not title:
        return Redirect("/console/notices?error=title", status_code=303)
    notice = Notice(
        kind="announcement",
        title=title,
        body=body,
        author_id=request.scope["state"]["user"].id,
    )
    kind, _, value = audience.partition(":")
    if kind == "role" and value in {r.value for r in Role}:
        notice.role = value
    elif kind == "department" and value.isdigit():
        notice.department_id = int(value)
    elif audience != "all":
        return Redirect("/console/notices?error=audience", status_code=303)
    async with ctx_of(request).db.transaction() as session:
        if notice.department_id and await session.get(Department, notice.department_id) is None:
            return Redirect("/console/notices?error=audience", status_code=303)
        session.add(notice)
    return Redirect("/console/notices?sent=1", status_code=303)
