"""The optional second factor (TOTP), required for administrators and the director's office
when the site turns it on."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.core.storage.models.people import User
from tests.admin.conftest import sign_in


def token_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def give_secret(client: TestClient[Any], username: str, secret: str) -> None:
    async def run() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            await s.execute(
                update(User).where(User.username == username).values(totp_secret=secret)
            )

    client.blocking_portal.call(run)


def test_a_user_with_a_second_factor_must_give_the_code(client: TestClient[Any]) -> None:
    secret = pyotp.random_base32()
    give_secret(client, "supervisor1", secret)
    response = sign_in(client, "supervisor1")
    assert response.headers["location"] == "/console/login/totp"
    assert (
        client.get("/console", follow_redirects=False).headers.get("location") == "/console/login"
    )  # half signed in
    form = client.get("/console/login/totp")
    wrong = client.post(
        "/console/login/totp", data={"_csrf_token": token_of(form.text), "code": "000000"}
    )
    assert wrong.status_code == 401
    right = client.post(
        "/console/login/totp",
        data={"_csrf_token": token_of(form.text), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert right.status_code == 303 and client.get("/console").status_code == 200


def test_the_site_can_require_it_for_administrators(client: TestClient[Any]) -> None:
    client.app.state.ctx.settings.require_totp = True
    assert sign_in(client, "agent1").headers["location"] == "/console"  # agents are not asked
    client.cookies.clear()
    response = sign_in(client, "administrator1")
    assert response.headers["location"] == "/console/totp/setup"
    setup = client.get("/console/totp/setup")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', setup.text).group(1)
    done = client.post(
        "/console/totp/setup",
        data={"_csrf_token": token_of(setup.text), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/console" and client.get("/console").status_code == 200

    async def stored() -> str | None:
        async with client.app.state.ctx.db.session() as s:
            return await s.scalar(select(User.totp_secret).where(User.username == "administrator1"))

    assert client.blocking_portal.call(stored) == secret
    client.cookies.clear()
    assert (
        sign_in(client, "administrator1").headers["location"] == "/console/login/totp"
    )  # from now on
