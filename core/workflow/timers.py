"""The deadline timers (a periodic job): warn departments and the hotline before a sign-for
or reply deadline, mark what passed it overdue, and close answered cases whose evaluation did
not come in the allowed days. Each pass handles a bounded batch and is safe to repeat: a
warning or an overdue mark is written once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import false, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.delivery.events import CaseEventMessage
from hotline.core.reference.calendar import load_calendar
from hotline.core.reference.deadlines import add_working_hours
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.workflow import Assignment
from hotline.core.workflow.common import ACCEPTED, ACTIVE, DISPATCHED, HOTLINE, notify

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

BATCH = 500
SCAN_JOB = "workflow.scan_deadlines"


@dataclass
class ScanResult:
    warned: int = 0
    overdue: int = 0
    closed: int = 0


def due_queries(now: datetime, bound: datetime) -> dict[str, Any]:
    """The scan's queries: assignments to warn (deadline before ``bound``) and overdue ones
    (deadline before ``now``), sign-for deadlines while dispatched, reply deadlines while
    dispatched or accepted; the oldest first. Ordered by the deadline, PostgreSQL reads the
    partial index of open, unmarked assignments instead of the whole table."""

    # states and the flag inline, not as parameters: PostgreSQL matches a query to a partial
    # index only when it can prove the index's condition from the query's own words
    dispatched: Any = literal_column(f"'{DISPATCHED}'")
    accepted: Any = literal_column(f"'{ACCEPTED}'")
    not_overdue = Assignment.overdue == false()

    def sign(limit: datetime) -> Any:
        return (
            select(Assignment)
            .where(Assignment.state == dispatched, not_overdue, Assignment.sign_deadline < limit)
            .order_by(Assignment.sign_deadline)
        )

    def reply(limit: datetime) -> Any:
        return (
            select(Assignment)
            .where(
                Assignment.state.in_([dispatched, accepted]),
                not_overdue,
                Assignment.reply_deadline < limit,
            )
            .order_by(Assignment.reply_deadline)
        )

    return {
        "sign_overdue": sign(now).limit(BATCH),
        "reply_overdue": reply(now).limit(BATCH),
        "sign_near": sign(bound).where(Assignment.warned_at.is_(None)).limit(BATCH),
        "reply_near": reply(bound).where(Assignment.warned_at.is_(None)).limit(BATCH),
    }


async def _mark(
    session: AsyncSession,
    rows: list[Assignment],
    which: str,
    now: datetime,
    overdue: bool,
    cases: dict[int, Case],
) -> list[CaseEvent]:
    """Warn or mark ``rows``; their cases are locked once and kept in ``cases``."""
    events = []
    missing = {a.case_id for a in rows} - set(cases)
    if missing:
        found = await session.scalars(select(Case).where(Case.id.in_(missing)).with_for_update())
        cases.update((c.id, c) for c in found)
    for assignment in rows:
        if assignment.state not in ACTIVE or assignment.overdue:
            continue  # another pass got here first
        case = cases[assignment.case_id]
        detail = {"department_id": assignment.department_id, "deadline": which}
        if overdue:
            assignment.overdue = True
            if assignment.lead:
                case.overdue = True
            action = "overdue"
        else:
            if assignment.warned_at is not None:
                continue
            assignment.warned_at = now
            action = "deadline_near"
        notify(session, action, case, department_id=assignment.department_id, detail=detail, at=now)
        notify(session, action, case, role=HOTLINE, detail=detail, at=now)
        events.append(CaseEvent.by(SYSTEM, case.id, action, detail, at=now))
    return events


async def scan_deadlines(ctx: AppContext, now: datetime | None = None) -> ScanResult:
    """One pass of the timers; returns what it did."""
    now = now or utcnow()
    result = ScanResult()
    messages: list[CaseEventMessage] = []
    async with ctx.db.transaction() as session:
        cal = await load_calendar(session, ctx.settings.holidays_country)
        hours = ctx.settings.deadline_warn_hours
        bound = add_working_hours(now, hours, ctx.tz, cal) if hours else now
        queries = due_queries(now, bound)
        events: list[CaseEvent] = []
        cases: dict[int, Case] = {}
        for name in ("sign_overdue", "reply_overdue", "sign_near", "reply_near"):
            rows = list(await session.scalars(queries[name].with_for_update()))
            if rows:
                found = await _mark(
                    session, rows, name.split("_")[0], now, name.endswith("overdue"), cases
                )
                events += found
                if name.endswith("overdue"):
                    result.overdue += len(found)
                else:
                    result.warned += len(found)
        expired = list(
            await session.scalars(
                select(Case)
                .where(
                    Case.status == CaseStatus.ANSWERED,
                    Case.answered_at < now - timedelta(days=ctx.settings.evaluation_days),
                )
                .limit(BATCH)
                .with_for_update()
            )
        )
        for case in expired:
            cases[case.id] = case
            case.status, case.closed_at = CaseStatus.CLOSED, now
            detail = {"reason": "no_evaluation"}
            events.append(CaseEvent.by(SYSTEM, case.id, "closed", detail, public=True, at=now))
        result.closed = len(expired)
        session.add_all(events)
        await session.flush()
        messages = [CaseEventMessage.of(cases[e.case_id], e) for e in events]
    await ctx.events.deliver(ctx, messages)
    return result


async def scan_job(ctx: AppContext) -> dict[str, int]:
    result = await scan_deadlines(ctx)
    return {"warned": result.warned, "overdue": result.overdue, "closed": result.closed}
