"""Administrators manage staff accounts in the console: add (password shown once, replaced at
first sign-in), change role or department, switch off, reset a password; all audited; the last
administrator stays one."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.storage.models.people import AuditEntry, User
from tests.admin.conftest import sign_in


def csrf(client: TestClient[Any], path: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)[1]


def user_id(client: TestClient[Any], name: str) -> int:
    async def get() -> int:
        async with client.app.state.ctx.db.session() as s:
            return int(await s.scalar(select(User.id).where(User.username == name)))

    return client.blocking_portal.call(get)


def test_an_administrator_adds_an_agent_who_then_signs_in(client: TestClient[Any]) -> None:
    sign_in(client, "administrator1")
    token = csrf(client, "/console/settings/users?lang=en")
    added = client.post(
        "/console/settings/users",
        data={"_csrf_token": token, "username": "zhao", "display_name": "赵敏", "role": "agent"},
    )
    shown = BeautifulSoup(added.text, "html.parser").find(id="new-password")
    password = shown.find("code").get_text()
    assert "zhao" in shown.get_text() and len(password) >= 12
    taken = client.post(
        "/console/settings/users", data={"_csrf_token": token, "username": "zhao", "role": "agent"}
    )
    assert taken.status_code == 400 and "taken" in taken.text
    client.cookies.clear()
    first = sign_in(client, "zhao", password)
    assert first.status_code == 303 and first.headers["location"] == "/console/password"
    assert client.get("/console/settings/users", follow_redirects=False).status_code in (303, 403)

    async def actions() -> list[str]:
        async with client.app.state.ctx.db.session() as s:
            return list(await s.scalars(select(AuditEntry.action)))

    assert "user_add" in client.blocking_portal.call(actions)


def test_role_change_switch_off_and_the_last_administrator(client: TestClient[Any]) -> None:
    sign_in(client, "administrator1")
    token = csrf(client, "/console/settings/users?lang=en")
    agent = user_id(client, "agent1")
    client.post(
        f"/console/settings/users/{agent}",
        data={"_csrf_token": token, "role": "team_leader", "active": "yes"},
    )
    client.post(f"/console/settings/users/{agent}", data={"_csrf_token": token, "role": "agent"})

    async def state() -> tuple[str, bool]:
        async with client.app.state.ctx.db.session() as s:
            user = await s.get(User, agent)
            return user.role, user.active

    assert client.blocking_portal.call(state) == ("agent", False)
    me = user_id(client, "administrator1")
    kept = client.post(
        f"/console/settings/users/{me}",
        data={"_csrf_token": token, "role": "agent", "active": "yes"},
    )
    assert kept.status_code == 403 and "own rights" in kept.text  # nor one's own role
    reset = client.post(f"/console/settings/users/{agent}/reset", data={"_csrf_token": token})
    assert BeautifulSoup(reset.text, "html.parser").find(id="new-password") is not None


def test_overrides_per_department_and_per_user(client: TestClient[Any]) -> None:
    """Department officers of the transport bureau may read hotline cases; one agent may not
    edit them; the user's own override wins over their department's."""
    from hotline.core.intake.receive import receive
    from hotline.core.storage.models.reference import Department
    from tests.conftest import seed_city
    from tests.factories import submission

    async def data() -> tuple[str, int]:
        ctx = client.app.state.ctx
        await seed_city(ctx)
        number = (await receive(ctx, submission())).tracking_number
        async with ctx.db.transaction() as s:
            roads = await s.scalar(select(Department.id).where(Department.code == "roads"))
            officer = await s.scalar(select(User).where(User.username == "department_officer1"))
            officer.department_id = roads
        return number, roads

    number, roads = client.blocking_portal.call(data)
    sign_in(client, "department_officer1")
    assert client.get(f"/console/cases/{number}").status_code == 403
    client.cookies.clear()
    sign_in(client, "administrator1")
    token = csrf(client, "/console/settings/users")
    for form in (
        {"department": str(roads), "role": "department_officer", "permission": "case.read",
         "allow": "yes"},
        {"username": "agent1", "permission": "case.edit"},  # allow unticked: taken away
        {"username": "nobody", "permission": "case.read", "allow": "yes"},
    ):  # fmt: skip
        client.post("/console/settings/permissions", data={"_csrf_token": token, **form})
    grants = BeautifulSoup(client.get("/console/settings/users").text, "html.parser")
    assert len(grants.select("#grants tbody tr")) == 2  # the unknown user's was refused
    client.cookies.clear()
    sign_in(client, "department_officer1")
    assert client.get(f"/console/cases/{number}").status_code == 200
    client.cookies.clear()
    sign_in(client, "agent1")
    page = client.get(f"/console/cases/{number}")
    assert page.status_code == 200 and "/classify" not in page.text  # still reads, not edits
    token = csrf(client, "/console/queue")
    refused = client.post(
        f"/console/cases/{number}/classify", data={"_csrf_token": token, "category": "noise"}
    )
    assert refused.status_code == 403
