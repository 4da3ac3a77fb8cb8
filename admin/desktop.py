"""The agent desktop's frame: the state bar (presence with its reason, time in state, contacts in
progress per medium) and the work list (offers, my contacts in progress, the oldest contacts
waiting in my groups). The queue screen and the case workspace both show it; it refreshes itself
from ``/console/queue/worklist`` when the queue changes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import func, select

from hotline.core.axd.consultations import CONSULTATION
from hotline.core.axd.state import MISSED
from hotline.core.people.permissions import Permission
from hotline.core.reference.durations import in_words
from hotline.core.reference.labels import N_
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import render, request_language
from hotline.core.storage.enums import QueueState
from hotline.core.storage.models.axd import AgentPresence, AwayReason, QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
NEXT_UP = 5  # the oldest contacts waiting in my groups, shown under my own


async def away_reasons(ctx: AppContext, lang: str) -> list[tuple[str, str]]:
    """The away reasons the administrator defined, as (code, name in ``lang``)."""
    async with ctx.db.session() as session:
        rows = await session.scalars(
            select(AwayReason).where(AwayReason.active.is_(True)).order_by(AwayReason.code)
        )
        return [(r.code, r.name_zh if lang.startswith("zh") else r.name_en) for r in rows]


async def away_names(request: Req) -> dict[str, str]:
    """Every away reason's name in the reader's language: the administrator's, the one the
    queue sets after offers missed in a row, and the one shown with "busy" while another
    agent talks to them before a transfer."""
    ctx, lang = ctx_of(request), request_language(request)
    gettext = ctx.catalogs.get(lang).gettext
    return dict(await away_reasons(ctx, lang)) | {
        MISSED: gettext(N_("Missed offers")),
        CONSULTATION: gettext(N_("Talking to another agent")),
    }


def _in_my_groups(item: QueueItem, skills: set[str]) -> bool:
    return not skills or set(item.skills) <= skills


async def worklist(request: Req, *, current: str = "", next_up: bool = True) -> dict[str, Any]:
    """What the state bar and the work list show to the signed-in agent; ``current`` is the
    tracking number of the case open in the middle pane, marked in the list."""
    ctx, user = ctx_of(request), request.scope["state"]["user"]
    lang = request_language(request)
    now = utcnow()
    async with ctx.db.session() as session:
        presence = await session.get(AgentPresence, user.id)
        mine = list(
            await session.execute(
                select(QueueItem, Case.tracking_number, Case.subject, Case.description)
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
        waiting_query = (
            select(QueueItem, Case.tracking_number, Case.subject, Case.description)
            .join(Case, Case.id == QueueItem.case_id)
            .where(QueueItem.state == QueueState.WAITING, Case.sealed.is_(False))
            .order_by(QueueItem.waiting_since)
        )
        if skills:  # an agent with no skills set sees the whole queue, as the triage table does
            waiting = [
                row for row in await session.execute(waiting_query) if _in_my_groups(row[0], skills)
            ]
            waiting_total = len(waiting)
        else:
            waiting = list(await session.execute(waiting_query.limit(NEXT_UP)))
            waiting_total = int(
                await session.scalar(
                    select(func.count())
                    .select_from(QueueItem)
                    .join(Case, Case.id == QueueItem.case_id)
                    .where(QueueItem.state == QueueState.WAITING, Case.sealed.is_(False))
                )
                or 0
            )

    def entry(item: QueueItem, number: str, subject: str | None, text: str) -> dict[str, Any]:
        since = item.waiting_since if item.state == QueueState.WAITING else item.updated_at
        return {
            "item": item,
            "number": number,
            "subject": subject or (text or "")[:120],
            "age": in_words((now - since).total_seconds(), lang, parts=1),
            "current": number == current,
        }

    in_progress = Counter(item.media for item, *_ in mine if item.state == QueueState.ASSIGNED)
    return {
        "presence": presence,
        "in_state": in_words((now - presence.since).total_seconds(), lang) if presence else "",
        "in_progress": sorted(in_progress.items()),
        "offers": [entry(*row) for row in mine if row[0].state == QueueState.OFFERED],
        "mine": [entry(*row) for row in mine if row[0].state == QueueState.ASSIGNED],
        "next_up": [entry(*row) for row in waiting[:NEXT_UP]] if next_up else None,
        "current": current,
        "waiting_total": waiting_total,
        "away_reasons": await away_reasons(ctx, lang),
        "away_names": await away_names(request),
    }


@get("/console/queue/worklist", guards=[requires(Permission.QUEUE_WORK)])
async def worklist_pane(request: Req) -> Response[str]:
    """The work list alone, for the live refresh (htmx swaps it in place)."""
    current = str(request.query_params.get("current", ""))
    return render(request, "admin/_worklist.html", desk=await worklist(request, current=current))
