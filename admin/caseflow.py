"""What every staff view of a case shows of its workflow: the departments that had it (with
deadlines, replies, returns, extensions), the timeline of who did what and when, the path it
took, linked cases, and the routing suggestion with its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from hotline.core.reference.labels import N_
from hotline.core.storage.models.cases import Case, CaseEvent, CaseLink
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.workflow import Assignment

# The path a case travels, in order; a step is reached when one of its events happened.
PATH = (
    ("received", N_("Received"), ("received",)),
    ("dispatched", N_("Dispatched"), ("dispatched",)),
    ("signed", N_("Signed for"), ("signed_for",)),
    ("replied", N_("Replied"), ("department_replied",)),
    ("answered", N_("Reviewed and answered"), ("answered",)),
    ("closed", N_("Evaluated and closed"), ("evaluated", "closed")),
)
LOOPS = ("returned", "reply_sent_back", "reopened")


@dataclass
class Flow:
    assignments: list[Assignment] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (kind, tracking number)
    departments: list[Department] = field(default_factory=list)
    suggested: Department | None = None
    path: list[dict[str, Any]] = field(default_factory=list)
    loops: dict[str, int] = field(default_factory=dict)


def path_of(events: list[CaseEvent]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Each step with whether and when it was last reached, and how often it looped back."""
    last: dict[str, Any] = {}
    for event in events:
        last[event.action] = event.at
    steps = []
    for code, label, actions in PATH:
        times = [last[a] for a in actions if a in last]
        steps.append({"code": code, "label": label, "at": max(times) if times else None})
    loops = {a: sum(1 for e in events if e.action == a) for a in LOOPS}
    return steps, {k: v for k, v in loops.items() if v}


async def load_flow(session: AsyncSession, case: Case) -> Flow:
    flow = Flow()
    flow.assignments = list(
        await session.scalars(
            select(Assignment)
            .where(Assignment.case_id == case.id)
            .options(joinedload(Assignment.department))
            .order_by(Assignment.id)
        )
    )
    flow.events = list(
        await session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.action != "personal_data_read")
            .order_by(CaseEvent.at, CaseEvent.id)
        )
    )
    rows = await session.execute(
        select(CaseLink.kind, CaseLink.case_id, CaseLink.other_id).where(
            or_(CaseLink.case_id == case.id, CaseLink.other_id == case.id)
        )
    )
    others = {r.other_id if r.case_id == case.id else r.case_id: r.kind for r in rows}
    if case.merged_into_id:
        others[case.merged_into_id] = "merged_into"
    merged = await session.scalars(select(Case.id).where(Case.merged_into_id == case.id))
    others.update({m: "merged_from" for m in merged})
    if others:
        numbers = dict(
            tuple(row)
            for row in await session.execute(
                select(Case.id, Case.tracking_number).where(
                    Case.id.in_(list(others)),
                    # a hotline case never lists a letter to the director among its links
                    *([] if case.sealed else [Case.sealed.is_(False)]),
                )
            )
        )
        flow.links = [(kind, numbers[i]) for i, kind in others.items() if i in numbers]
    flow.departments = list(
        await session.scalars(
            select(Department).where(Department.active.is_(True)).order_by(Department.code)
        )
    )
    if case.department_id is not None:
        flow.suggested = next((d for d in flow.departments if d.id == case.department_id), None)
    flow.path, flow.loops = path_of(flow.events)
    return flow
