"""Who sees which figures (issue 19): a department's people see their department's cases, its
sign-for and replies and the ratings of its answers, and no contact-centre figure; an agent sees
their own contacts, the cases they opened and their own row; the director's office and the
supervisors see the whole centre; an administrator reads no report. The page and its downloads
agree; the sealed letter is counted, never listed; each number is worked out by hand below."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from hotline.core.people.accounts import hash_password
from hotline.core.storage.models.cases import CaseEvent
from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import Department, ServiceCategory
from hotline.core.storage.models.workflow import Assignment
from tests.admin.conftest import PASSWORD, sign_in
from tests.plugins.test_report import _at, a_case, an_item, client, pdf_text

__all__ = ["client"]

DAY = date(2026, 3, 18)


def _seed(client: TestClient[Any]) -> None:
    """Roads: 3 cases (one a sealed letter), its 2 assignments (one signed in time, one late),
    one rating (satisfied). Ecology: 1 case, its assignment returned, one rating (not satisfied).
    One case not routed. agent1 took 2 contacts (cases 1 and 4), lin 1 (case 2); one contact
    abandoned."""
    ctx = client.app.state.ctx

    async def seed() -> None:
        async with ctx.db.transaction() as s:
            dept = {
                d.code: d.id
                for d in await s.scalars(
                    select(Department).where(Department.code.in_(["roads", "env"]))
                )
            }
            agent1 = await s.scalar(select(User.id).where(User.username == "agent1"))
            pothole = await s.scalar(
                select(ServiceCategory.id).where(ServiceCategory.code == "pothole")
            )
            lin = User(username="lin", display_name="Lin", role="agent", password_hash="x")
            s.add_all(
                [
                    lin,
                    User(
                        username="roads1",
                        display_name="Roads officer",
                        role="department_officer",
                        department_id=dept["roads"],
                        password_hash=hash_password(PASSWORD),
                    ),
                    User(
                        username="office1",
                        display_name="Director's office",
                        role="director_office",
                        password_hash=hash_password(PASSWORD),
                    ),
                ]
            )
            await s.flush()
            rows = (  # department, sealed, who took its contact, abandoned
                ("roads", False, agent1, False),
                ("roads", False, lin.id, False),
                ("roads", True, None, False),
                ("env", False, agent1, False),
                (None, False, None, True),
            )
            for n, (code, sealed, agent, abandoned) in enumerate(rows):
                at = _at(DAY, 9 + n, ctx.tz)
                case = a_case(
                    at,
                    "phone",
                    department_id=dept.get(code or ""),
                    category_id=pothole,
                    sealed=sealed,
                )
                s.add(case)
                await s.flush()
                if agent or abandoned:
                    s.add(
                        an_item(
                            case,
                            at,
                            agent_id=agent,
                            assigned_at=None if abandoned else at + timedelta(seconds=20),
                            done_at=at + timedelta(seconds=200 if agent else 40),
                            outcome="abandoned" if abandoned else None,
                        )
                    )
                if code is None or sealed:
                    continue
                s.add(
                    Assignment(
                        case_id=case.id,
                        department_id=dept[code],
                        state="returned" if code == "env" else "accepted",
                        dispatched_at=at,
                        sign_deadline=at + timedelta(hours=2),
                        signed_at=at + timedelta(hours=1 if n == 0 else 3),
                    )
                )
                rating = "satisfied" if code == "roads" else "not_satisfied"
                if n != 1:  # case 2 is not rated yet
                    s.add(
                        CaseEvent(
                            case_id=case.id,
                            action="rated",
                            at=at + timedelta(hours=5),
                            detail={"satisfaction": rating},
                        )
                    )

    client.blocking_portal.call(seed)


def _page(client: TestClient[Any], user: str, query: str = "") -> BeautifulSoup:
    client.cookies.clear()
    sign_in(client, user)
    got = client.get(f"/console/reports?kind=day&date={DAY.isoformat()}{query}")
    assert got.status_code == 200, got.text[:300]
    return BeautifulSoup(got.text, "html.parser")


def _figures(page: BeautifulSoup) -> dict[str, str]:
    return {
        str(tr["data-figure"]): tr.find("td").get_text(strip=True)
        for tr in page.select("#headlines tbody tr")
    }


def _csv(client: TestClient[Any]) -> dict[str, str]:
    got = client.get(f"/console/reports/export?kind=day&date={DAY.isoformat()}&format=csv")
    assert got.status_code == 200
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    return {r[0]: r[1] for r in rows[1:] if len(r) > 1}


def test_a_department_sees_its_own_cases_and_no_contact_figure(client: TestClient[Any]) -> None:
    _seed(client)
    page = _page(client, "roads1")
    assert "Transport Bureau" in page.select_one("#scope").get_text()
    figures = _figures(page)
    # its 3 cases (the sealed letter counted); 1 of 2 signed in time; 1 rating, satisfied;
    # nothing returned; no contact-centre figure at all
    assert figures == {
        "intake": "3",
        "satisfaction": "100.0%",
        "acceptance": "50.0%",
        "completion": "—",
        "returns": "0.0%",
    }
    assert page.select_one("#contacts") is None and page.select_one("#agents") is None
    assert page.select_one("#schedules") is None  # mailing reports is the supervisors'
    options = [o["value"] for o in page.select("#breakdown option")]
    assert options == ["category", "channel", "kind", "district"]
    # the two listed cases by channel; the sealed letter is counted apart, never listed
    phone = page.select_one('#intake-channel tr[data-key="phone"] td.now').get_text(strip=True)
    assert phone == "2"
    assert "1 letters to the director" in page.select_one("#sealed-letters").get_text()
    assert not page.select("a.drill")  # the case list holds cases a department may not read
    # a breakdown of another scope falls back to the first the reader may choose
    assert _page(client, "roads1", "&breakdown=agent").select_one(
        '#breakdown option[value="category"][selected]'
    )
    exported = _csv(client)
    assert "Contacts offered" not in exported and exported.get("Cases opened") == "3"
    assert exported.get("Road damage") == "2"  # its breakdown, by service, listed cases only
    book = client.get(f"/console/reports/export?kind=day&date={DAY.isoformat()}&format=xlsx")
    sheets = load_workbook(io.BytesIO(book.content), read_only=True).sheetnames
    assert sheets == ["Figures", "Cases opened", "Cases opened by service", "Departments ranked"]


def test_an_agent_sees_their_own_work(client: TestClient[Any]) -> None:
    _seed(client)
    page = _page(client, "agent1")
    assert page.select_one("#scope") is not None
    figures = _figures(page)
    # agent1 took 2 contacts (20 s wait, 180 s handling each), opened cases 1 and 4; the ratings
    # of those: one satisfied, one not
    assert figures == {
        "offered": "2",
        "answered": "2",
        "abandon_rate": "0.0%",
        "asa": "20 s",
        "aht": "180 s",
        "service_level": "100.0%",
        "intake": "2",
        "satisfaction": "50.0%",
    }
    assert [tr.th.get_text(strip=True) for tr in page.select("#agents tbody tr")] == ["Staff agent"]
    departments = {
        tr["data-key"]: tr.select_one("td.now").get_text(strip=True)
        for tr in page.select("#intake-department tbody tr")
    }
    assert sorted(departments.values()) == ["1", "1"]
    assert "agent" not in [o["value"] for o in page.select("#breakdown option")]
    assert not page.select("a.drill")
    assert _csv(client).get("Contacts offered") == "2"


def test_the_directors_office_and_supervisors_see_the_whole_centre(
    client: TestClient[Any],
) -> None:
    _seed(client)
    for user in ("office1", "supervisor1"):
        figures = _figures(_page(client, user))
        assert figures["intake"] == "5" and figures["offered"] == "4"
        assert figures["acceptance"] == "50.0%" and figures["returns"] == "33.3%"
        assert figures["satisfaction"] == "50.0%"
    client.cookies.clear()
    sign_in(client, "administrator1")
    assert client.get("/console/reports").status_code == 403
    assert client.get("/console/reports/export?format=csv").status_code == 403


def test_departments_are_ranked_and_a_department_sees_its_own_rank(
    client: TestClient[Any],
) -> None:
    """Roads: 2 dispatched, 1 signed in time (50 %), none returned, 1 rating satisfied; Ecology:
    1 dispatched and returned (nothing settled), 1 rating not satisfied. Neither has a reply
    deadline settled: acceptance ranks Roads first."""
    _seed(client)

    def ranking(page: BeautifulSoup) -> list[list[str]]:
        return [
            [c.get_text(" ", strip=True) for c in tr.find_all(["th", "td"])]
            for tr in page.select("#ranking tbody tr")
        ]

    assert ranking(_page(client, "supervisor1")) == [
        ["1", "Transport Bureau", "2", "—", "50.0%", "0.0%", "100.0% (1)", "0"],
        ["2", "Ecology Bureau", "1", "—", "—", "100.0%", "0.0% (1)", "0"],
    ]
    assert ranking(_page(client, "roads1")) == [
        ["1 / 2", "Transport Bureau", "2", "—", "50.0%", "0.0%", "100.0% (1)", "0"]
    ]
    assert _page(client, "agent1").select_one("#ranking") is None
    client.cookies.clear()
    sign_in(client, "supervisor1")
    book = client.get(f"/console/reports/export?kind=day&date={DAY.isoformat()}&format=xlsx")
    sheet = load_workbook(io.BytesIO(book.content), read_only=True)["Departments ranked"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)][1:] == [
        [1, "Transport Bureau", 2, None, 50, 0, 100, 0],
        [2, "Ecology Bureau", 1, None, None, 100, 0, 0],
    ]


def test_the_printed_report_ranks_the_departments(client: TestClient[Any], tmp_path: Any) -> None:
    import shutil

    from hotline.plugins.reports.report_pdf import font
    from tests.conftest import need

    need(font() is not None, "a Chinese font (Debian package fonts-noto-cjk)")
    need(shutil.which("gs") is not None, "Ghostscript (Debian package ghostscript)")
    _seed(client)
    client.cookies.clear()
    sign_in(client, "supervisor1")
    got = client.get(
        f"/console/reports/export?kind=day&date={DAY.isoformat()}&format=pdf",
        headers={"Accept-Language": "zh-CN"},
    )
    assert got.status_code == 200
    flat = pdf_text(got.content, tmp_path)
    assert "部门考核排名" in flat
    assert flat.index("交通运输局") < flat.index("生态环境局", flat.index("部门考核排名"))
