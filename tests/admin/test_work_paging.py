"""Work records page like every staff list: 1,000 contacts walk page by page to the same total
with no duplicate and no gap, on SQLite and PostgreSQL, and the totals per person count every
record of the filter (not the page shown); the page says how many there are in all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.admin.work import records_page
from hotline.core.shell.context import AppContext
from hotline.core.storage.db import Database
from hotline.core.storage.enums import Role
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from tests.admin.conftest import sign_in
from tests.admin.test_work import since

ROWS = 1000


async def worked(db: Database, agents: dict[str, int]) -> dict[str, tuple[int, int]]:
    """1,000 finished contacts taken in the last hour by the two agents (many at the same
    second: the id breaks the ties); returns each agent's count and handling seconds."""
    now = utcnow().replace(microsecond=0)
    names = sorted(agents)
    expected = {name: (0, 0) for name in names}
    async with db.transaction() as session:
        cases = [
            Case(tracking_number=f"W{i:07d}", kind="complaint", language="zh", first_channel="web")
            for i in range(ROWS)
        ]
        session.add_all(cases)
        await session.flush()
        for i, case in enumerate(cases):
            name = names[i % 3 == 0]
            taken = now - timedelta(minutes=30 + i % 7)
            minutes = 1 + i % 5
            session.add(
                QueueItem(
                    case_id=case.id,
                    media="web",
                    language="zh",
                    skills=["general"],
                    state="done",
                    agent_id=agents[name],
                    assigned_at=taken,
                    done_at=taken + timedelta(minutes=minutes),
                )
            )
            count, seconds = expected[name]
            expected[name] = (count + 1, seconds + minutes * 60)
    return expected


async def test_1000_records_page_through_with_their_totals(ctx: AppContext) -> None:
    async with ctx.db.transaction() as session:
        people = [
            User(username=n, display_name=n, role=Role.AGENT, password_hash="-")
            for n in ("ann", "bo")
        ]
        session.add_all(people)
        await session.flush()
        agents = {u.username: u.id for u in people}
    expected = await worked(ctx.db, agents)
    wanted = [(name, *expected[name]) for name in sorted(expected)]
    since = utcnow() - timedelta(hours=2)
    for order in ("desc", "asc"):
        seen: list[str] = []
        after, pages = None, 0
        while True:
            page, totals = await records_page(
                ctx.db,
                [QueueItem.assigned_at >= since],
                now=utcnow(),
                order=order,
                after=after,
                size=37,
            )
            assert page.total == ROWS and totals == wanted  # the whole filter, on every page
            seen += [number for _, number, _ in page.rows]
            pages += 1
            if page.after is None:
                break
            after = page.after
        assert pages == 28 and len(seen) == ROWS == len(set(seen))
    one, totals = await records_page(
        ctx.db, [QueueItem.agent_id == agents["bo"]], now=utcnow(), size=10
    )
    assert one.total == expected["bo"][0] and totals == [("bo", *expected["bo"])]


def test_the_work_records_page_shows_the_total_and_the_next_page(
    client: TestClient[Any],
) -> None:
    ctx = client.app.state.ctx

    async def make() -> dict[str, tuple[int, int]]:
        async with ctx.db.session() as session:
            found = await session.execute(select(User.username, User.id))
            ids = {name: i for name, i in found if name in ("agent1", "team_leader1")}
        return await worked(ctx.db, ids)

    expected = client.blocking_portal.call(make)
    sign_in(client, "supervisor1")
    params = {"from": since(client), "size": "200"}
    seen: list[str] = []
    for _ in range(10):
        soup = BeautifulSoup(client.get("/console/work/team", params=params).text, "html.parser")
        assert soup.select_one(".pager .total")["data-total"] == str(ROWS)  # type: ignore[index]
        totals = [
            [td.get_text(strip=True) for td in tr.find_all("td")]
            for tr in soup.select("#totals tbody tr")
        ]
        assert [r[:3] for r in totals] == [
            [name, str(count), f"{seconds // 60} min"]
            for name, (count, seconds) in sorted(expected.items())
        ]
        seen += [a["href"].rsplit("/", 1)[1] for a in soup.select("#records a")]  # type: ignore[union-attr]
        following = soup.select_one(".pager a.next")
        if following is None:
            break
        assert "from=" in following["href"]  # the filter stays on the next page's link
        params = {**params, "after": following["href"].split("after=")[1].split("&")[0]}  # type: ignore[union-attr]
    assert len(seen) == ROWS == len(set(seen))
    assert "Only the latest" not in soup.get_text()
