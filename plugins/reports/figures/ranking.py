"""The departments ranked (部门考核排名), as a city's office ranks them each month: per department,
the assignments dispatched to it in the period, its on-time acceptance (按时签收率) and completion
(按时办结率), its return rate (退单率), the citizens' satisfaction with its answers (满意率, the
evaluations given in the period of the cases now with it), and how often it was urged.

The rates are ``casework``'s own (``Timeliness``, ``Evaluations``), counted per department; the
order is the completion rate, then acceptance, then satisfaction, best first (a department with
no settled deadline after those with one), then fewer returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.enums import Satisfaction
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.workflow import Assignment

from .casework import EVALUATIONS, Evaluations, Timeliness, timeliness_columns
from .period import Period


@dataclass(frozen=True)
class DepartmentScore:
    department_id: int
    timeliness: Timeliness = field(default_factory=Timeliness)
    evaluations: Evaluations = field(default_factory=Evaluations)
    urged: int = 0  # times its assignments dispatched in the period were urged

    def key(self) -> tuple[float, float, float, float]:
        def best(rate: float | None) -> float:
            return -rate if rate is not None else 1.0  # none settled: after every rate

        t = self.timeliness
        return (
            best(t.completion_rate),
            best(t.acceptance_rate),
            best(self.evaluations.rate),
            t.return_rate or 0.0,
        )


async def ranking(session: AsyncSession, period: Period, now: datetime) -> list[DepartmentScore]:
    """Every department with an assignment dispatched or an evaluation given in ``period``,
    best first."""
    rows = await session.execute(
        select(
            Assignment.department_id,
            *timeliness_columns(now),
            func.coalesce(func.sum(Assignment.urged), 0),
        )
        .where(period.holds(Assignment.dispatched_at))
        .group_by(Assignment.department_id)
    )
    timely = {int(r[0]): (Timeliness(*(int(v) for v in r[1:7])), int(r[7])) for r in rows}
    given = CaseEvent.detail["satisfaction"].as_string()
    rated: dict[int, dict[str, int]] = {}
    for department, satisfaction, n in await session.execute(
        select(Case.department_id, given, func.count())
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.action.in_(EVALUATIONS),
            period.holds(CaseEvent.at),
            Case.department_id.is_not(None),
        )
        .group_by(Case.department_id, given)
    ):
        rated.setdefault(int(department), {})[str(satisfaction)] = int(n)
    scores = []
    for department in set(timely) | set(rated):
        found = rated.get(department, {})
        t, urged = timely.get(department, (Timeliness(), 0))
        evaluations = Evaluations(
            found.get(Satisfaction.SATISFIED, 0),
            found.get(Satisfaction.BASICALLY_SATISFIED, 0),
            found.get(Satisfaction.NOT_SATISFIED, 0),
        )
        scores.append(DepartmentScore(department, t, evaluations, urged))
    return sorted(scores, key=lambda s: (s.key(), s.department_id))
