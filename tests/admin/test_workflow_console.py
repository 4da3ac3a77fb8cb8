"""The workflow in the console, across roles: agent dispatches, the department signs for and
replies from its to-do list, the agent reviews, the citizen's evaluation closes the case; the
department sees masked contacts; the director's mailbox stays sealed."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.core.intake.receive import receive
from hotline.core.storage.enums import Role
from hotline.core.storage.models.cases import Case, CaseEvent, Interaction
from hotline.core.storage.models.people import AuditEntry, User
from hotline.core.storage.models.reference import RoutingRule, ServiceCategory
from hotline.core.storage.models.workflow import Notice
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import ELF, PDF, PNG, submission


def run(client: TestClient[Any], coro: Any) -> Any:
    async def call() -> Any:
        return await coro

    return client.blocking_portal.call(call)


def setup_city(client: TestClient[Any]) -> dict[str, int]:
    """Seed the city; the department roles work in the Transport Bureau."""
    ctx = client.app.state.ctx

    async def make() -> dict[str, int]:
        city = await seed_city(ctx)
        async with ctx.db.transaction() as s:
            await s.execute(
                update(User)
                .where(User.role.in_([Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD]))
                .values(department_id=city["roads"])
            )
        return city

    return client.blocking_portal.call(make)


def token(client: TestClient[Any], path: str = "/console") -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def post(client: TestClient[Any], path: str, **data: Any) -> Any:
    return client.post(path, data={"_csrf_token": token(client), **data}, follow_redirects=False)


def soup(client: TestClient[Any], path: str) -> BeautifulSoup:
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return BeautifulSoup(page.text, "html.parser")


def case_row(client: TestClient[Any], number: str) -> Case:
    ctx = client.app.state.ctx

    async def read() -> Case:
        async with ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == number))
        assert case is not None
        return case

    return client.blocking_portal.call(read)


def test_the_loop_across_roles_in_the_console(client: TestClient[Any]) -> None:
    setup_city(client)
    number = run(client, receive(client.app.state.ctx, submission())).tracking_number

    # the agent sees the suggestion with its reason, and dispatches
    sign_in(client, "agent1")
    page = soup(client, f"/console/cases/{number}")
    assert "Transport Bureau" in page.find(id="suggestion").get_text()
    assert "by the service chosen" in page.find(id="suggestion").get_text()  # not a rule code
    assert page.select_one("#department option[selected]")["value"] == "roads"
    answer = post(
        client,
        f"/console/cases/{number}/workflow/dispatch",
        department="roads",
        instructions="请尽快查看现场",
    )
    assert answer.status_code == 303 and "done=dispatch" in answer.headers["location"]
    assert case_row(client, number).status == "dispatched"

    # the department: its to-do list, masked contacts, sign for, reply
    client.cookies.clear()
    sign_in(client, "department_officer1")
    todo = soup(client, "/console/department")
    assert number in todo.find(id="todo-sign").get_text().replace(" ", "")
    mine = soup(client, f"/console/department/cases/{number}")
    contacts = mine.find(id="contacts").get_text()
    assert "13800138000" not in contacts.replace(" ", "") and "+86138****8000" in contacts
    assert "phone:" not in contacts  # the kind of contact in words, not its code
    assert mine.find(id="citizen-name").get_text(strip=True) == "张*"
    assert "请尽快查看现场" in mine.get_text()
    assert post(client, f"/console/department/cases/{number}/sign").status_code == 303
    assert case_row(client, number).status == "accepted"
    post(client, f"/console/department/cases/{number}/reply", reply="坑已于今日填平。")
    assert case_row(client, number).status == "replied"

    # the agent reviews: sends it back once, then accepts an edited answer
    client.cookies.clear()
    sign_in(client, "agent1")
    page = soup(client, f"/console/cases/{number}")
    assert page.find(id="answer-text").get_text() == "坑已于今日填平。"
    refused = post(client, f"/console/cases/{number}/workflow/review", decision="send_back")
    assert "error=review" in refused.headers["location"]
    assert "reason" in client.get(refused.headers["location"]).text
    post(
        client,
        f"/console/cases/{number}/workflow/review",
        decision="send_back",
        reason="请写明处理时间",
    )
    client.cookies.clear()
    sign_in(client, "department_officer1")
    assert number in soup(client, "/console/department").find(
        id="todo-sent_back"
    ).get_text().replace(" ", "")
    page = soup(client, f"/console/department/cases/{number}")
    assert page.find(id="sent-back-reason").get_text() == "请写明处理时间"
    post(client, f"/console/department/cases/{number}/reply", reply="坑已于3日上午填平。")
    client.cookies.clear()
    sign_in(client, "agent1")
    post(
        client,
        f"/console/cases/{number}/workflow/review",
        decision="accept",
        answer="您好，您反映的坑已于3日上午填平。",
    )
    assert case_row(client, number).status == "answered"

    # callback and evaluation close it; the path and the timeline show who did what
    post(
        client,
        f"/console/cases/{number}/workflow/evaluate",
        satisfaction="satisfied",
        via="call",
        comment="满意",
    )
    case = case_row(client, number)
    assert case.status == "closed" and case.satisfaction == "satisfied"
    page = soup(client, f"/console/cases/{number}")
    assert len(page.select("#path li.reached")) == 6
    timeline = page.find(id="timeline").get_text()
    for words in ("Sent to the department", "department_officer1", "agent1", "请写明处理时间"):
        assert words in timeline
    assert "Reply sent back to the department × 1" in page.find(id="loops").get_text()

    # the citizen's answer went out on their channel, the reviewer's wording
    async def sent() -> list[str]:
        async with client.app.state.ctx.db.session() as s:
            return list(
                await s.scalars(select(Interaction.text).where(Interaction.direction == "out"))
            )

    assert client.blocking_portal.call(sent) == ["您好，您反映的坑已于3日上午填平。"]

    # the same page in Chinese
    client.headers["Accept-Language"] = "zh-CN"
    page = soup(client, f"/console/cases/{number}")
    assert "已派发至承办部门" in page.find(id="timeline").get_text()
    assert page.find(id="path-h").get_text() == "办理路径"
    assert [li.contents[0].strip() for li in page.select("#path li")][:3] == [
        "已受理",
        "派单",
        "签收",
    ]


def test_a_department_sees_only_its_cases(client: TestClient[Any]) -> None:
    setup_city(client)
    ctx = client.app.state.ctx
    ours = run(client, receive(ctx, submission())).tracking_number
    theirs = run(client, receive(ctx, submission(category="noise"))).tracking_number
    sign_in(client, "agent1")
    post(client, f"/console/cases/{ours}/workflow/dispatch", department="roads")
    post(client, f"/console/cases/{theirs}/workflow/dispatch", department="env")
    client.cookies.clear()
    sign_in(client, "department_officer1")
    assert client.get(f"/console/department/cases/{ours}").status_code == 200
    assert client.get(f"/console/department/cases/{theirs}").status_code == 403
    assert client.get(f"/console/cases/{ours}").status_code == 403  # not the hotline's screen
    listed = soup(client, "/console/department").get_text().replace(" ", "")
    assert ours in listed and theirs not in listed


def test_unmasking_needs_a_direct_callback_and_the_right_and_is_audited(
    client: TestClient[Any],
) -> None:
    setup_city(client)
    ctx = client.app.state.ctx
    plain = run(client, receive(ctx, submission())).tracking_number
    callback = run(client, receive(ctx, submission())).tracking_number
    sign_in(client, "agent1")
    post(client, f"/console/cases/{plain}/workflow/dispatch", department="roads")
    post(
        client,
        f"/console/cases/{callback}/workflow/dispatch",
        department="roads",
        direct_callback="on",
    )
    client.cookies.clear()
    sign_in(client, "department_officer1")  # an officer has no contact.unmask
    assert post(client, f"/console/department/contact/{callback}").status_code == 403
    client.cookies.clear()
    sign_in(client, "department_head1")
    page = soup(client, f"/console/department/cases/{callback}")
    assert page.find("form", action=f"/console/department/contact/{callback}") is not None
    assert post(client, f"/console/department/contact/{plain}").status_code == 403
    shown = post(client, f"/console/department/contact/{callback}")
    assert shown.status_code == 200 and "+8613800138000" in shown.text

    async def audited() -> tuple[list[str], list[dict[str, Any]]]:
        async with ctx.db.session() as s:
            entries = list(
                await s.scalars(select(AuditEntry.action).where(AuditEntry.actor_label != ""))
            )
            events = list(
                await s.scalars(
                    select(CaseEvent.detail).where(CaseEvent.action == "personal_data_read")
                )
            )
        return entries, events

    entries, events = client.blocking_portal.call(audited)
    assert entries.count("contact_unmasked") == 1
    assert sum(1 for d in events if d.get("unmasked")) == 1


def test_the_directors_mailbox_is_sealed(client: TestClient[Any]) -> None:
    setup_city(client)
    ctx = client.app.state.ctx
    letter = run(
        client,
        receive(ctx, submission(kind="director_mailbox", category=None, text="举报某局长受贿")),
    ).tracking_number

    # the administrator: counts and deadlines, never content; opening it is refused, audited
    sign_in(client, "administrator1")
    overview = client.get("/console/mailbox")
    assert overview.status_code == 200 and "受贿" not in overview.text
    assert letter not in overview.text.replace(" ", "")  # nor which number is a letter
    assert client.get(f"/console/mailbox/{letter}").status_code == 403
    assert client.get(f"/console/cases/{letter}").status_code == 403
    client.cookies.clear()

    # a supervisor: the hotline route refuses it too (audited); break-glass needs a reason
    sign_in(client, "supervisor1")
    assert client.get(f"/console/cases/{letter}").status_code == 404  # like an unknown number
    assert "受贿" not in client.get("/console/mailbox").text
    no_reason = post(client, "/console/break-glass", number=letter, reason=" ")
    assert no_reason.status_code == 303 and "error" in no_reason.headers["location"]
    opened = post(client, "/console/break-glass", number=letter, reason="涉嫌紧急安全事件")
    assert opened.status_code == 200 and "受贿" in opened.text
    assert "break-glass" in opened.text.lower()
    client.cookies.clear()

    # the director's office reads and answers it, and sees who broke the glass
    sign_in(client, "director_office1")
    page = soup(client, f"/console/mailbox/{letter}")
    assert "受贿" in page.get_text()
    assert "supervisor1" in page.find(id="timeline").get_text()
    post(client, f"/console/mailbox/{letter}/workflow/answer", answer="已转纪检部门核查。")
    assert case_row(client, letter).status == "closed"

    async def trail() -> tuple[list[tuple[str, str]], list[str]]:
        async with ctx.db.session() as s:
            entries = [
                (e.action, e.actor_label)
                for e in await s.scalars(select(AuditEntry).order_by(AuditEntry.id))
            ]
            notices = list(
                await s.scalars(select(Notice.kind).where(Notice.role == "director_office"))
            )
        return entries, notices

    entries, notices = client.blocking_portal.call(trail)
    refusals = [label for action, label in entries if action == "access_refused"]
    assert refusals == ["administrator1", "supervisor1"]
    assert ("break_glass", "supervisor1") in entries
    assert notices == ["letter_received", "break_glass"]


def test_supervisor_urges_and_the_department_is_told(client: TestClient[Any]) -> None:
    setup_city(client)
    number = run(client, receive(client.app.state.ctx, submission())).tracking_number
    sign_in(client, "agent1")
    post(client, f"/console/cases/{number}/workflow/dispatch", department="roads")
    client.cookies.clear()
    sign_in(client, "supervisor1")
    post(client, f"/console/cases/{number}/supervision/urge", text="市民多次来电，请加快办理")
    post(client, f"/console/cases/{number}/supervision/supervise", note="重点督办")
    listed = soup(client, "/console/supervision").find(id="supervised").get_text()
    assert number in listed.replace(" ", "")
    client.cookies.clear()
    sign_in(client, "department_officer1")
    notices = soup(client, "/console/notices").find(id="notices").get_text()
    assert "Urging" in notices and "市民多次来电，请加快办理" in notices
    assert number in soup(client, "/console/department").find(id="todo-urged").get_text().replace(
        " ", ""
    )
    # an extension asked, decided by the supervisor
    post(client, f"/console/department/cases/{number}/sign")
    post(client, f"/console/department/cases/{number}/extension", days="2", reason="需协调")
    client.cookies.clear()
    sign_in(client, "supervisor1")
    assert number in soup(client, "/console/supervision").find(id="extensions").get_text().replace(
        " ", ""
    )
    page = soup(client, f"/console/cases/{number}")
    form = page.select_one(".extension-form")
    department_id = form.find("input", attrs={"name": "department_id"})["value"]
    post(
        client,
        f"/console/cases/{number}/supervision/extension",
        department_id=department_id,
        decision="approve",
    )
    assert "approved" in soup(client, f"/console/cases/{number}").find(id="assignments").get_text()


def test_a_department_returns_a_case_and_the_hotline_redispatches(
    client: TestClient[Any],
) -> None:
    setup_city(client)
    number = run(client, receive(client.app.state.ctx, submission())).tracking_number
    sign_in(client, "agent1")
    post(client, f"/console/cases/{number}/workflow/dispatch", department="roads")
    client.cookies.clear()
    sign_in(client, "department_officer1")
    post(client, f"/console/department/cases/{number}/return", reason="属于生态环境局")
    assert case_row(client, number).status == "received"
    client.cookies.clear()
    sign_in(client, "agent1")
    notices = soup(client, "/console/notices").find(id="notices").get_text()
    assert "returned" in notices and "属于生态环境局" in notices
    post(client, f"/console/cases/{number}/workflow/dispatch", department="env")
    assert case_row(client, number).status == "dispatched"


def test_administrator_edits_routing_rules_and_the_calendar(client: TestClient[Any]) -> None:
    city = setup_city(client)
    sign_in(client, "administrator1")
    post(
        client,
        "/console/settings/routing",
        kind="keyword",
        pattern="噪音",
        department=str(city["env"]),
    )
    assert post(client, "/console/settings/routing", kind="keyword", pattern="").status_code == 303
    post(client, "/console/settings/services/auto-dispatch", auto="noise")

    async def rules() -> tuple[list[str], list[str]]:
        async with client.app.state.ctx.db.session() as s:
            patterns = list(await s.scalars(select(RoutingRule.pattern)))
            auto = list(
                await s.scalars(
                    select(ServiceCategory.code).where(ServiceCategory.auto_dispatch.is_(True))
                )
            )
        return patterns, auto

    assert client.blocking_portal.call(rules) == (["噪音"], ["noise"])
    csv = "date,working,name\n2027-02-20,1,调休上班\n2027-02-22,0,本市假日\n".encode()
    imported = client.post(
        "/console/settings/calendar/import",
        data={"_csrf_token": token(client)},
        files={"file": ("2027.csv", csv, "text/csv")},
        follow_redirects=False,
    )
    assert imported.status_code == 303 and "imported=2" in imported.headers["location"]
    page = soup(client, "/console/settings/calendar?year=2027")
    rows = {r["data-day"]: r.get_text() for r in page.select("#special-days tr[data-day]")}
    assert "Working day" in rows["2027-02-20"] and "Day off" in rows["2027-02-22"]
    bad = client.post(
        "/console/settings/calendar/import",
        data={"_csrf_token": token(client)},
        files={"file": ("x.csv", b"nonsense,maybe\n2027-01-01,perhaps\n", "text/csv")},
        follow_redirects=False,
    )
    assert "error=file" in bad.headers["location"]
    page = soup(client, "/console/settings/calendar?year=2027")
    assert "2027-02-20" in page.get_text()  # the bad file changed nothing
    post(client, "/console/settings/calendar/day", day="2027-02-20", working="")
    page = soup(client, "/console/settings/calendar?year=2027")
    assert not page.select('#special-days tr[data-day="2027-02-20"]')


def test_the_desk_lists_what_waits_for_the_hotline(client: TestClient[Any]) -> None:
    setup_city(client)
    ctx = client.app.state.ctx
    number = run(client, receive(ctx, submission())).tracking_number
    unclassified = run(client, receive(ctx, submission(category=None))).tracking_number
    sign_in(client, "agent1")

    def listed(name: str) -> str:
        table = soup(client, "/console/desk").find(id=f"desk-{name}")
        return table.get_text().replace(" ", "") if table else ""

    assert number in listed("dispatch") and unclassified not in listed("dispatch")
    post(client, f"/console/cases/{number}/workflow/dispatch", department="roads")
    assert number not in listed("dispatch")
    client.cookies.clear()
    sign_in(client, "department_officer1")
    post(client, f"/console/department/cases/{number}/sign")
    post(client, f"/console/department/cases/{number}/reply", reply="已处理")
    client.cookies.clear()
    sign_in(client, "agent1")
    assert number in listed("review")
    post(client, f"/console/cases/{number}/workflow/review", decision="accept")
    assert number in listed("evaluate") and number not in listed("review")


def test_department_reply_files_and_citizen_photos(client: TestClient[Any]) -> None:
    city = setup_city(client)
    ctx = client.app.state.ctx
    photo = {"filename": "坑.png", "data": PNG}
    number = run(client, receive(ctx, submission(attachments=[photo]))).tracking_number
    other = run(client, receive(ctx, submission(category="noise"))).tracking_number
    sign_in(client, "agent1")
    post(client, f"/console/cases/{number}/workflow/dispatch", department="roads")
    post(client, f"/console/cases/{other}/workflow/dispatch", department="env")
    client.cookies.clear()
    sign_in(client, "department_officer1")
    post(client, f"/console/department/cases/{number}/sign")
    page = soup(client, f"/console/department/cases/{number}")
    [citizen_file] = page.select("#messages .files a")
    opened = client.get(citizen_file["href"])
    assert opened.status_code == 200 and opened.content == PNG
    assert opened.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''%E5%9D%91.png" in opened.headers["content-disposition"]

    def reply(files: list[tuple[str, bytes, str]]) -> Any:
        return client.post(
            f"/console/department/cases/{number}/reply",
            data={"_csrf_token": token(client), "reply": "已填平，见照片。"},
            files=[("files", f) for f in files],
            follow_redirects=False,
        )

    refused = reply([("修复后.png", PNG, "image/png"), ("报告.pdf", ELF, "application/pdf")])
    assert "error=reply" in refused.headers["location"]
    assert case_row(client, number).status == "accepted"  # nothing half-written
    done = reply([("修复后.png", PNG, "image/png"), ("报告.pdf", PDF, "application/pdf")])
    assert "done=reply" in done.headers["location"]
    assert case_row(client, number).status == "replied"

    # the agent reviewing sees the reply's files; another department cannot open them
    client.cookies.clear()
    sign_in(client, "agent1")
    page = soup(client, f"/console/cases/{number}")
    names = [a.get_text() for a in page.select("#interactions .files a")]
    assert sorted(names) == ["修复后.png", "坑.png", "报告.pdf"]
    pdf = next(
        a["href"] for a in page.select("#interactions .files a") if a.get_text() == "报告.pdf"
    )
    assert client.get(pdf).headers["content-type"].startswith("application/pdf")

    async def move_officer() -> None:
        async with ctx.db.transaction() as s:
            await s.execute(
                update(User)
                .where(User.username == "department_officer1")
                .values(department_id=city["env"])
            )

    client.blocking_portal.call(move_officer)
    client.cookies.clear()
    sign_in(client, "department_officer1")
    assert client.get(citizen_file["href"]).status_code == 403
    assert client.get(pdf).status_code == 403


def test_administrator_sets_department_mailboxes(client: TestClient[Any]) -> None:
    city = setup_city(client)
    sign_in(client, "administrator1")
    page = soup(client, "/console/settings/departments")
    assert page.find(id=f"email-{city['roads']}") is not None
    bad = post(
        client,
        "/console/settings/departments",
        **{f"email-{city['roads']}": "roads@gov.cn", f"email-{city['env']}": "not an address"},
    )
    assert "error=env" in bad.headers["location"]
    page = soup(client, "/console/settings/departments")
    assert page.find(id=f"email-{city['roads']}")["value"] == ""  # nothing was changed
    post(client, "/console/settings/departments", **{f"email-{city['roads']}": "Roads@Gov.CN"})
    page = soup(client, "/console/settings/departments")
    assert page.find(id=f"email-{city['roads']}")["value"] == "Roads@gov.cn"


def test_public_holidays_are_named_in_the_pages_language(client: TestClient[Any]) -> None:
    sign_in(client, "administrator1")
    names = {}
    for lang in ("en", "zh_CN"):
        page = soup(client, f"/console/settings/calendar?year=2026&lang={lang}")
        row = page.select_one('#special-days tr[data-day="2026-10-01"]')
        assert row is not None
        names[lang] = (row.get_text(), page.select("#special-days th")[-1].get_text())
    assert "National Day" in names["en"][0] and "国庆" not in names["en"][0]
    assert "国庆节" in names["zh_CN"][0]
    assert names["zh_CN"][1] == "名称"  # a day's name, not a person's (姓名)
