"""The report's chart (bar, line or pie, chosen in the form and kept in the address and in saved
reports) and its breakdowns: cases opened over the period step by step beside the period
before, worked out by hand; cases per district (the district routing rules' names found in the
case's place) and per agent (who took the contact that opened it), each with the period before
and the change (环比)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import Department, RoutingRule
from hotline.plugins.reports.report import Span
from hotline.plugins.reports.series import fold, starts, step_for
from tests.admin.conftest import sign_in
from tests.plugins.test_report import _at, a_case, an_item, client

__all__ = ["client"]  # the report tests' client: a seeded city and one user per role


def test_the_steps_of_a_period_and_days_folded_into_them() -> None:
    day = Span(date(2026, 3, 18), date(2026, 3, 19))
    month = Span(date(2026, 2, 1), date(2026, 3, 1))
    quarter = Span(date(2026, 1, 1), date(2026, 4, 1))
    year = Span(date(2025, 1, 1), date(2026, 1, 1))
    assert [step_for(s) for s in (day, month, quarter, year)] == ["hour", "day", "week", "month"]
    assert len(starts(month, "day")) == 28
    weeks = starts(quarter, "week")
    assert (len(weeks), weeks[1], weeks[-1]) == (13, date(2026, 1, 8), date(2026, 3, 26))
    assert starts(year, "month")[11] == date(2025, 12, 1)
    own = Span(date(2026, 1, 15), date(2026, 9, 10))  # own dates: the first month is a part
    assert starts(own, "month")[:2] == [date(2026, 1, 15), date(2026, 2, 1)]
    per_day = [1] * 90  # 1 January to 31 March 2026
    assert fold(per_day, quarter, "week") == [7] * 12 + [6]
    assert fold([1] * 365, year, "month")[:3] == [31, 28, 31]


def _page(client: TestClient[Any], query: str) -> BeautifulSoup:
    got = client.get(f"/console/reports?{query}")
    assert got.status_code == 200, got.text[:300]
    return BeautifulSoup(got.text, "html.parser")


def _chart(page: BeautifulSoup) -> dict[str, Any]:
    found = page.select_one('script#report-chart-data[type="application/json"]')
    assert found is not None
    return dict(json.loads(found.get_text()))


def test_the_line_chart_draws_cases_opened_over_the_period_beside_the_one_before(
    client: TestClient[Any],
) -> None:
    ctx = client.app.state.ctx
    wednesday = date(2026, 3, 18)
    monday = wednesday - timedelta(days=2)

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            for day, hour, sealed in (
                (monday, 9, False),
                (monday, 23, False),
                (wednesday, 0, False),
                (wednesday, 12, False),
                (wednesday, 13, True),  # a sealed letter: in the count, as in the headline
                (monday - timedelta(days=6), 10, False),  # the week before, a Tuesday
                (monday + timedelta(days=7), 10, False),  # the week after: not shown
            ):
                s.add(a_case(_at(day, hour, ctx.tz), sealed=sealed))

    client.blocking_portal.call(seed)
    sign_in(client, "supervisor1")
    page = _page(client, f"kind=week&date={wednesday.isoformat()}&chart=line")
    data = _chart(page)
    assert data["chart"] == "line"
    assert data["labels"] == [f"03-{d}" for d in range(16, 23)]
    assert [s["values"] for s in data["series"]] == [[2, 0, 3, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0]]
    assert data["series"][0]["name"] == "This period"
    headline = page.select_one('#headlines tr[data-figure="intake"] td').get_text(strip=True)
    assert headline == str(sum(data["series"][0]["values"]))
    table = [
        [c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
        for tr in page.select("#over-time tbody tr")
    ]
    assert table[0] == ["03-16", "", "2", "0"] and table[2] == ["03-18", "", "3", "0"]
    chart = page.select_one("#report-chart")
    assert chart.has_attr("hidden") and chart["role"] == "img"  # drawn by the script alone
    assert page.select_one('script[src="/static/reports/report-charts.js"]') is not None
    assert "chart=line" in page.select_one("#export-csv")["href"]
    # a day: per hour; a year: per month, the year before beside it
    hourly = _chart(_page(client, f"kind=day&date={wednesday.isoformat()}&chart=line"))
    assert len(hourly["labels"]) == 24 and hourly["series"][0]["values"][12:14] == [1, 1]
    yearly = _chart(_page(client, "kind=year&date=2026-05-01&chart=line"))
    assert yearly["labels"][:2] == ["2026-01", "2026-02"]
    assert yearly["series"][0]["values"][2] == 7  # March: all seven

    # bars and pie: the breakdown; anything else is bars
    bars = _chart(_page(client, f"kind=week&date={wednesday.isoformat()}&chart=bar"))
    assert bars["chart"] == "bar" and bars["title"] == "Cases opened by department"
    assert bars["labels"] == ["Not yet routed"] and [s["values"] for s in bars["series"]] == [
        [4],
        [1],
    ]
    pie = _chart(_page(client, f"kind=week&date={wednesday.isoformat()}&chart=pie&breakdown=kind"))
    assert (pie["chart"], pie["labels"], len(pie["series"])) == ("pie", ["Complaint"], 1)
    wrong = _page(client, "kind=week&chart=<script>&breakdown=nothing")
    assert _chart(wrong)["chart"] == "bar"
    assert wrong.select_one("#chart option[selected]")["value"] == "bar"


def test_cases_by_district_and_by_agent_with_the_period_before(client: TestClient[Any]) -> None:
    """Districts are the district rules' names found in the case's place (the first rule in
    routing's order, compared without case); agents are who took the contact that opened the
    case. Each row: this period, the period before, the change."""
    ctx = client.app.state.ctx
    day = date(2026, 3, 18)
    before = day - timedelta(days=1)

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            department = await s.scalar(select(Department.id).limit(1))
            for position, pattern in ((1, "Hepingli"), (2, "Xizhimen"), (3, "hepingli east")):
                s.add(
                    RoutingRule(
                        kind="district",
                        pattern=pattern,
                        department_id=department,
                        position=position,
                    )
                )
            s.add(
                RoutingRule(kind="district", pattern="Off", department_id=department, active=False)
            )
            lin = User(username="lin", display_name="Lin Fang", role="agent", password_hash="x")
            s.add(lin)
            await s.flush()
            for when, place, taken in (
                (day, "12 HEPINGLI East Street", True),
                (day, "Building 3, hepingli", True),
                (day, "88 Xizhimen Outer Street", False),
                (day, "Office 100%_", False),  # no district (the inactive rule is not read)
                (day, None, None),  # no place, no queue item
                (before, "Hepingli", True),
                (before, "Xizhimen", True),
                (before, "Xizhimen", True),
            ):
                case = a_case(_at(when, 10, ctx.tz), location_text=place)
                s.add(case)
                if taken is not None:
                    start = _at(when, 10, ctx.tz)
                    s.add(
                        an_item(
                            case,
                            start,
                            agent_id=lin.id if taken else None,
                            assigned_at=start if taken else None,
                        )
                    )

    client.blocking_portal.call(seed)
    sign_in(client, "supervisor1")

    def table(page: BeautifulSoup, id_: str) -> list[list[str]]:
        return [
            [c.get_text(strip=True) for c in tr.find_all(["th", "td"])][:1]
            + [c.get_text(strip=True) for c in tr.find_all("td")][1:]
            for tr in page.select(f"#{id_} tbody tr")
        ]

    districts = _page(client, f"kind=day&date={day.isoformat()}&breakdown=district")
    assert table(districts, "intake-district") == [
        ["Hepingli", "2", "1", "+100.0%"],
        ["No district named", "2", "0", "—"],
        ["Xizhimen", "1", "2", "-50.0%"],
    ]
    assert districts.select_one("#breakdown option[selected]")["value"] == "district"
    assert _chart(districts)["labels"] == ["Hepingli", "No district named", "Xizhimen"]
    agents = _page(client, f"kind=day&date={day.isoformat()}&breakdown=agent&chart=pie")
    assert table(agents, "intake-agent") == [
        ["No agent took it", "3", "0", "—"],
        ["Lin Fang", "2", "3", "-33.3%"],
    ]
    # drill-down: each district's and agent's number (this period and the one before) links
    # to the case list with that filter, whose count is the number ("none" is not a filter)
    drilled = {}
    for page in (districts, agents):
        for link in page.select("a.drill, a.drill-before"):
            listed = BeautifulSoup(client.get(link["href"]).text, "html.parser")
            total = listed.select_one(".pager .total")["data-total"]
            assert total == link.get_text(strip=True), link["href"]
            drilled[link["href"].split("&")[-1]] = drilled.get(link["href"].split("&")[-1], 0) + 1
    lin = client.blocking_portal.call(_user_id, ctx, "lin")
    mine = {k: n for k, n in drilled.items() if k.startswith(("district=", "agent="))}
    assert mine == {"district=Hepingli": 2, "district=Xizhimen": 2, f"agent={lin}": 2}
    listed = BeautifulSoup(
        client.get(f"/console/cases?district=hepingli&since={day}&until={day}").text, "html.parser"
    )
    assert listed.select_one("#f-district option[selected]")["value"] == "Hepingli"
    # the standard tables show the period before too, with the change
    line = _page(client, f"kind=day&date={day.isoformat()}&breakdown=agent&chart=line")
    assert table(line, "intake-channel") == [["Web portal", "5", "3", "+66.7%"]]
    assert line.select_one("#intake-agent") is not None  # beside the four, under the line


async def _user_id(ctx: Any, username: str) -> int:
    async with ctx.db.session() as s:
        return int(await s.scalar(select(User.id).where(User.username == username)) or 0)


def test_a_pie_of_nothing_is_not_drawn_and_says_why(client: TestClient[Any]) -> None:
    """A period with no case opened: no grey disc, a sentence instead; the bars still compare
    with the period before."""
    sign_in(client, "supervisor1")
    quiet = "/console/reports?kind=day&date=2020-01-01&breakdown=channel"
    page = BeautifulSoup(client.get(quiet + "&chart=pie").text, "html.parser")
    data = json.loads(page.select_one("#report-chart-data").string)
    assert data["empty"] is True
    assert "no shares to draw" in page.select_one("#chart-section").get_text()
    bars = BeautifulSoup(client.get(quiet + "&chart=bar").text, "html.parser")
    assert json.loads(bars.select_one("#report-chart-data").string)["empty"] is False
    assert "no shares to draw" not in bars.select_one("#chart-section").get_text()
