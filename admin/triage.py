"""The queue as a triage table: what waits in the agent's groups, one row per contact, with the
service, subject, citizen (masked unless the role reads cases), priority, medium, waiting time in
words and the reply deadline; sorted by any column, filtered by medium, service,
skill (queue) and priority, with the total; paged by ``PAGE`` rows, nothing cut off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.core.axd.queue_names import queue_names
from hotline.core.cases.contacts import mask_name
from hotline.core.people.permissions import Permission
from hotline.core.reference.durations import in_words
from hotline.core.reference.labels import N_
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import request_language
from hotline.core.storage.enums import Priority, QueueState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, Citizen
from hotline.core.storage.models.reference import ServiceCategory

Req = Request[Any, Any, Any]
PAGE = 50
NEAR = timedelta(hours=24)
CASE_PRIORITY = {
    "low": N_("Low"),
    "normal": N_("Normal"),
    "high": N_("High"),
    "urgent": N_("Urgent"),
}
SORTS = ("service", "subject", "citizen", "priority", "medium", "waiting", "deadline")


@dataclass
class Row:
    item_id: int
    number: str
    service: str
    service_id: int | None
    subject: str
    citizen: str
    priority: str
    priority_rank: int
    media: str
    skills: tuple[str, ...]
    waited_seconds: float
    waited: str
    deadline: datetime | None
    due: str  # "overdue", "near" or ""


def _key(sort: str) -> Any:
    far = datetime.max.replace(tzinfo=None)
    return {
        "service": lambda r: r.service,
        "subject": lambda r: r.subject,
        "citizen": lambda r: r.citizen,
        "priority": lambda r: r.priority_rank,
        "medium": lambda r: r.media,
        "waiting": lambda r: r.waited_seconds,
        "deadline": lambda r: r.deadline.replace(tzinfo=None) if r.deadline else far,
    }[sort]


async def triage_table(ctx: AppContext, request: Req, skills: set[str]) -> dict[str, Any]:
    lang = request_language(request)
    zh = lang.startswith("zh")
    params = request.query_params
    sort = str(params.get("sort")) if params.get("sort") in SORTS else "waiting"
    direction = "asc" if params.get("dir") == "asc" else "desc"
    if "sort" not in params:
        sort, direction = "waiting", "desc"
    medium = params.get("medium") or ""
    service = params.get("service") or ""
    priority = params.get("priority") or ""
    skill = params.get("skill") or ""
    try:
        page = max(1, int(params.get("page") or 1))
    except ValueError:
        page = 1
    reads = Permission.CASE_READ in request.scope.get("state", {}).get("permissions", frozenset())
    async with ctx.db.session() as session:
        found = list(
            await session.execute(
                select(QueueItem, Case, Citizen.name, ServiceCategory)
                .join(Case, Case.id == QueueItem.case_id)
                .outerjoin(Citizen, Citizen.id == Case.citizen_id)
                .outerjoin(ServiceCategory, ServiceCategory.id == Case.category_id)
                .where(QueueItem.state == QueueState.WAITING, Case.sealed.is_(False))
                .options(joinedload(QueueItem.case))
            )
        )
        services = list(
            await session.scalars(select(ServiceCategory).order_by(ServiceCategory.code))
        )
        names = await queue_names(session, zh)
    now = utcnow()
    rows: list[Row] = []
    for item, case, name, category in found:
        if skills and not set(item.skills) <= skills:
            continue
        waited = (now - item.waiting_since).total_seconds()
        due = ""
        if case.reply_deadline is not None:
            deadline = case.reply_deadline
            due = (
                "overdue"
                if case.overdue or deadline < now
                else "near"
                if deadline < now + NEAR
                else ""
            )
        try:
            rank = Priority(case.priority).rank
        except ValueError:
            rank = 1
        rows.append(
            Row(
                item_id=item.id,
                number=case.tracking_number,
                service=(category.name_zh if zh else category.name_en) if category else "",
                service_id=category.id if category else None,
                subject=case.subject or case.description[:60],
                citizen=(name or "") if reads else mask_name(name),
                priority=case.priority,
                priority_rank=rank * 10 + int(item.priority),
                media=item.media,
                skills=tuple(item.skills or ()),
                waited_seconds=waited,
                waited=in_words(waited, lang),
                deadline=case.reply_deadline,
                due=due,
            )
        )
    in_groups = len(rows)
    media_present = sorted({r.media for r in rows})
    skills_present = sorted({s for r in rows for s in r.skills})
    if medium:
        rows = [r for r in rows if r.media == medium]
    if service:
        rows = [r for r in rows if str(r.service_id) == service]
    if priority:
        rows = [r for r in rows if r.priority == priority]
    if skill:
        rows = [r for r in rows if skill in r.skills]
    rows.sort(key=_key(sort), reverse=direction == "desc")
    pages = max(1, -(-len(rows) // PAGE))
    page = min(page, pages)
    first = (page - 1) * PAGE

    def query(**changes: str) -> str:
        values = {"sort": sort, "dir": direction, "medium": medium, "service": service}
        values["priority"] = priority
        values["skill"] = skill
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})

    return {
        "rows": rows[first : first + PAGE],
        "total": len(rows),
        "in_groups": in_groups,
        "page": page,
        "pages": pages,
        "first": first + 1 if rows else 0,
        "last": min(first + PAGE, len(rows)),
        "sort": sort,
        "direction": direction,
        "query": query,
        "filters": {"medium": medium, "service": service, "priority": priority, "skill": skill},
        "media_present": media_present,
        "skills": [(code, names.get(code, code)) for code in skills_present],
        "services": [(s.id, s.name_zh if zh else s.name_en) for s in services],
        "priorities": [p.value for p in Priority],
    }


def priority_labeller(request: Req) -> Any:
    """``case_priority_label`` for templates: a case's priority in the page's language."""
    ctx: AppContext = request.app.state.ctx
    gettext = ctx.catalogs.get(request_language(request)).gettext
    return lambda value: gettext(CASE_PRIORITY.get(str(value), N_("Normal")))


def permission_labeller(request: Req) -> Any:
    """``permission_label`` for templates: a permission's name, never its code."""
    from hotline.core.shell.error_pages import NAMES

    ctx: AppContext = request.app.state.ctx
    gettext = ctx.catalogs.get(request_language(request)).gettext
    return lambda value: gettext(NAMES.get(str(value), N_("Another right")))
