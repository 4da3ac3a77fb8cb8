"""The case workflow's figures: intake, what departments owe (due today, overdue), the
citizens' satisfaction from their evaluations, on-time acceptance (按时签收率) and completion
(按时办结率), and the return rate (退单率).

Deadlines are the ones the workflow set on the working calendar (adjusted days included) and
moved by approved extensions, so "on time" is read off them as recorded. Sealed letters of the
director's mailbox are counted in every total (never listed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.enums import Satisfaction
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.workflow import Assignment

from .period import Period, at, dialect_of, seconds, whole
from .scope import EVERYTHING, Scope

ACTIVE = ("dispatched", "accepted")  # an assignment the department still owes work on
RETURNED = "returned"
EVALUATIONS = ("evaluated", "rated")  # an agent's call-back survey, the citizen's own rating
INTAKE_FIELDS = {
    "channel": Case.first_channel,
    "kind": Case.kind,
    "department": Case.department_id,
    "category": Case.category_id,
}


async def intake_by(
    session: AsyncSession,
    period: Period,
    by: str = "channel",
    *,
    listed: bool = False,
    scope: Scope = EVERYTHING,
) -> dict[str, int]:
    """Cases opened in ``period`` per channel (where they first came from), kind or department;
    ``listed``: only those a case list shows (not the director's sealed letters), so that each
    number can link to its list and match it."""
    key = INTAKE_FIELDS[by]
    query = select(key, func.count()).where(period.holds(Case.created_at), scope.cases())
    if listed:
        query = query.where(Case.sealed.is_(False))
    rows = await session.execute(query.group_by(key))
    return {str(k if k is not None else ""): int(n) for k, n in rows}


def rising(
    now: dict[str, int], before: dict[str, int], limit: int = 5
) -> list[tuple[str, int, int]]:
    """The hot topics: the keys (categories) whose count rose most over the period before, as
    (key, now, before), the biggest rise first; those that did not rise are left out."""
    rises = [
        (key, n, before.get(key, 0)) for key, n in now.items() if key and n > before.get(key, 0)
    ]
    return sorted(rises, key=lambda r: (r[2] - r[1], -r[1], r[0]))[:limit]


async def intake_per_hour(
    session: AsyncSession, period: Period, scope: Scope = EVERYTHING
) -> list[int]:
    """Cases opened in each hour of ``period`` (hours since its start: 24 for a day)."""
    dialect = dialect_of(session)
    hour = whole(seconds(Case.created_at, at(period.start), dialect) / 3600.0, dialect)
    hours = max(1, round((period.end - period.start).total_seconds() / 3600))
    counts = [0] * hours
    for index, n in await session.execute(
        select(hour, func.count())
        .where(period.holds(Case.created_at), scope.cases())
        .group_by(hour)
    ):
        if 0 <= int(index) < hours:
            counts[int(index)] += int(n)
    return counts


@dataclass(frozen=True)
class DepartmentLoad:
    code: str
    name_zh: str
    name_en: str
    due: int  # open, not overdue, reply due inside the period
    overdue: int  # open and past its deadline


async def department_load(session: AsyncSession, period: Period) -> list[DepartmentLoad]:
    """Per department, its open assignments whose reply is due in ``period`` and those
    overdue now; departments with neither are left out. Most overdue first."""
    open_ = Assignment.state.in_(ACTIVE)
    due = and_(open_, Assignment.overdue.is_(False), period.holds(Assignment.reply_deadline))
    late = and_(open_, Assignment.overdue.is_(True))
    due_n = func.coalesce(func.sum(case((due, 1), else_=0)), 0)
    late_n = func.coalesce(func.sum(case((late, 1), else_=0)), 0)
    rows = await session.execute(
        select(Department.code, Department.name_zh, Department.name_en, due_n, late_n)
        .join(Assignment, Assignment.department_id == Department.id)
        .where(open_)
        .group_by(Department.code, Department.name_zh, Department.name_en)
    )
    found = [DepartmentLoad(c, zh, en, int(d), int(o)) for c, zh, en, d, o in rows]
    return sorted(
        (f for f in found if f.due or f.overdue), key=lambda f: (-f.overdue, -f.due, f.code)
    )


@dataclass(frozen=True)
class Evaluations:
    satisfied: int = 0
    basically_satisfied: int = 0
    not_satisfied: int = 0

    @property
    def total(self) -> int:
        return self.satisfied + self.basically_satisfied + self.not_satisfied

    @property
    def rate(self) -> float | None:
        """满意率: satisfied and basically satisfied over every evaluation."""
        return (self.satisfied + self.basically_satisfied) / self.total if self.total else None


async def evaluations(
    session: AsyncSession, period: Period, scope: Scope = EVERYTHING
) -> Evaluations:
    """The evaluations given in ``period`` (each counts, a second one after a reopen too)."""
    given = CaseEvent.detail["satisfaction"].as_string()
    query = select(given, func.count()).where(
        CaseEvent.action.in_(EVALUATIONS), period.holds(CaseEvent.at)
    )
    if not scope.whole:  # the evaluations of the reader's cases
        query = query.join(Case, Case.id == CaseEvent.case_id).where(scope.cases())
    rows = await session.execute(query.group_by(given))
    found = {str(k): int(n) for k, n in rows}
    return Evaluations(
        found.get(Satisfaction.SATISFIED, 0),
        found.get(Satisfaction.BASICALLY_SATISFIED, 0),
        found.get(Satisfaction.NOT_SATISFIED, 0),
    )


@dataclass(frozen=True)
class Timeliness:
    """Of the assignments dispatched in the period (the returned ones apart): those whose
    sign-for (reply) is settled, that is done or past its deadline, and those done in time."""

    dispatched: int = 0
    returned: int = 0
    sign_settled: int = 0
    signed_in_time: int = 0
    reply_settled: int = 0
    replied_in_time: int = 0

    @property
    def acceptance_rate(self) -> float | None:
        """按时签收率."""
        return self.signed_in_time / self.sign_settled if self.sign_settled else None

    @property
    def completion_rate(self) -> float | None:
        """按时办结率: the department's reply by its (extended) deadline."""
        return self.replied_in_time / self.reply_settled if self.reply_settled else None

    @property
    def return_rate(self) -> float | None:
        """退单率: assignments the department sent back to the hotline."""
        return self.returned / self.dispatched if self.dispatched else None


def timeliness_columns(now: datetime) -> list[Any]:
    """``Timeliness``'s counts, in its order, as SQL over assignments."""
    kept = Assignment.state != RETURNED
    signed, sign_by = Assignment.signed_at, Assignment.sign_deadline
    replied, reply_by = Assignment.replied_at, Assignment.reply_deadline

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return [
        func.count(),
        count(~kept),
        count(and_(kept, sign_by.is_not(None), (signed.is_not(None)) | (sign_by < now))),
        count(and_(kept, sign_by.is_not(None), signed <= sign_by)),
        count(and_(kept, reply_by.is_not(None), (replied.is_not(None)) | (reply_by < now))),
        count(and_(kept, reply_by.is_not(None), replied <= reply_by)),
    ]


async def timeliness(
    session: AsyncSession, period: Period, now: datetime, scope: Scope = EVERYTHING
) -> Timeliness:
    row = (
        await session.execute(
            select(*timeliness_columns(now)).where(
                period.holds(Assignment.dispatched_at), scope.assignments()
            )
        )
    ).one()
    return Timeliness(*(int(v) for v in row))
