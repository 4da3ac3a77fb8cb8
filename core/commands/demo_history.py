"""The demo city's past, so that every screen shows every stage: the demo cases older than two
hours are worked through the real queue and workflow as a centre would have worked them, each
step at its own moment (the clock set back with time-machine while the step runs): agents on a
day and a night shift take the contacts, dispatch them to the service's department, departments sign for them (some
late, a few return one that is not theirs), reply, the hotline reviews the reply, the citizen
rates it; supervisors urge what is overdue. Steps that fall after now are not taken, so cases
stand at every stage, some past their deadlines; the newest contacts still wait in the queue for
whoever tries the agent's desk, and the agents are signed out (the demo agent starts there).

Deterministic (each case's plan is drawn from its own seed) and idempotent: only a case that is
still received, with its contact waiting, from before the last two hours, gets a history; the
five newest always wait (a small demo keeps its contacts for the agent's desk)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from itertools import count

import time_machine
from sqlalchemy import select

from hotline.core.axd import state as axd
from hotline.core.cases.actions import ActionRefused
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind, AgentState, CaseStatus, QueueState, Satisfaction
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import Department, ServiceCategory
from hotline.core.workflow import closing, dispatch, oversight, timers

AGENTS = ("demo-agent", "demo-team-leader")  # the day shift and the night shift
SHIFT = timedelta(hours=12)  # from 08:00 and from 20:00, in the hotline's time zone
SUPERVISOR = "demo-supervisor"
DEPARTMENT_STAFF = "demo-department"
QUIET = timedelta(hours=2)  # the last two hours' contacts are left waiting
LEFT = 5  # and at least this many of the newest
REPLIES = {
    "zh_CN": (
        "经现场核查，已安排人员处理，问题已解决。感谢您的监督。",
        "已联系相关责任单位，于次日完成整改，后续将加强日常巡查。",
        "经核实，该问题已列入本月维修计划，预计三个工作日内完成。",
    ),
    "en": (
        "We inspected the site and sent a crew; the problem has been fixed. Thank you.",
        "The responsible unit was contacted and put it right the next day.",
        "This is in this month's repair plan and will be done within three working days.",
    ),
}
RETURN_REASON = "经核实不属于本单位职责范围，请重新派单。"
URGE_TEXT = "该工单已超期，请尽快办理并回复。"


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    run: Callable[[], Awaitable[object]] = field(compare=False)


class _Timeline:
    """Steps in time order; each runs with the clock at its moment."""

    def __init__(self, until: datetime) -> None:
        self.until, self.seq, self.taken = until, count(), 0
        self.steps: list[_Step] = []

    def at(self, moment: datetime, run: Callable[[], Awaitable[object]]) -> None:
        if moment < self.until:
            heapq.heappush(self.steps, _Step(moment, next(self.seq), run))

    async def play(self) -> None:
        while self.steps:
            step = heapq.heappop(self.steps)
            with time_machine.travel(step.at, tick=False):
                try:
                    await step.run()
                    self.taken += 1
                except ActionRefused:
                    pass  # the case moved on another way (merged, already answered)


def _staff(label: str, user_id: int | None = None) -> Actor:
    return Actor(ActorKind.STAFF, id=user_id, label=label)


async def _waiting(ctx: AppContext, before: datetime) -> list[tuple[Case, int, str]]:
    """The demo cases still received with their contact waiting, from before ``before``, each
    with its queue item and the code of its service's department."""
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(Case, QueueItem.id, Department.code)
            .join(QueueItem, QueueItem.case_id == Case.id)
            .join(ServiceCategory, ServiceCategory.id == Case.category_id)
            .join(Department, Department.id == ServiceCategory.default_department_id)
            .where(
                Case.status == CaseStatus.RECEIVED,
                Case.sealed.is_(False),
                Case.created_at < before,
                QueueItem.state == QueueState.WAITING,
            )
            .order_by(Case.created_at)
        )
        return [(case, item, code) for case, item, code in rows.all()]


def _on_shift(moment: datetime, begins: timedelta, ctx: AppContext) -> datetime:
    """The first moment at or after ``moment`` inside a shift that begins ``begins`` after each
    local midnight and lasts ``SHIFT``."""
    local = moment.astimezone(ctx.tz)
    midnight = datetime.combine(local.date(), time(), ctx.tz)
    for start in (midnight - timedelta(days=1) + begins, midnight + begins):
        if start <= local < start + SHIFT:
            return local
        if local < start:
            return start
    return midnight + timedelta(days=1) + begins


async def play_history(ctx: AppContext, now: datetime | None = None) -> int:
    """Work the demo cases' past; returns how many steps were taken."""
    now = now or utcnow()
    quiet = now - QUIET
    cases = [c for c in (await _waiting(ctx, now))[:-LEFT] if c[0].created_at < quiet]
    if not cases:
        return 0
    async with ctx.db.session() as session:
        users = {u.username: u for u in await session.scalars(select(User))}
        departments = list(await session.scalars(select(Department)))
    agents = [users[name].id for name in AGENTS if name in users]
    if not agents or SUPERVISOR not in users:
        return 0  # the demo accounts come first (demo_accounts.py)
    clerk = users.get(DEPARTMENT_STAFF)
    ids = {d.code: d.id for d in departments}
    staff = {  # who signs for and replies: the demo clerk in their department
        d.code: _staff(clerk.display_name, clerk.id)
        if clerk is not None and clerk.department_id == d.id
        else _staff(d.name_zh)
        for d in departments
    }
    line = _Timeline(now)
    by_id = {u.id: u for u in users.values()}
    supervisor = _staff(users[SUPERVISOR].display_name, users[SUPERVISOR].id)
    first = cases[0][0].created_at
    day = datetime.combine(first.astimezone(ctx.tz).date(), time(), ctx.tz) - timedelta(days=1)
    begins = {agent: timedelta(hours=8 + 12 * n) for n, agent in enumerate(agents)}
    while day < quiet:  # each agent's shift: available, then signed out
        for agent in agents:
            if day + begins[agent] < quiet:
                line.at(day + begins[agent], _presence(ctx, agent, AgentState.AVAILABLE))
                end = min(day + begins[agent] + SHIFT, quiet)
                line.at(end, _presence(ctx, agent, AgentState.SIGNED_OUT))
        day += timedelta(days=1)
    hour = first
    while hour < now:  # the deadline timers, as the hourly job runs them
        line.at(hour, lambda: timers.scan_deadlines(ctx))
        hour += timedelta(hours=1)
    free = dict.fromkeys(agents, first)
    for case, item, code in cases:
        rng = random.Random(case.id)
        wait = timedelta(seconds=min(rng.expovariate(1 / 45), 600))
        taken, agent = min(
            (_on_shift(max(case.created_at + wait, free[a]), begins[a], ctx), a) for a in agents
        )
        if taken >= quiet:
            continue
        done = taken + timedelta(seconds=rng.randint(90, 540))
        free[agent] = done + timedelta(seconds=60)
        line.at(taken, partial(axd.accept, ctx, item, agent))
        line.at(done, partial(axd.finish, ctx, item, agent))
        line.at(done + timedelta(seconds=30), lambda: axd.end_wrap_ups(ctx))
        hotline = _staff(by_id[agent].display_name, agent)  # the agent who took it
        _plan_case(ctx, line, rng, case, code, staff, ids, done, hotline, supervisor)
    await line.play()
    await timers.scan_deadlines(ctx, now)
    return line.taken


def _presence(ctx: AppContext, agent: int, state: AgentState) -> Callable[[], Awaitable[object]]:
    async def run() -> None:
        await axd.set_state(ctx, agent, state)

    return run


def _plan_case(
    ctx: AppContext,
    line: _Timeline,
    rng: random.Random,
    case: Case,
    code: str,
    staff: dict[str, Actor],
    ids: dict[str, int],
    handled: datetime,
    hotline: Actor,
    supervisor: Actor,
) -> None:
    """One case's way through the workflow from the agent's dispatch on."""
    at = handled - timedelta(seconds=20)
    line.at(at, partial(dispatch.do_dispatch, ctx, case.id, code, hotline))
    department = staff[code]
    late = rng.random() < 0.12  # a department that lets the deadlines run
    signed = at + (
        timedelta(hours=rng.uniform(26, 60)) if late else timedelta(minutes=rng.uniform(10, 300))
    )
    if rng.random() < 0.05:  # not theirs: back to the hotline, dispatched elsewhere
        other = rng.choice(sorted(c for c in staff if c != code))
        back = at + timedelta(minutes=rng.uniform(30, 240))
        line.at(
            back,
            partial(dispatch.do_return, ctx, case.id, ids[code], RETURN_REASON, department),
        )
        line.at(
            back + timedelta(minutes=rng.uniform(10, 60)),
            partial(dispatch.do_dispatch, ctx, case.id, other, hotline),
        )
        code, department = other, staff[other]
        signed = back + timedelta(hours=rng.uniform(1, 5))
    line.at(signed, partial(dispatch.do_sign_for, ctx, case.id, ids[code], department))
    replied = signed + timedelta(hours=rng.uniform(30, 90) if late else rng.uniform(3, 40))
    if late:
        line.at(
            signed + timedelta(hours=rng.uniform(20, 30)),
            lambda: oversight.do_urge(ctx, case.id, URGE_TEXT, supervisor),
        )
    text = rng.choice(REPLIES.get(case.language, REPLIES["zh_CN"]))
    line.at(
        replied, partial(dispatch.do_department_reply, ctx, case.id, ids[code], text, department)
    )
    reviewed = replied + timedelta(minutes=rng.uniform(15, 240))
    line.at(reviewed, lambda: dispatch.do_review(ctx, case.id, True, hotline))
    rated = reviewed + timedelta(hours=rng.uniform(2, 48))
    draw = rng.random()
    if draw < 0.1:  # not reached in the days allowed: closed without a rating
        line.at(rated, lambda: closing.do_close(ctx, case.id, hotline, reason="无法联系"))
        return
    mood = (
        Satisfaction.SATISFIED
        if draw < 0.78
        else Satisfaction.BASICALLY_SATISFIED
        if draw < 0.93
        else Satisfaction.NOT_SATISFIED
    )
    line.at(rated, lambda: closing.do_evaluate(ctx, case.id, mood, hotline))
