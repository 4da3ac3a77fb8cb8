"""Every role against every console endpoint: allowed exactly when the role is granted the
endpoint's permission (least privilege), and every endpoint declares one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.core.intake.receive import receive
from hotline.core.people.permissions import Permission, allowed
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import Role
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from hotline.core.workflow.dispatch import do_dispatch
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission

OPEN = {
    "/console/login",
    "/console/logout",
    "/console/login/totp",
    "/console/totp/setup",
    "/console/password",
}


def console_endpoints(client: TestClient[Any]) -> list[tuple[str, str, Permission]]:
    found = []
    for route in client.app.routes:
        if (
            not route.path.startswith("/console")
            or route.path in OPEN
            or route.path.startswith("/static")
        ):
            continue
        for handler in route.route_handlers:  # type: ignore[attr-defined]
            if handler.http_methods <= {"OPTIONS", "HEAD"}:
                continue  # Litestar's automatic OPTIONS answer
            permissions = [
                g.permission for g in handler.resolve_guards() if hasattr(g, "permission")
            ]
            assert len(permissions) == 1, f"{route.path} declares no permission"
            for method in handler.http_methods:
                found.append((method, route.path, permissions[0]))
    return sorted(found)


@pytest.mark.parametrize("role", list(Role))
def test_role_against_every_console_endpoint(client: TestClient[Any], role: Role) -> None:
    ctx = client.app.state.ctx

    async def data() -> dict[str, str]:
        city = await seed_city(ctx)
        result = await receive(ctx, submission())
        # the case is with the department the department roles belong to
        await do_dispatch(ctx, result.case_id, "roads", SYSTEM, direct_callback=True)
        async with ctx.db.transaction() as s:
            await s.execute(
                update(User)
                .where(User.role.in_([Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD]))
                .values(department_id=city["roads"])
            )
        async with ctx.db.session() as s:
            item = await s.scalar(select(QueueItem.id).where(QueueItem.case_id == result.case_id))
            agent = await s.scalar(select(User.id).where(User.username == "agent1"))
            citizen = await s.scalar(select(Case.citizen_id).where(Case.id == result.case_id))
        letter = await receive(ctx, submission(kind="director_mailbox", category=None))
        return {
            "letter": letter.tracking_number,
            "number": result.tracking_number,
            "item_id": str(item),
            "agent_id": str(agent),
            "action": "decline",
            "citizen_id": str(citizen),
            "user_id": str(agent),
            "grant_id": "1",
            "step": "nothing",
            "rule_id": "1",
            "template_id": "999999",
            "attachment_id": "999999",
            "held_id": "999999",
            "trace_id": "999999",
            "request_id": "999999",
            "decision": "approve",
            "export_id": "A" * 32,  # no such export: 404 for whoever asks
            "link_id": "999999",  # no such kiosk link
            "schedule_id": "999999",  # no such mailed report
            "report_id": "999999",  # no such saved report
        }

    values = client.blocking_portal.call(data)
    endpoints = console_endpoints(client)
    assert len(endpoints) >= 12
    assert sign_in(client, f"{role.value}1").status_code == 303
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text).group(1)
    outcomes = {}
    for method, path, permission in endpoints:
        url = re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)
        if path.startswith("/console/mailbox/"):
            url = url.replace(values["number"], values["letter"])
        if method == "GET" and path in ("/console/stream", "/console/wallboard/stream"):
            if not allowed(role, permission):
                outcomes[(method, path)] = client.get(url).status_code
            continue  # an allowed stream stays open; its permission is checked above
        response = (
            client.get(url)
            if method == "GET"
            else client.post(url, data={"_csrf_token": token}, follow_redirects=False)
        )
        outcomes[(method, path)] = response.status_code
        if allowed(role, permission):
            assert response.status_code != 403, (role, method, path)
        else:
            assert response.status_code == 403, (role, method, path)
    assert outcomes


UNKNOWN_NUMBER = "2099010100001"


@pytest.mark.parametrize("role", [r for r in Role if not allowed(r, Permission.DIRECTOR_MAILBOX)])
def test_a_letters_number_is_answered_like_an_unknown_one(
    client: TestClient[Any], role: Role
) -> None:
    """Every endpoint that takes a case number, for every role outside the director's office:
    a letter's number gets the answer an unknown number gets (nothing tells it is a letter),
    and nothing of the letter is in it."""
    ctx = client.app.state.ctx

    async def data() -> str:
        await seed_city(ctx)
        letter = await receive(
            ctx, submission(kind="director_mailbox", category=None, text="举报信：局长受贿")
        )
        return letter.tracking_number

    letter = client.blocking_portal.call(data)
    assert sign_in(client, f"{role.value}1").status_code == 303
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text).group(1)
    checked = 0
    for method, path, _permission in console_endpoints(client):
        if "{number:str}" not in path or path.endswith("/stream"):
            continue
        answers = []
        for number in (letter, UNKNOWN_NUMBER):
            url = re.sub(r"\{(\w+):\w+\}", lambda m, n=number: n if m[1] == "number" else "x", path)
            response = (
                client.get(url)
                if method == "GET"
                else client.post(url, data={"_csrf_token": token}, follow_redirects=False)
            )
            assert "受贿" not in response.text, (role, method, path)
            answers.append(response.status_code)
        assert answers[0] == answers[1], (role, method, path, answers)
        checked += 1
    assert checked >= 8
