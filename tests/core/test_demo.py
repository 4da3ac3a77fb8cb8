"""`hotline demo-data`: a demo city with something on every screen, loaded once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hotline.core.commands.cli import main
from hotline.core.commands.demo import load_demo
from hotline.core.commands.demo_accounts import add_demo_accounts
from hotline.core.commands.demo_history import play_history
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.reference import Department, ServiceCategory


async def test_demo_city_has_a_tree_services_and_a_week_of_cases(ctx: AppContext) -> None:
    counts = await load_demo(ctx.settings, days=3, per_day=12)
    assert counts["cases"] == 36 and counts["departments"] >= 10
    async with ctx.db.session() as s:
        departments = list(await s.scalars(select(Department)))
        services = list(await s.scalars(select(ServiceCategory)))
        cases = list(await s.scalars(select(Case)))
        repeat = await s.scalar(
            select(func.count()).select_from(
                select(Case.citizen_id)
                .where(Case.citizen_id.is_not(None))
                .group_by(Case.citizen_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    assert sum(d.parent_id is not None for d in departments) >= len(departments) - 1
    assert any(d.parent_id is not None and d.parent_id != departments[0].id for d in departments)
    assert all(s.name_zh and s.name_en and s.default_department_id for s in services)
    assert len({c.first_channel for c in cases}) >= 5
    assert {c.language for c in cases} == {"zh_CN", "en"}
    assert repeat and repeat > 0  # some citizens called more than once
    assert max(c.created_at for c in cases) - min(c.created_at for c in cases) > timedelta(days=1)

    again = await load_demo(ctx.settings, days=3, per_day=12)
    assert again == {
        "departments": 0,
        "services": 0,
        "pages": 0,
        "reply templates": 0,
        "cases": 0,
    }


def test_demo_data_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    assert main(["demo-data", "--days", "2", "--per-day", "5"]) == 0
    assert "10 cases" in capsys.readouterr().out


async def test_demo_city_has_a_past_at_every_stage(ctx: AppContext) -> None:
    """The demo's older cases were worked as a centre works them, each step at its own moment:
    every stage of the workflow is on screen, the newest contacts still wait, nothing happened
    in the future, and loading again takes no step twice."""
    await load_demo(ctx.settings, days=4, per_day=20)
    await add_demo_accounts(ctx)
    now = utcnow()
    steps = await play_history(ctx, now)
    assert steps > 80
    async with ctx.db.session() as s:
        statuses = dict(
            (await s.execute(select(Case.status, func.count()).group_by(Case.status))).all()
        )
        waiting = await s.scalar(select(func.count()).where(QueueItem.state == QueueState.WAITING))
        newest = list(
            await s.scalars(
                select(Case.id)
                .where(Case.sealed.is_(False))
                .order_by(Case.created_at.desc())
                .limit(5)
            )
        )
        newest_waiting = await s.scalar(
            select(func.count()).where(
                QueueItem.case_id.in_(newest), QueueItem.state == QueueState.WAITING
            )
        )
        latest = await s.scalar(select(func.max(CaseEvent.at)))
        rated = await s.scalar(select(func.count()).where(Case.satisfaction.is_not(None)))
        states = set(await s.scalars(select(AgentPresence.state)))
        handled = list(
            await s.execute(
                select(QueueItem.assigned_at, Case.created_at)
                .join(Case, Case.id == QueueItem.case_id)
                .where(QueueItem.state == QueueState.DONE)
            )
        )
    assert statuses.get("closed", 0) > 10 and rated and rated > 5
    assert len(statuses) >= 4  # closed, with a department, replied or answered, received
    assert newest_waiting == 5 and waiting >= 5
    assert latest is not None and latest.replace(tzinfo=None) <= now.replace(tzinfo=None)
    assert states == {AgentState.SIGNED_OUT}  # the demo agent starts out of the queue
    assert handled and all(taken > made for taken, made in handled)  # taken after it came in
    assert await play_history(ctx) == 0
