"""Work records: the contacts each agent took, when, for how long. Agents see their own; team
leaders and supervisors see everyone's, filtered by time, queue (skill group) and agent. The
list pages by when the contact was taken (keyset, on an indexed column) and says how many there
are; the totals per person are counted by the database over the whole filter, not the page.

The report's contact figures drill down here (``contacts``: offered, answered or abandoned, with
``medium`` and ``group``): then the days are those the contacts entered the queue, as the
figures count them (plugins/reports/figures/contacts.py), contacts no agent took are listed too,
and the call-back made for the agent who answered a call is not listed again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    cast,
    extract,
    func,
    literal,
    not_,
    select,
)

from hotline.core.people.permissions import Permission
from hotline.core.reference.labels import QUEUE_OUTCOME
from hotline.core.shell.web import render
from hotline.core.storage.db import Database
from hotline.core.storage.enums import Media
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.base import UTCDateTime, utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from hotline.core.storage.paging import PAGE_SIZE, Page, keyset_page, page_size, sort_of

from .audit import day
from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
KEPT = ("from", "to", "agent", "group", "order", "size", "medium", "contacts")
COUNTS = ("offered", "answered", "abandoned")  # the report's contact figures
GENERAL = "-"  # ``group``: the site's default queue (items with no skill)


def handling_seconds(dialect: str, now: datetime) -> ColumnElement[float]:
    """Whole seconds from taking the contact to finishing it (or to ``now`` while it is open)."""
    until = func.coalesce(QueueItem.done_at, literal(now, UTCDateTime()))
    if dialect == "sqlite":  # julianday's days are floating point: round each row
        return func.round((func.julianday(until) - func.julianday(QueueItem.assigned_at)) * 86400)
    return func.round(cast(extract("epoch", until - QueueItem.assigned_at), Float))


def _filtered(
    statement: Select[*tuple[Any, ...]],
    conditions: list[ColumnElement[bool]],
    queued: bool = False,
) -> Select[*tuple[Any, ...]]:
    """Taken contacts matching ``conditions``; ``queued``: every contact, taken or not."""
    joined = statement.join(Case, Case.id == QueueItem.case_id)
    if queued:
        return joined.outerjoin(User, User.id == QueueItem.agent_id).where(
            Case.sealed.is_(False), *conditions
        )
    return joined.join(User, User.id == QueueItem.agent_id).where(
        QueueItem.assigned_at.is_not(None), Case.sealed.is_(False), *conditions
    )


def _counted(which: str) -> list[ColumnElement[bool]]:
    """The contacts one of the report's figures counts (besides the days): not the call-back
    made for the agent who answered the call (taken the instant it was made)."""
    followup = and_(QueueItem.media == "callback", QueueItem.assigned_at == QueueItem.waiting_since)
    found: list[ColumnElement[bool]] = [not_(followup)]
    if which == "answered":
        found.append(QueueItem.assigned_at.is_not(None))
    elif which == "abandoned":
        found.append(QueueItem.outcome == "abandoned")
    return found


async def records_page(
    db: Database,
    conditions: list[ColumnElement[bool]],
    *,
    now: datetime,
    order: str | None = None,
    after: str | None = None,
    size: int = PAGE_SIZE,
    queued: bool = False,
) -> tuple[Page[Any], list[tuple[str, int, int]]]:
    """One page of the records matching ``conditions`` (newest first unless ``order`` says
    "asc"), and per person the contacts and handling seconds of every matching record;
    ``queued``: every contact (taken or not), by when it entered the queue."""
    seconds = handling_seconds(db.dialect, now)
    when = QueueItem.waiting_since if queued else QueueItem.assigned_at
    totals = _filtered(
        select(User.username, func.count(QueueItem.id), func.sum(seconds)), conditions
    ).group_by(User.username)
    async with db.session() as session:
        page = await keyset_page(
            session,
            _filtered(select(QueueItem, Case.tracking_number, User.username), conditions, queued),
            sort_of(order, when, QueueItem.id),
            after=after,
            size=size,
        )
        found = await session.execute(totals.order_by(User.username))
        return page, [(name, int(count), int(total or 0)) for name, count, total in found]


async def _records(request: Req, *, agent: int | None, everyone: bool) -> Response[str]:
    ctx, params = ctx_of(request), request.query_params
    today = utcnow().astimezone(ctx.tz).strftime("%Y-%m-%d")
    since = day(params.get("from") or today, False, ctx.tz)
    until = day(params.get("to") or today, True, ctx.tz)
    which = params.get("contacts", "")
    queued = which in COUNTS
    when = QueueItem.waiting_since if queued else QueueItem.assigned_at
    conditions: list[ColumnElement[bool]] = _counted(which) if queued else []
    if since:
        conditions.append(when >= since)
    if until:
        conditions.append(when <= until)
    if medium := params.get("medium", "").strip():
        conditions.append(QueueItem.media == medium[:16])
    if agent is not None:
        conditions.append(QueueItem.agent_id == agent)
    elif params.get("agent"):
        conditions.append(User.username == params["agent"].strip())
    if group := params.get("group", "").strip():  # the queue is the item's first skill
        first_skill = func.coalesce(QueueItem.skills[0].as_string(), "")
        conditions.append(first_skill == ("" if group == GENERAL else group))
    now = utcnow()
    page, totals = await records_page(
        ctx.db,
        conditions,
        now=now,
        order=params.get("order"),
        after=params.get("after"),
        size=page_size(params.get("size")),
        queued=queued,
    )
    rows = [
        (
            item,
            number,
            username,
            int(((item.done_at or now) - item.assigned_at).total_seconds())
            if item.assigned_at
            else None,
        )
        for item, number, username in page.rows
    ]
    return render(
        request,
        "admin/work.html",
        rows=rows,
        totals=totals,
        page=page,
        kept={k: params[k] for k in KEPT if params.get(k)},
        path=request.url.path,
        params=params,
        everyone=everyone,
        which=which if queued else "",
        outcomes=QUEUE_OUTCOME,
        media=[m.value for m in Media],
    )


@get("/console/work", guards=[requires(Permission.QUEUE_WORK)])
async def my_work(request: Req) -> Response[str]:
    return await _records(request, agent=request.scope["state"]["user"].id, everyone=False)


@get("/console/work/team", guards=[requires(Permission.QUEUE_MANAGE)])
async def team_work(request: Req) -> Response[str]:
    return await _records(request, agent=None, everyone=True)
