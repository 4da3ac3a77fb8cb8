"""Citizens' records: search by name, phone, e-mail, tracking number; correct; merge two records
of the same person (their history follows); every step audited."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import func, select

from hotline.core.intake.receive import receive
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case, Citizen
from hotline.core.storage.models.people import AuditEntry
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission


def two_records(client: TestClient[Any]) -> tuple[str, str]:
    """The same person wrote once by e-mail as 王芳 and once by phone as 王女士."""
    ctx = client.app.state.ctx

    async def make() -> tuple[str, str]:
        await seed_city(ctx)
        by_mail = await receive(
            ctx,
            submission(
                channel="email",
                citizen_name="王芳",
                contacts=[{"kind": "email", "value": "Wang.Fang@Example.cn"}],
            ),
        )
        by_phone = await receive(
            ctx,
            submission(
                channel="phone",
                citizen_name="王女士",
                contacts=[{"kind": "phone", "value": "139 1111 2222"}],
            ),
        )
        return by_mail.tracking_number, by_phone.tracking_number

    return client.blocking_portal.call(make)


def found(client: TestClient[Any], query: str) -> list[list[str]]:
    page = BeautifulSoup(client.get("/console/citizens", params={"q": query}).text, "html.parser")
    return [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in page.select("#found tbody tr")
    ]


def citizen_of(client: TestClient[Any], number: str) -> int:
    async def get() -> int:
        async with client.app.state.ctx.db.session() as s:
            return int(
                await s.scalar(select(Case.citizen_id).where(Case.tracking_number == number))
            )

    return client.blocking_portal.call(get)


def audit_actions(client: TestClient[Any]) -> list[str]:
    async def get() -> list[str]:
        async with client.app.state.ctx.db.session() as s:
            return list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))

    return client.blocking_portal.call(get)


def test_search_by_every_key(client: TestClient[Any]) -> None:
    by_mail, _by_phone = two_records(client)
    sign_in(client, "agent1")
    assert [r[1] for r in found(client, "wang.fang@example.cn")] == ["王芳"]
    assert [r[1] for r in found(client, "139-1111-2222")] == ["王女士"]
    assert [r[1] for r in found(client, "1111 2222")] == ["王女士"]  # part of a number
    assert [r[1] for r in found(client, " ".join([by_mail[:4], by_mail[4:]]))] == ["王芳"]
    assert sorted(r[1] for r in found(client, "王")) == ["王女士", "王芳"]
    assert found(client, "李") == []
    assert audit_actions(client).count("citizen_search") == 6
    assert client.get("/console/citizens?q=%25").status_code == 200  # a wildcard is a character


def test_correct_a_record_and_flag_a_priority_citizen(client: TestClient[Any]) -> None:
    _by_mail, by_phone = two_records(client)
    citizen = citizen_of(client, by_phone)
    sign_in(client, "agent1")
    page = client.get(f"/console/citizens/{citizen}?lang=en")
    assert by_phone in page.text.replace(" ", "")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
    saved = client.post(
        f"/console/citizens/{citizen}",
        data={"_csrf_token": token, "name": "王芳", "language": "zh_CN", "priority": "elderly"},
    )
    soup = BeautifulSoup(saved.text, "html.parser")
    assert soup.find(id="citizen-name").get_text() == "王芳"
    assert soup.find(id="priority").get_text() == "Elderly"
    bad = client.post(
        f"/console/citizens/{citizen}", data={"_csrf_token": token, "priority": "rich"}
    )
    assert "That change was not possible" in bad.text

    async def next_contact() -> tuple[int, int]:
        ctx = client.app.state.ctx
        again = await receive(
            ctx, submission(channel="phone", contacts=[{"kind": "phone", "value": "13911112222"}])
        )
        other = await receive(
            ctx, submission(channel="phone", contacts=[{"kind": "phone", "value": "13700001111"}])
        )
        async with ctx.db.session() as s:
            rank = {
                case: p
                for case, p in await s.execute(select(QueueItem.case_id, QueueItem.priority))
            }
        return rank[again.case_id], rank[other.case_id]

    flagged, ordinary = client.blocking_portal.call(next_contact)
    assert flagged == ordinary + 1  # the elderly caller's next contact is served first
    actions = audit_actions(client)
    assert "citizen_read" in actions and "citizen_edit" in actions


def test_merge_two_records_of_the_same_person(client: TestClient[Any]) -> None:
    by_mail, by_phone = two_records(client)
    keep, other = citizen_of(client, by_mail), citizen_of(client, by_phone)
    sign_in(client, "agent1")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console/queue").text)[1]
    assert (
        client.post(
            f"/console/citizens/{keep}/merge", data={"_csrf_token": token, "other": other}
        ).status_code
        == 403
    )  # agents correct records; team leaders merge them
    client.cookies.clear()
    sign_in(client, "team_leader1")
    page = client.get(f"/console/citizens/{keep}?lang=en")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
    itself = client.post(
        f"/console/citizens/{keep}/merge", data={"_csrf_token": token, "other": keep}
    )
    assert "could not be merged" in itself.text
    merged = client.post(
        f"/console/citizens/{keep}/merge", data={"_csrf_token": token, "other": str(other)}
    )
    soup = BeautifulSoup(merged.text, "html.parser")
    assert {li.get_text() for li in soup.select("#contacts li")} == {
        "E-mail: Wang.Fang@example.cn",
        "Phone: +8613911112222",
    }
    cases = soup.find(id="cases").get_text().replace(" ", "")
    assert by_mail in cases and by_phone in cases  # the history followed
    assert client.get(f"/console/citizens/{other}").status_code == 404

    async def left() -> int:
        async with client.app.state.ctx.db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(Citizen)))

    assert client.blocking_portal.call(left) == 1
    assert "citizen_merge" in audit_actions(client)
    # the next call from the phone lands on the merged record
    assert [r[1] for r in found(client, "13911112222")] == ["王芳"]
