"""Separation of duties around staff rights and the sealed mailbox, tried as an administrator
would: no one raises their own rights by any path (role, department, active, overrides of any
permission for themselves or their unit, password and second-factor resets); whatever would
open the director's mailbox to someone, or let someone sign in as a person of the office,
waits for a second person of the office; the office is always told; the command line does it
at once, audited."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.people.passwords import hash_password
from hotline.core.people.permissions import Permission, effective
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import AccountRequest, AuditEntry, PermissionGrant, User
from hotline.core.storage.models.workflow import Notice
from tests.admin.conftest import PASSWORD, sign_in
from tests.conftest import seed_city


def token(client: TestClient[Any]) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)[1]


def post(client: TestClient[Any], path: str, **data: str) -> Any:
    return client.post(path, data={"_csrf_token": token(client), **data}, follow_redirects=False)


def call(client: TestClient[Any], fn: Any) -> Any:
    return client.blocking_portal.call(fn)


def db(client: TestClient[Any]) -> Any:
    return client.app.state.ctx.db


def setup(client: TestClient[Any]) -> dict[str, int]:
    """The city, a second administrator and a second person of the office; the administrators
    work in the roads bureau (so that a unit override of it would cover them)."""

    async def run() -> dict[str, int]:
        city = await seed_city(client.app.state.ctx)
        async with db(client).transaction() as s:
            for name, role in (
                ("administrator2", Role.ADMINISTRATOR),
                ("director_office2", Role.DIRECTOR_OFFICE),
            ):
                s.add(
                    User(
                        username=name,
                        display_name=name,
                        role=role,
                        password_hash=hash_password(PASSWORD),
                    )
                )
            for user in await s.scalars(select(User).where(User.role == Role.ADMINISTRATOR)):
                user.department_id = city["roads"]
        async with db(client).session() as s:
            ids = {u.username: u.id for u in await s.scalars(select(User))}
        return {**ids, **city}

    return call(client, run)


async def _permissions(client: TestClient[Any], name: str) -> frozenset[Permission]:
    async with db(client).session() as s:
        user = await s.scalar(select(User).where(User.username == name))
        return await effective(s, user)


def permissions(client: TestClient[Any], name: str) -> frozenset[Permission]:
    return call(client, lambda: _permissions(client, name))


def snapshot(client: TestClient[Any]) -> tuple[Any, ...]:
    async def run() -> tuple[Any, ...]:
        async with db(client).session() as s:
            users = [
                (
                    u.username,
                    u.role,
                    u.department_id,
                    u.active,
                    u.password_hash,
                    u.totp_secret,
                    u.session_epoch,
                )
                for u in await s.scalars(select(User).order_by(User.id))
            ]
            grants = [
                (g.user_id, g.department_id, g.role, g.permission, g.allow)
                for g in await s.scalars(select(PermissionGrant))
            ]
        return tuple(users), tuple(grants)

    return call(client, run)


def audit_actions(client: TestClient[Any]) -> list[str]:
    async def run() -> list[str]:
        async with db(client).session() as s:
            return list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))

    return call(client, run)


def office_notices(client: TestClient[Any]) -> list[tuple[str, dict[str, Any]]]:
    async def run() -> list[tuple[str, dict[str, Any]]]:
        async with db(client).session() as s:
            rows = await s.scalars(
                select(Notice).where(Notice.role == "director_office").order_by(Notice.id)
            )
            return [(n.kind, n.detail) for n in rows]

    return call(client, run)


def give_self_deny(client: TestClient[Any], ids: dict[str, int]) -> int:
    async def run() -> int:
        async with db(client).transaction() as s:
            grant = PermissionGrant(
                user_id=ids["administrator1"], permission="administer", allow=False
            )
            s.add(grant)
            await s.flush()
            return grant.id

    return call(client, run)


SELF_PATHS = {
    "role into the office": lambda ids: (
        "/console/settings/users/{me}",
        {"role": "director_office", "active": "yes"},
    ),
    "role supervisor": lambda ids: (
        "/console/settings/users/{me}",
        {"role": "supervisor", "active": "yes"},
    ),
    "department move": lambda ids: (
        "/console/settings/users/{me}",
        {"role": "administrator", "active": "yes", "department": str(ids["env"])},
    ),
    "switch off": lambda ids: ("/console/settings/users/{me}", {"role": "administrator"}),
    "password reset": lambda ids: ("/console/settings/users/{me}/reset", {}),
    "second factor reset": lambda ids: ("/console/settings/users/{me}/reset-totp", {}),
    **{
        f"own override {p.value}": (
            lambda ids, p=p: (
                "/console/settings/permissions",
                {"username": "administrator1", "permission": p.value, "allow": "yes"},
            )
        )
        for p in Permission
    },
    "unit override for my department": lambda ids: (
        "/console/settings/permissions",
        {"department": str(ids["roads"]), "permission": "director.mailbox", "allow": "yes"},
    ),
    "unit override for my role there": lambda ids: (
        "/console/settings/permissions",
        {
            "department": str(ids["roads"]),
            "role": "administrator",
            "permission": "case.read",
            "allow": "yes",
        },
    ),
}


@pytest.mark.parametrize("path", list(SELF_PATHS))
def test_no_one_raises_their_own_rights(client: TestClient[Any], path: str) -> None:
    ids = setup(client)
    url, data = SELF_PATHS[path](ids)
    sign_in(client, "administrator1")
    before = snapshot(client)
    refused = post(client, url.format(me=ids["administrator1"]), **data)
    assert refused.status_code == 403 and "own rights" in refused.text
    assert snapshot(client) == before
    assert audit_actions(client)[-1] == "rights_refused_self"


def test_removing_a_deny_on_oneself_is_refused_too(client: TestClient[Any]) -> None:
    ids = setup(client)
    grant = give_self_deny(client, ids)
    sign_in(client, "administrator2")  # the deny keeps administrator1 out of administering
    sign_in(client, "administrator1")
    before = snapshot(client)
    refused = post(client, f"/console/settings/permissions/{grant}/delete")
    assert refused.status_code == 403 and snapshot(client) == before


OFFICE_CHANGES = {
    "grant director.mailbox to a user": lambda ids: (
        "/console/settings/permissions",
        {"username": "agent1", "permission": "director.mailbox", "allow": "yes"},
        "agent1",
    ),
    "grant director.mailbox to a unit": lambda ids: (
        "/console/settings/permissions",
        {"department": str(ids["env"]), "permission": "director.mailbox", "allow": "yes"},
        None,
    ),
    "grant it to a fellow administrator": lambda ids: (
        "/console/settings/permissions",
        {"username": "administrator2", "permission": "director.mailbox", "allow": "yes"},
        "administrator2",
    ),
    "move someone into the office": lambda ids: (
        f"/console/settings/users/{ids['agent1']}",
        {"role": "director_office", "active": "yes"},
        "agent1",
    ),
    "add an office account": lambda ids: (
        "/console/settings/users",
        {"username": "newdirector", "role": "director_office"},
        None,
    ),
    "reset an office password": lambda ids: (
        f"/console/settings/users/{ids['director_office1']}/reset",
        {},
        "director_office1",
    ),
    "reset an office second factor": lambda ids: (
        f"/console/settings/users/{ids['director_office1']}/reset-totp",
        {},
        "director_office1",
    ),
}


def approve(client: TestClient[Any], who: str, decision: str = "approve") -> Any:
    client.cookies.clear()
    sign_in(client, who)
    page = client.get("/console/approvals")
    found = re.findall(r'data-request="(\d+)"', page.text)
    assert found, page.text
    return post(client, f"/console/approvals/{found[0]}/{decision}")


@pytest.mark.parametrize("change", list(OFFICE_CHANGES))
def test_what_opens_the_mailbox_waits_for_a_second_person_of_the_office(
    client: TestClient[Any], change: str
) -> None:
    ids = setup(client)
    url, data, concerned = OFFICE_CHANGES[change](ids)
    sign_in(client, "administrator1")
    before = snapshot(client)
    asked = post(client, url, **data)
    assert asked.status_code == 202 and asked.text.count("second person of the office") >= 1
    assert 'id="new-password"' not in asked.text  # the administrator never sees a password
    assert snapshot(client) == before  # nothing changed yet
    assert [k for k, _ in office_notices(client)] == ["rights_request"]
    # the administrator who asked, and a fellow administrator, cannot approve it
    assert post(client, "/console/approvals/1/approve").status_code == 403
    # the person concerned cannot approve their own reset
    if concerned == "director_office1":
        refused = approve(client, "director_office1")
        assert refused.status_code == 403 and snapshot(client) == before
    done = approve(client, "director_office2")
    assert done.status_code == 200
    assert snapshot(client) != before
    kinds = [k for k, _ in office_notices(client)]
    assert kinds == ["rights_request", "rights_approved"]
    actions = audit_actions(client)
    assert "rights_requested" in actions and "rights_approved" in actions
    if "password" in change or "account" in change:
        assert 'id="new-password"' in done.text  # shown to the approver, once
    if concerned == "agent1":
        assert Permission.DIRECTOR_MAILBOX in permissions(client, "agent1")


def test_the_office_may_refuse(client: TestClient[Any]) -> None:
    ids = setup(client)
    sign_in(client, "administrator1")
    post(client, f"/console/settings/users/{ids['agent1']}", role="director_office", active="yes")
    before = snapshot(client)
    refused = approve(client, "director_office2", "refuse")
    assert refused.status_code == 200 and snapshot(client) == before
    assert Permission.DIRECTOR_MAILBOX not in permissions(client, "agent1")
    again = post(client, "/console/approvals/1/approve")
    assert again.status_code == 409  # decided once

    async def state() -> str:
        async with db(client).session() as s:
            return str(await s.scalar(select(AccountRequest.state)))

    assert call(client, state) == "refused"


def test_a_reset_office_password_never_reaches_the_administrator(client: TestClient[Any]) -> None:
    """The break-in the issue names: reset a director's-office password and sign in as it."""
    ids = setup(client)
    sign_in(client, "administrator1")
    asked = post(client, f"/console/settings/users/{ids['director_office1']}/reset")
    assert asked.status_code == 202
    client.cookies.clear()
    assert sign_in(client, "director_office1").status_code == 303  # still their own password


def test_a_reset_ends_the_accounts_sessions(client: TestClient[Any]) -> None:
    """Session takeover: after a reset, whoever was signed in as the account is signed out."""
    ids = setup(client)
    sign_in(client, "agent1")
    agent_session = client.cookies.get("hotline_console")
    client.cookies.clear()
    sign_in(client, "administrator1")
    reset = post(client, f"/console/settings/users/{ids['agent1']}/reset")
    assert 'id="new-password"' in reset.text  # an ordinary account: at once
    client.cookies.clear()
    client.cookies.set("hotline_console", agent_session)
    assert (
        client.get("/console", follow_redirects=False).headers.get("location") == "/console/login"
    )


def test_an_ordinary_second_factor_is_removed_at_once(client: TestClient[Any]) -> None:
    ids = setup(client)

    async def give() -> None:
        async with db(client).transaction() as s:
            user = await s.get(User, ids["supervisor1"])
            user.totp_secret = pyotp.random_base32()

    call(client, give)
    sign_in(client, "administrator1")
    assert (
        post(client, f"/console/settings/users/{ids['supervisor1']}/reset-totp").status_code == 303
    )
    client.cookies.clear()
    assert sign_in(client, "supervisor1").headers["location"] == "/console"  # no second factor


def test_taking_office_rights_away_is_at_once_and_told(client: TestClient[Any]) -> None:
    ids = setup(client)
    sign_in(client, "administrator1")
    done = post(
        client, f"/console/settings/users/{ids['director_office1']}", role="director_office"
    )
    assert done.status_code == 303  # switched off
    assert [k for k, _ in office_notices(client)] == ["rights_changed"]
    post(
        client,
        "/console/settings/permissions",
        username="director_office2",
        permission="director.mailbox",
    )
    assert Permission.DIRECTOR_MAILBOX not in permissions(client, "director_office2")
    assert [k for k, _ in office_notices(client)] == ["rights_changed", "rights_changed"]


def test_ordinary_changes_to_others_are_made_at_once(client: TestClient[Any]) -> None:
    ids = setup(client)
    sign_in(client, "administrator1")
    post(client, f"/console/settings/users/{ids['agent1']}", role="team_leader", active="yes")
    post(
        client,
        "/console/settings/permissions",
        username="agent1",
        permission="supervise",
        allow="yes",
    )
    assert {Permission.QUEUE_MANAGE, Permission.SUPERVISE} <= permissions(client, "agent1")
    assert office_notices(client) == []
