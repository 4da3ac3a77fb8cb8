"""Staff sign-in: argon2 passwords, server-side sessions, CSRF and per-role guards (slowing
guessers down: ``test_sign_in_safety``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from hotline.core.people.permissions import ROLE_GRANTS, Permission, allowed
from hotline.core.storage.enums import Role
from tests.admin.conftest import PASSWORD, sign_in


def test_staff_sign_in_and_out(client: TestClient[Any]) -> None:
    assert (
        client.get("/console", follow_redirects=False).headers.get("location") == "/console/login"
    )
    response = sign_in(client, "Agent1")  # user names are not case-sensitive
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "hotline_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    home = client.get("/console")
    assert home.status_code == 200 and "agent one" in home.text and "Agent" in home.text
    form = re.search(
        r'action="/console/logout"[^>]*><input type="hidden" name="_csrf_token" value="([^"]+)"',
        home.text,
    )
    assert form
    client.post("/console/logout", data={"_csrf_token": form.group(1)})
    assert (
        client.get("/console", follow_redirects=False).headers.get("location") == "/console/login"
    )


def test_wrong_passwords_unknown_and_disabled_accounts_look_alike(client: TestClient[Any]) -> None:
    for name, password in (("agent1", "nope"), ("nobody", PASSWORD), ("gone", PASSWORD)):
        response = sign_in(client, name, password)
        assert response.status_code == 401 and "Wrong user name or password." in response.text


def test_sign_in_needs_the_csrf_token(client: TestClient[Any]) -> None:
    client.get("/console/login")
    response = client.post("/console/login", data={"username": "agent1", "password": PASSWORD})
    assert response.status_code == 403


def test_the_session_id_changes_at_sign_in(client: TestClient[Any]) -> None:
    client.get("/console/login")
    before = client.cookies.get("hotline_console")
    sign_in(client, "agent1")
    assert client.cookies.get("hotline_console") not in (None, before)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_signs_in_to_the_console(client: TestClient[Any], role: Role) -> None:
    assert sign_in(client, f"{role.value}1").status_code == 303
    assert client.get("/console").status_code == 200


def test_least_privilege_grants() -> None:
    # who may read the sealed director's mailbox: the director's office, no one else
    assert [r for r in Role if allowed(r, Permission.DIRECTOR_MAILBOX)] == [Role.DIRECTOR_OFFICE]
    # departments work their own cases; they do not work the hotline's queue
    assert not allowed(Role.DEPARTMENT_OFFICER, Permission.QUEUE_WORK)
    assert not allowed(
        Role.ADMINISTRATOR, Permission.CASE_READ
    )  # administering is not reading cases
    assert all(Permission.CONSOLE in grants for grants in ROLE_GRANTS.values())
    assert not allowed("intruder", Permission.CONSOLE)


def test_a_generated_password_must_be_changed_first(client: TestClient[Any]) -> None:
    from sqlalchemy import update

    from hotline.core.storage.models.people import User

    async def flag() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            await s.execute(
                update(User)
                .where(User.username == "administrator1")
                .values(must_change_password=True)
            )

    client.blocking_portal.call(flag)
    assert sign_in(client, "administrator1").headers["location"] == "/console/password"
    refused = client.get("/console", follow_redirects=False)  # nothing else until it is changed
    assert refused.headers["location"] == "/console/password"
    form = client.get("/console/password")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text).group(1)
    short = client.post(
        "/console/password", data={"_csrf_token": token, "current": PASSWORD, "new": "short"}
    )
    assert short.status_code == 422 and "at least 12 characters" in short.text
    done = client.post(
        "/console/password",
        data={"_csrf_token": token, "current": PASSWORD, "new": "a much longer passphrase"},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console" and client.get("/console").status_code == 200
    client.cookies.clear()
    assert (
        sign_in(client, "administrator1", "a much longer passphrase").headers["location"]
        == "/console"
    )
