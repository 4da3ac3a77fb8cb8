"""Exports of the console's case lists (plugins/reports), on SQLite and PostgreSQL: the whole
filtered result, not the page, as Excel (opened with openpyxl) and CSV (parsed), row for row the
list; the citizen's name and contacts only for roles that read cases; sealed letters only for the
director's office; every export in the audit trail; a long export runs as a job whose page shows
its progress and then the link, for its owner alone."""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.people.accounts import hash_password
from hotline.core.shell.app import create_app
from hotline.core.shell.context import Kernel
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import AuditEntry, User
from hotline.core.workflow.dispatch import do_dispatch
from hotline.plugins.reports import routes, rows, store
from tests.admin.conftest import PASSWORD, sign_in
from tests.conftest import drain_jobs, seed_city
from tests.factories import submission

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(settings: Settings, kernel: Kernel) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(settings, kernel)) as c:
        c.headers["Accept-Language"] = "en"
        ctx = c.app.state.ctx

        async def setup() -> None:
            city = await seed_city(ctx)
            async with ctx.db.transaction() as s:
                for role in Role:
                    department = city["roads"] if role.startswith("department") else None
                    s.add(
                        User(
                            username=f"{role.value}1",
                            display_name=role.value,
                            role=role,
                            department_id=department,
                            password_hash=hash_password(PASSWORD),
                        )
                    )

        c.blocking_portal.call(setup)
        yield c


def make_cases(client: TestClient[Any], n: int = 12) -> dict[str, Any]:
    ctx = client.app.state.ctx

    async def make() -> dict[str, Any]:
        made = []
        for i in range(n):
            sub = submission(
                subject=f'=HYPERLINK("x") 路灯 {i}' if i == 3 else f"路灯不亮 第{i}盏",
                channel="sms" if i % 4 == 0 else "web",
                contacts=[{"kind": "phone", "value": f"1380013{i:04d}"}]
                + ([{"kind": "email", "value": "shimin1@example.com"}] if i == 1 else []),
                citizen_name=f"市民{i}",
            )
            made.append((await receive(ctx, sub)).tracking_number)
        sealed = await receive(
            ctx, submission(kind="director_mailbox", subject="给市长的信", citizen_name="李四")
        )
        return {"cases": made, "sealed": sealed.tracking_number, "sealed_id": sealed.case_id}

    return client.blocking_portal.call(make)


def csrf(client: TestClient[Any], page: str = "/console") -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(page).text)
    assert found
    return found.group(1)


def export(client: TestClient[Any], name: str, kind: str, **filters: str) -> Any:
    data = {"_csrf_token": csrf(client), "list": name, "format": kind}
    data.update({f"f_{k}": v for k, v in filters.items()})
    return client.post("/console/exports", data=data, follow_redirects=False)


def xlsx_rows(body: bytes) -> list[list[str]]:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    sheet = book.worksheets[0]
    return [[c if c is not None else "" for c in row] for row in sheet.iter_rows(values_only=True)]


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def listed(client: TestClient[Any], **params: str) -> list[str]:
    """The case numbers the case list shows, every page followed."""
    numbers: list[str] = []
    query: dict[str, str] = {**params, "size": "5"}
    while True:
        soup = BeautifulSoup(client.get("/console/cases", params=query).text, "html.parser")
        numbers += [a["href"].rsplit("/", 1)[1] for a in soup.select("#found a")]  # type: ignore[union-attr]
        following = soup.select_one(".pager a.next")
        if following is None:
            return numbers
        query = {**query, "after": str(following["href"]).split("after=")[1]}


def audits(client: TestClient[Any], action: str) -> list[AuditEntry]:
    async def read() -> list[AuditEntry]:
        async with client.app.state.ctx.db.session() as s:
            found = await s.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
            return list(found)

    return client.blocking_portal.call(read)


def test_the_case_list_exports_whole_as_excel_and_csv(client: TestClient[Any]) -> None:
    made = make_cases(client)
    sign_in(client, "agent1")
    page = client.get("/console/cases", params={"q": "路灯", "size": "5"})
    control = BeautifulSoup(page.text, "html.parser").select_one("form.export")
    assert control is not None and control.select_one('input[name="f_q"]')["value"] == "路灯"  # type: ignore[index]
    shown = listed(client, q="路灯")
    assert len(shown) == 12 and made["sealed"] not in shown

    excel = export(client, "cases", "xlsx", q="路灯")
    assert excel.status_code == 200 and excel.headers["content-type"].startswith(XLSX)
    assert "attachment" in excel.headers["content-disposition"]
    sheet = xlsx_rows(excel.content)
    assert sheet[0][:4] == ["Case", "Received at", "Kind", "Status"]
    assert sheet[0][-2:] == ["Citizen", "Contact details"]
    assert [r[0] for r in sheet[1:]] == shown  # every page, in the list's order
    by_number = {r[0]: r for r in sheet[1:]}
    first = by_number[made["cases"][0]]
    assert first[-2:] == ["市民0", "+8613800130000"]
    assert by_number[made["cases"][1]][-1] == "+8613800130001; shimin1@example.com"
    assert first[4] == "SMS" and first[6] == "Transport Bureau"
    assert by_number[made["cases"][3]][7] == '=HYPERLINK("x") 路灯 3'  # text, not a formula

    text = export(client, "cases", "csv", q="路灯")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    table = csv_rows(text.content)
    assert table[0] == sheet[0]
    assert [r[0] for r in table[1:]] == shown
    csv_by_number = {r[0]: r for r in table[1:]}
    assert csv_by_number[made["cases"][3]][7] == '\'=HYPERLINK("x") 路灯 3'  # never run
    assert csv_by_number[made["cases"][0]] == [str(c) for c in first]

    sms = xlsx_rows(export(client, "cases", "xlsx", q="路灯", channel="sms").content)
    assert [r[0] for r in sms[1:]] == listed(client, q="路灯", channel="sms")
    assert len(sms) == 1 + 3

    logged = audits(client, "export")
    assert [(e.actor_label, e.detail["rows"], e.detail["format"]) for e in logged] == [
        ("agent1", 12, "xlsx"),
        ("agent1", 12, "csv"),
        ("agent1", 3, "xlsx"),
    ]
    assert logged[2].detail["list"] == "cases"
    assert logged[2].detail["filters"] == {"channel": "sms", "terms": 1}  # not the words
    assert logged[0].detail["personal"] is True


def test_chinese_headers_and_labels(client: TestClient[Any]) -> None:
    made = make_cases(client, 2)
    sign_in(client, "agent1")
    client.headers["Accept-Language"] = "zh-CN"
    sheet = xlsx_rows(export(client, "cases", "xlsx").content)
    assert sheet[0][:2] == ["工单", "受理时间"] and sheet[0][-2:] == ["来电人", "联系方式"]
    assert {r[0] for r in sheet[1:]} == set(made["cases"])
    assert sheet[1][6] == "交通运输局"


def test_sealed_letters_are_exported_by_the_directors_office_alone(
    client: TestClient[Any],
) -> None:
    made = make_cases(client, 3)
    sign_in(client, "supervisor1")
    everything = xlsx_rows(export(client, "cases", "xlsx").content)
    numbers = [r[0] for r in everything[1:]]
    assert sorted(numbers) == sorted(made["cases"]) and made["sealed"] not in numbers
    assert all("李四" not in str(r) for r in everything)
    refused = export(client, "mailbox", "csv")
    assert refused.status_code == 403
    assert [e.detail["what"] for e in audits(client, "access_refused")] == ["director.mailbox"]
    client.get("/console/logout")

    sign_in(client, "director_office1")
    letters = csv_rows(export(client, "mailbox", "csv").content)
    assert [r[0] for r in letters[1:]] == [made["sealed"]]
    assert letters[1][-2] == "李四"  # the office reads its letters' writers
    assert export(client, "cases", "csv").status_code == 403  # and no one else's cases


def test_a_department_exports_its_cases_without_personal_data(client: TestClient[Any]) -> None:
    made = make_cases(client, 4)
    ctx = client.app.state.ctx

    async def dispatch() -> None:
        async with ctx.db.session() as s:
            from hotline.core.storage.models.cases import Case

            ids = list(
                await s.scalars(select(Case.id).where(Case.tracking_number.in_(made["cases"][:2])))
            )
        for case_id in ids:
            await do_dispatch(ctx, case_id, "roads", SYSTEM, direct_callback=True)

    client.blocking_portal.call(dispatch)
    sign_in(client, "department_head1")
    todo = client.get("/console/department")
    assert 'value="department:sign"' in todo.text
    table = csv_rows(export(client, "department:sign", "csv").content)
    assert "Citizen" not in table[0] and "Contact details" not in table[0]
    assert sorted(r[0] for r in table[1:]) == sorted(made["cases"][:2])
    assert "市民" not in str(table) and "1380013" not in str(table)
    assert audits(client, "export")[0].detail["personal"] is False
    assert export(client, "cases", "csv").status_code == 403  # departments read no other list


def test_a_long_export_runs_as_a_job_with_its_progress_then_the_link(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = make_cases(client, 12)
    monkeypatch.setattr(routes, "DIRECT_LIMIT", 5)
    monkeypatch.setattr(rows, "CHUNK", 4)
    seen: list[tuple[str, int]] = []
    saving = store.save

    def save(data_dir: Any, export: store.Export) -> None:
        seen.append((export.state, export.done))
        saving(data_dir, export)

    monkeypatch.setattr(store, "save", save)
    sign_in(client, "team_leader1")
    started = export(client, "cases", "xlsx")
    assert started.status_code == 303
    page_path = started.headers["location"]
    waiting = BeautifulSoup(client.get(page_path).text, "html.parser")
    bar = waiting.select_one("#progress progress")
    assert bar is not None and bar["value"] == "0"
    assert waiting.select_one("#progress")["hx-trigger"] == "every 1s"  # type: ignore[index]
    assert "0 of 12 rows" in waiting.get_text(" ")
    assert waiting.select_one("#download") is None

    drain_jobs(client.app.state.ctx.jobs)
    assert seen == [
        ("queued", 0),
        ("running", 0),
        ("running", 4),
        ("running", 8),
        ("running", 12),
        ("ready", 12),
    ]
    fragment = client.get(page_path, headers={"HX-Request": "true"})
    ready = BeautifulSoup(fragment.text, "html.parser")
    assert ready.select_one("#progress").get("hx-trigger") is None  # type: ignore[union-attr]  # polling stops
    link = ready.select_one("#download")
    assert link is not None and "12 rows written" in ready.get_text(" ")
    body = client.get(str(link["href"]))
    assert body.status_code == 200 and body.headers["content-type"].startswith(XLSX)
    assert sorted(r[0] for r in xlsx_rows(body.content)[1:]) == sorted(made["cases"])
    notices = BeautifulSoup(client.get("/console/notices").text, "html.parser")
    assert "Your export is ready" in notices.get_text(" ")
    assert notices.select_one(f'a[href="{page_path}"]') is not None
    assert [e.detail["rows"] for e in audits(client, "export")] == [12]
    mine = client.get("/console/exports").text
    assert page_path in mine
    monkeypatch.setattr(routes, "MAX_PENDING", 1)
    export(client, "cases", "csv")  # one waits for a worker: a second is not started
    busy = export(client, "cases", "csv")
    assert busy.headers["location"] == "/console/exports?busy=1"
    assert "exports being written" in client.get(busy.headers["location"]).text
    client.get("/console/logout")

    sign_in(client, "agent1")  # someone else: the export is not there for them
    assert client.get(str(link["href"])).status_code == 404
    assert client.get(page_path).status_code == 404
    assert page_path not in client.get("/console/exports").text


def test_exports_are_removed_after_a_day(client: TestClient[Any]) -> None:
    make_cases(client, 6)
    ctx = client.app.state.ctx
    data = ctx.settings.data_dir
    sign_in(client, "agent1")
    routes.DIRECT_LIMIT, limit = 2, routes.DIRECT_LIMIT
    try:
        path = export(client, "cases", "csv").headers["location"]
    finally:
        routes.DIRECT_LIMIT = limit
    drain_jobs(ctx.jobs)
    export_id = path.rsplit("/", 1)[1]
    kept = store.load(data, export_id)
    assert kept is not None and store.file_path(data, kept).exists()
    assert store.remove_old(data) == 0
    old = time.time() - 25 * 3600
    for name in os.listdir(store.folder(data)):
        os.utime(store.folder(data) / name, (old, old))
    assert store.remove_old(data) == 1
    assert list(store.folder(data).iterdir()) == []
    assert client.get(path).status_code == 404


def test_a_right_taken_away_before_the_job_runs_stops_the_export(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hotline.core.storage.models.people import PermissionGrant

    make_cases(client, 4)
    monkeypatch.setattr(routes, "DIRECT_LIMIT", 2)
    sign_in(client, "agent1")
    page_path = export(client, "cases", "csv").headers["location"]
    ctx = client.app.state.ctx

    async def grant(allow: bool | None) -> None:
        async with ctx.db.transaction() as s:
            agent = await s.scalar(select(User).where(User.username == "agent1"))
            assert agent is not None
            if allow is None:
                for row in await s.scalars(select(PermissionGrant)):
                    await s.delete(row)
            else:
                s.add(PermissionGrant(user_id=agent.id, permission="case.read", allow=allow))

    client.blocking_portal.call(grant, False)
    drain_jobs(ctx.jobs)
    client.blocking_portal.call(grant, None)
    failed = BeautifulSoup(client.get(page_path).text, "html.parser")
    assert "could not be written" in failed.get_text(" ")
    assert failed.select_one("#download") is None
    assert client.get(page_path + "/file").status_code == 404
    assert audits(client, "export") == []
