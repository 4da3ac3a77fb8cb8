"""``/console``: a home for every role, built from what the signed-in user may do.

- agent: my state, my contacts in progress, offers, what waits for my skills;
- team leader: the team board in numbers (agents by state, waiting, missed offers);
- department: the to-do buckets with counts;
- director's office: letters by deadline;
- supervisor: today's intake, waiting, overdue and urged, each a link;
- administrator: a set-up checklist (what ``hotline check`` knows) and the counts; told why cases
  are not theirs to read, and where they are read.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.axd import selection as axd
from hotline.core.people.permissions import Permission
from hotline.core.reference.durations import in_words
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import render, request_language
from hotline.core.storage.enums import AgentState, QueueState, Role
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import (
    CalendarDay,
    Department,
    RoutingRule,
    ServiceCategory,
)
from hotline.core.storage.models.workflow import Assignment
from hotline.core.workflow.common import ACTIVE

from .department import DUE_SOON
from .guards import ctx_of, requires
from .triage import priority_labeller

Req = Request[Any, Any, Any]


async def _count(session: AsyncSession, query: Any) -> int:
    return int(await session.scalar(query) or 0)


async def agent_home(session: AsyncSession, user: User, lang: str) -> dict[str, Any]:
    presence = await session.get(AgentPresence, user.id)
    mine = list(
        await session.execute(
            select(QueueItem, Case)
            .join(Case, Case.id == QueueItem.case_id)
            .where(
                QueueItem.agent_id == user.id,
                QueueItem.state.in_([QueueState.OFFERED, QueueState.ASSIGNED]),
                Case.sealed.is_(False),
            )
            .order_by(QueueItem.updated_at)
        )
    )
    skills = set((presence.skills if presence else {}) or {})
    waiting_rows = list(
        await session.execute(
            select(QueueItem.skills, QueueItem.waiting_since).where(
                QueueItem.state == QueueState.WAITING, axd.NOT_SEALED
            )
        )
    )
    mine_waiting = [
        since for item_skills, since in waiting_rows if not skills or set(item_skills) <= skills
    ]
    now = utcnow()
    oldest = in_words((now - min(mine_waiting)).total_seconds(), lang) if mine_waiting else ""
    since = in_words((now - presence.since).total_seconds(), lang) if presence else ""
    return {
        "presence": presence,
        "in_state_for": since,
        "offers": [(i, c) for i, c in mine if i.state == QueueState.OFFERED],
        "in_progress": [(i, c) for i, c in mine if i.state == QueueState.ASSIGNED],
        "waiting_for_me": len(mine_waiting),
        "oldest_wait": oldest,
    }


async def team_home(session: AsyncSession) -> dict[str, Any]:
    by_state: dict[str, int] = dict(
        (str(row[0]), int(row[1]))
        for row in await session.execute(
            select(AgentPresence.state, func.count())
            .join(User, User.id == AgentPresence.user_id)
            .where(User.active.is_(True))
            .group_by(AgentPresence.state)
        )
    )
    waiting = await _count(
        session,
        select(func.count())
        .select_from(QueueItem)
        .where(QueueItem.state == QueueState.WAITING, axd.NOT_SEALED),
    )
    missed = await _count(session, select(func.sum(AgentPresence.missed_offers)))
    return {"by_state": by_state, "waiting": waiting, "missed": missed}


async def department_home(session: AsyncSession, department_id: int | None) -> dict[str, Any]:
    if department_id is None:
        return {"no_department": True}
    rows = list(
        await session.scalars(
            select(Assignment).where(
                Assignment.department_id == department_id, Assignment.state.in_(ACTIVE)
            )
        )
    )
    soon = utcnow() + DUE_SOON
    department = await session.get(Department, department_id)
    return {
        "department": department,
        "sign": sum(a.state == "dispatched" for a in rows),
        "handle": sum(a.state == "accepted" for a in rows),
        "soon": sum(
            bool(a.overdue or a.warned_at or (a.reply_deadline and a.reply_deadline < soon))
            for a in rows
        ),
        "sent_back": sum(bool(a.sent_back and a.state == "accepted") for a in rows),
        "urged": sum(bool(a.urged) for a in rows),
        "overdue": sum(bool(a.overdue) for a in rows),
    }


async def office_home(session: AsyncSession) -> dict[str, Any]:
    letters = list(
        await session.scalars(
            select(Case)
            .where(Case.sealed.is_(True), Case.status != "closed")
            .order_by(Case.reply_deadline.is_(None), Case.reply_deadline)
            .limit(20)
        )
    )
    total = await _count(
        session,
        select(func.count())
        .select_from(Case)
        .where(Case.sealed.is_(True), Case.status != "closed"),
    )
    return {"letters": letters, "open_letters": total}


async def supervisor_home(session: AsyncSession, ctx: AppContext) -> dict[str, Any]:
    now = utcnow()
    midnight = axd.local_midnight(now, ctx.settings.timezone)
    open_cases = (Case.sealed.is_(False), Case.merged_into_id.is_(None))
    return {
        "intake": await _count(
            session,
            select(func.count()).select_from(Case).where(Case.created_at >= midnight, *open_cases),
        ),
        "waiting": await _count(
            session,
            select(func.count())
            .select_from(QueueItem)
            .where(QueueItem.state == QueueState.WAITING, axd.NOT_SEALED),
        ),
        "overdue": await _count(
            session,
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.overdue.is_(True), Assignment.state.in_(ACTIVE)),
        ),
        "urged": await _count(
            session,
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.urged > 0, Assignment.state.in_(ACTIVE)),
        ),
        "supervised": await _count(
            session,
            select(func.count())
            .select_from(Case)
            .where(Case.supervised.is_(True), Case.status != "closed", *open_cases),
        ),
    }


async def admin_home(session: AsyncSession, ctx: AppContext) -> dict[str, Any]:
    from .setup_checklist import checklist

    return {
        "checklist": await checklist(session, ctx),
        "counts": {
            "departments": await _count(session, select(func.count()).select_from(Department)),
            "services": await _count(session, select(func.count()).select_from(ServiceCategory)),
            "users": await _count(
                session, select(func.count()).select_from(User).where(User.active.is_(True))
            ),
            "rules": await _count(session, select(func.count()).select_from(RoutingRule)),
            "calendar_days": await _count(session, select(func.count()).select_from(CalendarDay)),
            "cases": await _count(session, select(func.count()).select_from(Case)),
        },
    }


@get("/console", guards=[requires(Permission.CONSOLE)])
async def console_home(request: Req) -> Response[str]:
    ctx = ctx_of(request)
    user: User = request.scope["state"]["user"]
    perms: frozenset[Permission] = request.scope["state"]["permissions"]
    lang = request_language(request)
    panels: dict[str, Any] = {}
    async with ctx.db.session() as session:
        if Permission.QUEUE_WORK in perms:
            panels["agent"] = await agent_home(session, user, lang)
        if Permission.QUEUE_MANAGE in perms:
            panels["team"] = await team_home(session)
        if Permission.DEPARTMENT_HANDLE in perms:
            panels["department"] = await department_home(session, user.department_id)
        if Permission.DIRECTOR_MAILBOX in perms:
            panels["office"] = await office_home(session)
        if Permission.SUPERVISE in perms:
            panels["supervisor"] = await supervisor_home(session, ctx)
        if Permission.ADMINISTER in perms:
            panels["admin"] = await admin_home(session, ctx)
    return render(
        request,
        "admin/home.html",
        user=user,
        panels=panels,
        now=utcnow(),
        soon=utcnow() + timedelta(days=1),
        may_read_cases=Permission.CASE_READ in perms,
        is_admin_role=user.role == Role.ADMINISTRATOR,
        agent_states=[s.value for s in AgentState],
        case_priority_label=priority_labeller(request),
    )
