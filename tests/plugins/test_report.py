"""The report page (/console/reports): periods of every kind with the one before (环比) and a
year earlier (同比), the figures and their changes worked out by hand, the breakdowns, each
agent's row; refused to the administrator; a wrong period gets the form back."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient

from hotline.core.foundation.settings import Settings
from hotline.core.people.accounts import hash_password
from hotline.core.shell.app import create_app
from hotline.core.shell.context import Kernel
from hotline.core.storage.enums import Role
from hotline.core.storage.models.axd import AgentStateSpan, QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from hotline.plugins.reports.report import PeriodError, Span, periods
from tests.admin.conftest import PASSWORD, sign_in
from tests.conftest import seed_city


def test_periods_of_every_kind_with_the_one_before_and_a_year_earlier() -> None:
    d = date(2026, 3, 18)  # a Wednesday
    week = periods("week", d)
    assert week.current == Span(date(2026, 3, 16), date(2026, 3, 23))
    assert week.previous == Span(date(2026, 3, 9), date(2026, 3, 16))
    month = periods("month", date(2026, 1, 31))
    assert month.current == Span(date(2026, 1, 1), date(2026, 2, 1))
    assert month.previous == Span(date(2025, 12, 1), date(2026, 1, 1))
    assert month.year_ago == Span(date(2025, 1, 1), date(2025, 2, 1))
    quarter = periods("quarter", date(2026, 5, 2))
    assert quarter.current == Span(date(2026, 4, 1), date(2026, 7, 1))
    assert quarter.previous == Span(date(2026, 1, 1), date(2026, 4, 1))
    year = periods("year", d)
    assert (year.current.days, year.previous.first) == (365, date(2025, 1, 1))
    leap = periods("day", date(2028, 2, 29))
    assert leap.year_ago == Span(date(2027, 2, 28), date(2027, 3, 1))
    own = periods("custom", date(2026, 3, 1), date(2026, 3, 10))
    assert own.current == Span(date(2026, 3, 1), date(2026, 3, 11))
    assert own.previous == Span(date(2026, 2, 19), date(2026, 3, 1))  # ten days before
    for wrong in (("custom", date(2026, 3, 10), date(2026, 3, 1)), ("fortnight", d, None)):
        with pytest.raises(PeriodError):
            periods(*wrong)
    with pytest.raises(PeriodError):
        periods("custom", date(2020, 1, 1), date(2026, 1, 1))  # more than three years


@pytest.fixture
def client(settings: Settings, kernel: Kernel) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings, kernel)) as c:
        c.headers["Accept-Language"] = "en"
        ctx = c.app.state.ctx

        async def setup() -> None:
            await seed_city(ctx)
            async with ctx.db.transaction() as s:
                for role in (Role.SUPERVISOR, Role.AGENT, Role.ADMINISTRATOR):
                    s.add(
                        User(
                            username=f"{role.value}1",
                            display_name=f"Staff {role.value}",
                            role=role,
                            password_hash=hash_password(PASSWORD),
                        )
                    )

        c.blocking_portal.call(setup)
        yield c


def _at(day: date, hour: int, tz: Any) -> datetime:
    return datetime.combine(day, time(hour), tz).astimezone(UTC)


_numbers = iter(range(10**6))


def a_case(at: datetime, channel: str = "web", kind: str = "complaint", **kw: Any) -> Case:
    return Case(
        tracking_number=f"R{next(_numbers):09d}",
        kind=kind,
        language="zh_CN",
        first_channel=channel,
        created_at=at,
        updated_at=at,
        **kw,
    )


def an_item(case: Case, start: datetime, **kw: Any) -> QueueItem:
    """A finished e-mail contact of ``case`` that entered the queue at ``start``."""
    return QueueItem(
        case=case,
        media="email",
        skills=[],
        language="zh_CN",
        state="done",
        waiting_since=start,
        updated_at=start,
        **kw,
    )


def test_the_report_shows_figures_with_their_changes(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx
    day = date(2026, 3, 18)
    before = day - timedelta(days=1)

    async def seed() -> int:
        async with ctx.db.transaction() as s:
            agent = User(username="lin", display_name="Lin", role="agent", password_hash="x")
            s.add(agent)
            await s.flush()
            for when, answered in ((day, 3), (day, 0), (before, 1)):
                for k in range(answered or 1):
                    start = _at(when, 9 + k, ctx.tz)
                    case = a_case(start, "email")
                    s.add(case)
                    s.add(
                        an_item(
                            case,
                            start,
                            agent_id=agent.id if answered else None,
                            assigned_at=start + timedelta(seconds=10) if answered else None,
                            done_at=start + timedelta(seconds=130 if answered else 30),
                            outcome=None if answered else "abandoned",
                        )
                    )
            s.add(
                AgentStateSpan(
                    agent_id=agent.id,
                    state="available",
                    started_at=_at(day, 8, ctx.tz),
                    ended_at=_at(day, 12, ctx.tz),
                )
            )
            return agent.id

    client.blocking_portal.call(seed)
    sign_in(client, "administrator1")  # settings, not reports (agents see their own work)
    assert client.get("/console/reports").status_code == 403
    client.cookies.clear()
    sign_in(client, "supervisor1")
    page = client.get(f"/console/reports?kind=day&date={day.isoformat()}")
    assert page.status_code == 200
    html = BeautifulSoup(page.text, "html.parser")

    def row(figure: str) -> list[str]:
        found = html.select_one(f'#headlines tr[data-figure="{figure}"]')
        assert found is not None, figure
        return [cell.get_text(strip=True) for cell in found.find_all(["td"])]

    # this day: 4 offered (3 answered, 1 abandoned); the day before: 1 offered, answered
    assert row("offered") == ["4", "1", "+300.0%", "0", "—"]
    assert row("answered") == ["3", "1", "+200.0%", "0", "—"]
    assert row("abandon_rate")[:3] == ["25.0%", "0.0%", "+25.0 pts"]
    assert row("asa")[0] == "10 s"
    assert row("aht")[0] == "120 s"
    assert row("intake")[:2] == ["4", "1"]
    contacts = html.select_one('#contacts tr[data-part="email"]')
    assert contacts is not None
    assert [c.get_text(strip=True) for c in contacts.find_all("td")][:3] == ["4", "3", "1"]
    [agent] = html.select("#agents tbody tr")
    cells = [c.get_text(strip=True) for c in agent.find_all(["th", "td"])]
    assert cells[0] == "Lin" and cells[1] == "4:00" and cells[7] == "E-mail 3"
    assert "Cases opened by channel" in page.text

    wrong = client.get("/console/reports?kind=custom&date=2026-03-10&end=2026-03-01")
    assert wrong.status_code == 400
    form = BeautifulSoup(wrong.text, "html.parser")
    assert "comes before the first" in form.select_one("#problem").get_text()
    assert form.select_one("#end")["value"] == "2026-03-01"  # the form back as typed
    assert client.get("/console/reports?date=18-03-2026").status_code == 400


def test_every_intake_number_links_to_the_cases_behind_it(client: TestClient[Any]) -> None:
    """Drill-down: each number of cases opened by channel and by kind links to the case search
    for the same days and that channel or kind, whose count is the number; the director's sealed
    letters are counted in the figures and said apart (no list shows them)."""
    ctx = client.app.state.ctx
    day = date(2026, 3, 18)

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            for channel, kind, sealed, count in (
                ("email", "complaint", False, 3),
                ("web", "complaint", False, 2),
                ("web", "consultation", False, 1),
                ("email", "director_mailbox", True, 2),
            ):
                for k in range(count):
                    at = _at(day, 9 + k, ctx.tz)
                    s.add(a_case(at, channel, kind, sealed=sealed))
            # the day after: not in the report, nor in its lists
            s.add(a_case(_at(day + timedelta(days=1), 9, ctx.tz), "email"))

    client.blocking_portal.call(seed)
    sign_in(client, "supervisor1")
    page = BeautifulSoup(
        client.get(f"/console/reports?kind=day&date={day.isoformat()}").text, "html.parser"
    )
    opened = page.select_one('#headlines tr[data-figure="intake"] td').get_text(strip=True)
    assert opened == "8"  # the letters included
    assert "2 letters to the director" in page.select_one("#sealed-letters").get_text()
    checked = {}
    for link in page.select("#intake-channel a.drill, #intake-kind a.drill"):
        listed = BeautifulSoup(client.get(link["href"]).text, "html.parser")
        total = listed.select_one(".pager .total")["data-total"]
        checked[link["href"].split("&")[-1]] = (link.get_text(strip=True), total)
    assert checked == {
        "channel=email": ("3", "3"),
        "channel=web": ("3", "3"),
        "kind=complaint": ("5", "5"),
        "kind=consultation": ("1", "1"),
    }


def test_the_report_downloads_as_csv_and_excel_and_is_audited(client: TestClient[Any]) -> None:
    import csv
    import io

    from openpyxl import load_workbook
    from sqlalchemy import select

    from hotline.core.storage.models.people import AuditEntry

    ctx = client.app.state.ctx
    day = date(2026, 3, 18)

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            for k in range(3):
                s.add(a_case(_at(day, 9 + k, ctx.tz)))

    client.blocking_portal.call(seed)
    sign_in(client, "supervisor1")
    page = BeautifulSoup(
        client.get(f"/console/reports?kind=day&date={day.isoformat()}&breakdown=kind").text,
        "html.parser",
    )
    got = client.get(page.select_one("#export-csv")["href"])
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "report-day-2026-03-18.csv" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Figure", "This period", "Period before"]
    assert ["Cases opened", "3", "0", "", "0", "", ""] in rows
    # then the page's breakdown, after a blank line
    assert rows[rows.index([]) + 1 :] == [
        ["Cases opened by kind", "This period", "Period before", "Change (环比)"],
        ["Complaint", "3", "0", ""],
    ]
    book = client.get(page.select_one("#export-xlsx")["href"])
    assert book.status_code == 200
    sheets = load_workbook(io.BytesIO(book.content), read_only=True)
    assert sheets.sheetnames == [
        "Figures",
        "Contacts",
        "Cases opened",
        "Cases opened by kind",  # the page's breakdown, with the period before
        "Departments ranked",
        "Agents",
    ]
    opened = [list(r) for r in sheets["Cases opened"].iter_rows(values_only=True)]
    assert ["Web portal", 3] in [r[:2] for r in opened] and ["Complaint", 3] in opened
    by_kind = [list(r) for r in sheets["Cases opened by kind"].iter_rows(values_only=True)]
    assert ["Complaint", 3, 0, None] in by_kind  # none the day before: no change to give

    async def audited() -> list[dict[str, Any]]:
        async with ctx.db.session() as s:
            return [
                e.detail
                for e in await s.scalars(select(AuditEntry).where(AuditEntry.action == "export"))
            ]

    assert [(d["list"], d["format"]) for d in client.blocking_portal.call(audited)] == [
        ("report", "csv"),
        ("report", "xlsx"),
    ]
    client.cookies.clear()
    sign_in(client, "administrator1")
    assert client.get("/console/reports/export?format=csv").status_code == 403


def test_a_supervisor_has_the_weekly_report_mailed_once_per_week(
    client: TestClient[Any], smtp_sink: Any
) -> None:
    """The form on the report page (a wrong address gets the form back as typed); the hourly
    job mails the week just ended as Excel and CSV through the outbound mail, once; without
    outbound mail nothing is marked sent; stopping it is audited."""
    from openpyxl import load_workbook
    from sqlalchemy import select

    from hotline.core.storage.models.people import AuditEntry
    from hotline.core.storage.models.reports import ReportSchedule
    from hotline.plugins.reports.schedules import just_ended, send_due

    ctx = client.app.state.ctx
    sign_in(client, "supervisor1")
    page = BeautifulSoup(client.get("/console/reports").text, "html.parser")
    token = page.select_one('#schedule-form input[name="_csrf_token"]')["value"]
    wrong = client.post(
        "/console/reports/schedules",
        data={"_csrf_token": token, "every": "week", "recipients": "head@city.gov.cn, nobody"},
    )
    assert wrong.status_code == 400
    back = BeautifulSoup(wrong.text, "html.parser")
    assert back.select_one("#recipients")["value"] == "head@city.gov.cn, nobody"
    assert back.select_one("#recipients-error") is not None
    saved = client.post(
        "/console/reports/schedules",
        data={
            "_csrf_token": token,
            "every": "week",
            "recipients": "head@city.gov.cn; Office@City.gov.cn",
        },
    )
    assert saved.status_code == 200 and "#schedules" in str(saved.url)

    monday = date(2026, 3, 23)
    assert just_ended("week", monday)[0] == "2026-W12"  # 16 to 22 March
    assert just_ended("month", monday)[0] == "2026-02"
    ctx.settings.smtp_url = ""  # no outbound mail yet: nothing sent, nothing marked
    assert client.blocking_portal.call(lambda: send_due(ctx, monday)) == 0
    ctx.settings.smtp_url, ctx.settings.mail_address = smtp_sink.url, "hotline@city.gov.cn"
    assert client.blocking_portal.call(lambda: send_due(ctx, monday)) == 1
    assert client.blocking_portal.call(lambda: send_due(ctx, monday + timedelta(days=3))) == 0
    [mail] = smtp_sink.received
    assert mail["To"] == "head@city.gov.cn, Office@city.gov.cn"  # the domain in lower case
    assert "2026-03-16 – 2026-03-22" in mail["Subject"]
    files = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(files) >= {"report-week-2026-W12.xlsx", "report-week-2026-W12.csv"}
    book = load_workbook(io.BytesIO(files["report-week-2026-W12.xlsx"].get_content()))
    assert book.sheetnames[0] == "Figures"

    async def state() -> tuple[list[str | None], list[str]]:
        async with ctx.db.session() as s:
            periods_sent = [r.last_period for r in await s.scalars(select(ReportSchedule))]
            actions = [
                e.action for e in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))
            ]
            return periods_sent, actions

    sent, actions = client.blocking_portal.call(state)
    assert sent == ["2026-W12"]
    assert "report.scheduled" in actions and "report.mailed" in actions
    page = BeautifulSoup(client.get("/console/reports").text, "html.parser")
    [row] = page.select("#schedule-list tbody tr")
    token = row.select_one('input[name="_csrf_token"]')["value"]
    client.post(row.select_one("form")["action"], data={"_csrf_token": token})
    sent, actions = client.blocking_portal.call(state)
    assert sent == [] and actions[-1] == "report.unscheduled"


def test_cases_by_department_and_service_link_to_their_lists_and_hot_topics_rise(
    client: TestClient[Any],
) -> None:
    """Cases opened per department and per service, each number a link to its list (the count
    matches); the hot topics are the services that rose most over the period before."""
    from sqlalchemy import select

    from hotline.core.storage.models.reference import Department, ServiceCategory

    ctx = client.app.state.ctx
    day = date(2026, 3, 18)

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            roads = await s.scalar(select(Department.id).where(Department.code == "roads"))
            pothole, noise = [
                await s.scalar(select(ServiceCategory.id).where(ServiceCategory.code == c))
                for c in ("pothole", "noise")
            ]
            for when, category, department, count in (
                (day, pothole, roads, 4),
                (day, noise, None, 1),
                (day, None, None, 1),
                (day - timedelta(days=1), pothole, roads, 1),
                (day - timedelta(days=1), noise, None, 2),
            ):
                for k in range(count):
                    s.add(
                        a_case(
                            _at(when, 9 + k, ctx.tz),
                            category_id=category,
                            department_id=department,
                        )
                    )

    client.blocking_portal.call(seed)
    sign_in(client, "supervisor1")
    page = BeautifulSoup(
        client.get(f"/console/reports?kind=day&date={day.isoformat()}").text, "html.parser"
    )
    rows = {
        tr.find("th").get_text(strip=True): tr.select_one("td.text-end").get_text(strip=True)
        for tr in page.select("#intake-department tbody tr, #intake-category tbody tr")
    }
    assert rows == {
        "Transport Bureau": "4",
        "Not yet routed": "2",
        "Road damage": "4",
        "Noise": "1",
        "Not classified": "1",
    }
    for link in page.select("#intake-department a.drill, #intake-category a.drill"):
        listed = BeautifulSoup(client.get(link["href"]).text, "html.parser")
        assert listed.select_one(".pager .total")["data-total"] == link.get_text(strip=True)
    hot = [
        [c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
        for tr in page.select("#hot-topics tbody tr")
    ]
    assert hot == [["Road damage", "4", "1", "+3"]]  # noise fell: not a hot topic


def test_a_saved_report_is_kept_for_its_owner_or_shared_with_a_role(
    client: TestClient[Any],
) -> None:
    from hotline.core.people.accounts import hash_password as hashed

    ctx = client.app.state.ctx

    async def second_supervisor() -> None:
        async with ctx.db.transaction() as s:
            s.add(
                User(
                    username="supervisor2",
                    display_name="Second",
                    role=Role.SUPERVISOR,
                    password_hash=hashed(PASSWORD),
                )
            )

    client.blocking_portal.call(second_supervisor)
    sign_in(client, "supervisor1")
    page = BeautifulSoup(client.get("/console/reports?kind=month&by=queue").text, "html.parser")
    form = page.select_one("#save-form")
    fields = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    assert (fields["kind"], fields["by"]) == ("month", "queue")
    nameless = client.post("/console/reports/saved", data={**fields, "name": " "})
    assert nameless.status_code == 400 and "give it a name" in nameless.text
    client.post("/console/reports/saved", data={**fields, "name": "Monthly by queue"})
    client.post(
        "/console/reports/saved",
        data={**fields, "name": "For the team", "shared_with": "supervisor"},
    )
    mine = BeautifulSoup(client.get("/console/reports").text, "html.parser")
    links = {a.get_text(strip=True): a["href"] for a in mine.select("#saved-list a")}
    assert set(links) == {"Monthly by queue", "For the team"}
    # the breakdown and the chart are kept with it
    assert links["Monthly by queue"] == (
        "/console/reports?kind=month&by=queue&breakdown=department&chart=bar"
    )
    client.cookies.clear()
    sign_in(client, "supervisor2")
    theirs = BeautifulSoup(client.get("/console/reports").text, "html.parser")
    items = theirs.select("#saved-list li")
    assert [li.a.get_text(strip=True) for li in items] == ["For the team"]  # shared only
    assert items[0].select_one("form") is None  # only its owner deletes it


def pdf_text(content: bytes, folder: Path) -> str:
    """A PDF's text as Ghostscript's text device reads it, without any whitespace."""
    import subprocess

    path = folder / "report.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["gs", "-q", "-sDEVICE=txtwrite", "-o", "-", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "".join(text.split())


def test_the_report_prints_as_a_pdf_in_chinese(client: TestClient[Any], tmp_path: Any) -> None:
    """The PDF (the mailed reports carry it too) holds the period, the figures and their words
    in the reader's language: read back with Ghostscript's text device."""
    import shutil

    from hotline.plugins.reports.report_pdf import font
    from tests.conftest import need

    need(font() is not None, "a Chinese font (Debian package fonts-noto-cjk)")
    need(shutil.which("gs") is not None, "Ghostscript (Debian package ghostscript)")
    ctx = client.app.state.ctx
    day = date(2026, 3, 18)

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            for k in range(2):
                s.add(a_case(_at(day, 9 + k, ctx.tz), "phone"))

    client.blocking_portal.call(seed)
    sign_in(client, "supervisor1")
    got = client.get(
        f"/console/reports/export?kind=day&date={day.isoformat()}&format=pdf",
        headers={"Accept-Language": "zh-CN"},
    )
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")
    assert got.headers["content-type"] == "application/pdf"
    flat = pdf_text(got.content, tmp_path)
    assert "2026-03-18" in flat
    assert "受理工单" in flat and "按渠道受理工单" in flat and "环比" in flat
