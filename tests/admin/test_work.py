"""Work records: agents see their own contacts; team leaders and supervisors see everyone's,
filtered by time, queue and agent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.core.axd.state import accept, finish
from hotline.core.intake.receive import receive
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import User
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission


def worked(client: TestClient[Any]) -> None:
    """agent1 handled a pothole for 12 minutes; team_leader1 took a noise complaint, still open."""
    ctx = client.app.state.ctx

    async def make() -> None:
        await seed_city(ctx)
        async with ctx.db.session() as s:
            ids = {u: i for u, i in await s.execute(select(User.username, User.id))}
        for agent, category in (("agent1", "pothole"), ("team_leader1", "noise")):
            result = await receive(ctx, submission(category=category))
            async with ctx.db.session() as s:
                item = await s.scalar(
                    select(QueueItem.id).where(QueueItem.case_id == result.case_id)
                )
            assert await accept(ctx, item, ids[agent])
            if agent == "agent1":
                await finish(ctx, item, ids[agent])
                async with ctx.db.transaction() as s:
                    await s.execute(
                        update(QueueItem)
                        .where(QueueItem.id == item)
                        .values(assigned_at=utcnow() - timedelta(minutes=12), done_at=utcnow())
                    )

    client.blocking_portal.call(make)


def since(client: TestClient[Any]) -> str:
    """From yesterday (local time): the 12 minutes may begin before the hotline's midnight."""
    ctx = client.app.state.ctx
    return (utcnow().astimezone(ctx.tz) - timedelta(days=1)).strftime("%Y-%m-%d")


def table(html: str, name: str) -> list[list[str]]:
    soup = BeautifulSoup(html, "html.parser")
    return [
        [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in soup.select(f"#{name} tbody tr")
    ]


def test_agents_see_their_own_work(client: TestClient[Any]) -> None:
    worked(client)
    sign_in(client, "agent1")
    page = client.get(f"/console/work?lang=en&from={since(client)}").text
    assert [r[1] for r in table(page, "records")] == ["agent1"]
    assert table(page, "totals") == [["agent1", "1", "12 min", "12 min"]]
    assert client.get("/console/work/team").status_code == 403
    assert client.get("/console/work?agent=team_leader1").text.count("team_leader1") == 0


def test_team_leaders_see_everyone_filtered(client: TestClient[Any]) -> None:
    worked(client)
    for leader in ("team_leader1", "supervisor1"):
        client.cookies.clear()
        sign_in(client, leader)
        everyone = table(client.get(f"/console/work/team?from={since(client)}").text, "records")
        assert sorted(r[1] for r in everyone) == ["agent1", "team_leader1"]
    only = table(
        client.get(f"/console/work/team?agent=team_leader1&from={since(client)}").text, "records"
    )
    assert [r[1] for r in only] == ["team_leader1"]
    noise = table(
        client.get(f"/console/work/team?group=noise&from={since(client)}").text, "records"
    )
    assert [r[1] for r in noise] == ["team_leader1"]
    earlier = table(client.get("/console/work/team?from=2020-01-01&to=2020-01-31").text, "records")
    assert earlier == []
