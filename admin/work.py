"""Work records: the contacts each agent took, when, for how long. Agents see their own; team
leaders and supervisors see everyone's, filtered by time, queue (skill group) and agent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import select

from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User

from .audit import day
from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
LIMIT = 1000


async def _records(request: Req, *, agent: int | None, everyone: bool) -> Response[str]:
    ctx, params = ctx_of(request), request.query_params
    today = utcnow().astimezone(ctx.tz).strftime("%Y-%m-%d")
    since = day(params.get("from") or today, False, ctx.tz)
    until = day(params.get("to") or today, True, ctx.tz)
    query = (
        select(QueueItem, Case.tracking_number, User.username)
        .join(Case, Case.id == QueueItem.case_id)
        .join(User, User.id == QueueItem.agent_id)
        .where(QueueItem.assigned_at.is_not(None), Case.sealed.is_(False))
    )
    if since:
        query = query.where(QueueItem.assigned_at >= since)
    if until:
        query = query.where(QueueItem.assigned_at <= until)
    if agent is not None:
        query = query.where(QueueItem.agent_id == agent)
    elif params.get("agent"):
        query = query.where(User.username == params["agent"].strip())
    if group := params.get("group", "").strip():  # the queue is the item's first skill
        query = query.where(QueueItem.skills[0].as_string() == group)
    async with ctx.db.session() as session:
        found = list(
            await session.execute(query.order_by(QueueItem.assigned_at.desc()).limit(LIMIT))
        )
    now = utcnow()
    rows = []
    totals: dict[str, list[Any]] = {}
    for item, number, username in found:
        seconds = int(((item.done_at or now) - item.assigned_at).total_seconds())
        rows.append((item, number, username, seconds))
        total = totals.setdefault(username, [0, 0])
        total[0] += 1
        total[1] += seconds
    return render(
        request,
        "admin/work.html",
        rows=rows,
        totals=sorted(totals.items()),
        params=params,
        since=since or datetime.min,
        everyone=everyone,
        limit=LIMIT,
    )


@get("/console/work", guards=[requires(Permission.QUEUE_WORK)])
async def my_work(request: Req) -> Response[str]:
    return await _records(request, agent=request.scope["state"]["user"].id, everyone=False)


@get("/console/work/team", guards=[requires(Permission.QUEUE_MANAGE)])
async def team_work(request: Req) -> Response[str]:
    return await _records(request, agent=None, everyone=True)
