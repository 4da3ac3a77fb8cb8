"""The deadline timers: due-soon warnings, overdue marks, closing unevaluated answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.core.intake.receive import receive
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind, CaseStatus
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.workflow import Assignment, Notice
from hotline.core.workflow.dispatch import (
    do_department_reply,
    do_dispatch,
    do_review,
    do_sign_for,
)
from hotline.core.workflow.timers import scan_deadlines
from tests.factories import submission

AGENT = Actor(ActorKind.STAFF, label="agent1")


async def _assignment(ctx: AppContext, case_id: int) -> Assignment:
    async with ctx.db.session() as s:
        found = await s.scalar(select(Assignment).where(Assignment.case_id == case_id))
    assert found is not None
    return found


async def test_warning_then_overdue_each_once(ctx: AppContext, city: dict[str, int]) -> None:
    case_id = (await receive(ctx, submission())).case_id
    await do_dispatch(ctx, case_id, "roads", AGENT)
    assignment = await _assignment(ctx, case_id)
    assert assignment.sign_deadline is not None

    early = await scan_deadlines(ctx, assignment.dispatched_at + timedelta(minutes=1))
    assert (early.warned, early.overdue) == (0, 0)

    near = await scan_deadlines(ctx, assignment.sign_deadline - timedelta(hours=1))
    assert (near.warned, near.overdue) == (1, 0)
    again = await scan_deadlines(ctx, assignment.sign_deadline - timedelta(minutes=30))
    assert again.warned == 0  # warned once

    late = await scan_deadlines(ctx, assignment.sign_deadline + timedelta(minutes=1))
    assert late.overdue == 1
    assert (await scan_deadlines(ctx, assignment.sign_deadline + timedelta(hours=1))).overdue == 0
    async with ctx.db.session() as s:
        case = await s.get(Case, case_id)
        assert case is not None and case.overdue
        kinds = [
            (n.kind, n.department_id, n.role)
            for n in await s.scalars(select(Notice).order_by(Notice.id))
        ]
        events = list(await s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)))
    assert ("deadline_near", city["roads"], None) in kinds
    assert ("overdue", city["roads"], None) in kinds and ("overdue", None, "hotline") in kinds
    assert events.count("overdue") == 1 and events.count("deadline_near") == 1
    assert (await _assignment(ctx, case_id)).overdue


async def test_signed_case_is_timed_by_its_reply_deadline(
    ctx: AppContext, city: dict[str, int]
) -> None:
    case_id = (await receive(ctx, submission())).case_id
    await do_dispatch(ctx, case_id, "roads", AGENT)
    await do_sign_for(ctx, case_id, city["roads"], AGENT)
    assignment = await _assignment(ctx, case_id)
    assert assignment.sign_deadline is not None and assignment.reply_deadline is not None
    # past the sign-for deadline, but signed: nothing overdue yet
    quiet = await scan_deadlines(ctx, assignment.sign_deadline + timedelta(minutes=1))
    assert quiet.overdue == 0
    late = await scan_deadlines(ctx, assignment.reply_deadline + timedelta(minutes=1))
    assert late.overdue == 1


async def test_answered_case_without_evaluation_closes(
    ctx: AppContext, city: dict[str, int]
) -> None:
    case_id = (await receive(ctx, submission())).case_id
    await do_dispatch(ctx, case_id, "roads", AGENT)
    await do_sign_for(ctx, case_id, city["roads"], AGENT)
    await do_department_reply(ctx, case_id, city["roads"], "已修复。", AGENT)
    await do_review(ctx, case_id, True, AGENT)
    async with ctx.db.session() as s:
        case = await s.get(Case, case_id)
    assert case is not None and case.answered_at is not None
    soon = await scan_deadlines(ctx, case.answered_at + timedelta(days=1))
    assert soon.closed == 0
    later = case.answered_at + timedelta(days=ctx.settings.evaluation_days, minutes=1)
    assert (await scan_deadlines(ctx, later)).closed == 1
    async with ctx.db.session() as s:
        closed = await s.get(Case, case_id)
    assert closed is not None and closed.status == CaseStatus.CLOSED
