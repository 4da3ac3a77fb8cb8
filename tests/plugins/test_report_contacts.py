"""Drill-down from the contact centre's figures: each number offered, answered and abandoned,
per medium or per queue, links to the team's work records for the same days, medium (or queue)
and outcome, whose count equals the number; the list pages by keyset through every contact,
those no agent took included; the call-back made for the agent who answered a call is the
same contact and is listed once."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient

from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.people import User
from tests.admin.conftest import sign_in
from tests.plugins.test_report import _at, a_case, client

__all__ = ["client"]


def test_each_contact_number_links_to_the_contacts_behind_it(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx
    day = date(2026, 3, 18)

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            lin = User(username="lin", display_name="Lin", role="agent", password_hash="x")
            s.add(lin)
            await s.flush()
            # (media, queue, answered, outcome, day offset, how many)
            for media, skills, answered, outcome, offset, count in (
                ("email", [], True, None, 0, 3),
                ("email", [], False, "abandoned", 0, 1),
                ("email", ["water"], False, None, 0, 1),  # still waiting
                ("voice", ["water"], True, None, 0, 2),
                ("voice", ["water"], False, "abandoned", 0, 2),
                ("voice", [], False, "voicemail", 0, 1),
                ("email", [], True, None, -1, 1),  # the day before: not in the lists
            ):
                for k in range(count):
                    start = _at(day + timedelta(days=offset), 9 + k, ctx.tz)
                    case = a_case(start, "email")
                    s.add(case)
                    s.add(
                        QueueItem(
                            case=case,
                            media=media,
                            skills=skills,
                            language="zh_CN",
                            state="done" if answered or outcome else "waiting",
                            waiting_since=start,
                            updated_at=start,
                            agent_id=lin.id if answered else None,
                            assigned_at=start + timedelta(seconds=30) if answered else None,
                            done_at=start + timedelta(minutes=3) if answered or outcome else None,
                            outcome=outcome,
                        )
                    )
                    if media == "voice" and answered:  # the call-back made for its agent
                        back = start + timedelta(minutes=1)
                        s.add(
                            QueueItem(
                                case=case,
                                media="callback",
                                skills=skills,
                                language="zh_CN",
                                state="done",
                                waiting_since=back,
                                assigned_at=back,
                                updated_at=back,
                                agent_id=lin.id,
                                done_at=back,
                            )
                        )

    client.blocking_portal.call(seed)
    sign_in(client, "supervisor1")
    checked: dict[tuple[str, str, str], tuple[str, str]] = {}
    for by in ("media", "queue"):
        page = BeautifulSoup(
            client.get(f"/console/reports?kind=day&date={day.isoformat()}&by={by}").text,
            "html.parser",
        )
        links = page.select("#contacts a.drill")
        assert links
        for link in links:
            got = client.get(link["href"])
            assert got.status_code == 200
            listed = BeautifulSoup(got.text, "html.parser")
            total = listed.select_one(".pager .total")["data-total"]
            part = link.find_parent("tr")["data-part"]
            which = link["data-count"]
            checked[(by, part, which)] = (link.get_text(strip=True), total)
            assert len(listed.select("#records tbody tr")) == int(total)
    assert checked[("media", "email", "offered")] == ("5", "5")
    assert checked[("media", "email", "answered")] == ("3", "3")
    assert checked[("media", "email", "abandoned")] == ("1", "1")
    assert checked[("media", "voice", "offered")] == ("5", "5")  # the call-backs not again
    assert checked[("queue", "water", "offered")] == ("5", "5")
    assert checked[("queue", "", "offered")] == ("5", "5")  # the general queue
    assert checked[("queue", "", "abandoned")] == ("1", "1")
    for key, (shown, total) in checked.items():
        assert shown == total, key

    # the list pages by keyset through every contact, those no agent took too
    first = client.get(
        f"/console/work/team?from={day}&to={day}&medium=voice&contacts=offered&size=2"
    )
    html = BeautifulSoup(first.text, "html.parser")
    seen = [tr.get_text(" ", strip=True) for tr in html.select("#records tbody tr")]
    nxt = html.select_one(".pager a[rel=next]")
    while nxt is not None:
        html = BeautifulSoup(client.get(nxt["href"]).text, "html.parser")
        seen += [tr.get_text(" ", strip=True) for tr in html.select("#records tbody tr")]
        nxt = html.select_one(".pager a[rel=next]")
    assert len(seen) == 5 and len(set(seen)) == 5
    assert sum("Hung up while waiting" in row for row in seen) == 2
    # an agent's own records keep their meaning: what they took, by when they took it
    client.cookies.clear()
