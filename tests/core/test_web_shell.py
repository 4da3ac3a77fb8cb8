"""The web shell as clients and operators see it: the access log records the status each client
received (also 403, 429, 413 made outside the handlers), an unhandled error is a 500 with a
reference that the one log line carries (and no message text), no free text from a link
reaches a console page, and every page that shows a citizen's case or a staff screen says
``Cache-Control: no-store`` (walked over the route table)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from litestar import get
from litestar.testing import TestClient

from hotline.core.intake.receive import receive
from hotline.core.people.accounts import hash_password
from hotline.core.people.permissions import allowed
from hotline.core.shell.app import create_app
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import User
from hotline.core.workflow.dispatch import do_dispatch
from tests.conftest import seed_city, sqlite_app_settings
from tests.core.test_bad_params import fill, permission_of, routes
from tests.factories import submission

PASSWORD = "correct horse battery staple"
SECRET_TEXT = "13912345678 欧阳娜娜 我家楼下的路灯坏了"


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError(f"a bug while handling {SECRET_TEXT}")


@get("/api/v1/boom", sync_to_thread=False)
def api_boom() -> None:
    raise KeyError(SECRET_TEXT)


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient[Any]]:
    settings = sqlite_app_settings(tmp_path, sqlite_template)
    settings.rate_limit_per_minute = 1000
    settings.max_request_bytes = 64 * 1024
    app = create_app(settings)
    app.register(boom)
    app.register(api_boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.headers["Accept-Language"] = "en"
        yield c


def _access(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int]]:
    return [
        (r.path, r.status)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.name == "hotline.http" and r.getMessage() == "request"
    ]


def test_the_access_log_has_the_status_the_client_got(
    tmp_path: Path, sqlite_template: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "hotline.http")
    settings = sqlite_app_settings(tmp_path, sqlite_template)
    settings.rate_limit_per_minute = 6
    settings.max_request_bytes = 64 * 1024
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        got = [
            c.post("/track", data={"number": "1"}).status_code,  # no CSRF token: 403
            c.post(  # too large: 413
                "/open311/v2/requests.json",
                content=b"x" * 100_000,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ).status_code,
            c.get("/no/such/page").status_code,  # 404
        ]
        got += [c.get("/api/v1/services").status_code for _ in range(8)]  # then 429
    assert got[:3] == [403, 413, 404] and got[-1] == 429
    assert [status for _path, status in _access(caplog)] == got


def test_an_unhandled_error_is_a_500_with_a_reference_logged_once(
    client: TestClient[Any], caplog: pytest.LogCaptureFixture
) -> None:
    api = client.get("/api/v1/boom")
    page = client.get("/boom")
    assert api.status_code == page.status_code == 500
    assert api.json()["reference"] == api.headers["x-request-id"]
    assert page.headers["content-type"].startswith("text/html")
    shown = BeautifulSoup(page.text, "html.parser").find(id="reference")
    assert shown is not None and shown.get_text() == page.headers["x-request-id"]
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert [r.reference for r in logged] == [  # type: ignore[attr-defined]
        api.headers["x-request-id"],
        page.headers["x-request-id"],
    ]
    assert "test_web_shell.py" in logged[0].trace  # type: ignore[attr-defined]  # where, yes
    for secret in ("13912345678", "欧阳娜娜", "路灯"):  # what, never
        assert secret not in caplog.text
        assert secret not in page.text and secret not in api.text


async def _staff_and_case(ctx: Any) -> dict[str, str]:
    city = await seed_city(ctx)
    async with ctx.db.transaction() as s:
        for role in Role:
            s.add(
                User(
                    username=f"{role.value}1",
                    display_name=role.value,
                    role=role,
                    password_hash=hash_password(PASSWORD),
                    department_id=city["roads"]
                    if role in (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)
                    else None,
                )
            )
    result = await receive(
        ctx,
        submission(
            citizen_name="欧阳娜娜",
            contacts=[{"kind": "phone", "value": "13912345678"}],
            text="我家楼下的路灯坏了",
        ),
    )
    await do_dispatch(ctx, result.case_id, "roads", SYSTEM, direct_callback=True)
    letter = await receive(ctx, submission(kind="director_mailbox", category=None))
    return {"number": result.tracking_number, "letter": letter.tracking_number}


def _sign_in(client: TestClient[Any], username: str) -> None:
    client.cookies.clear()
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console/login").text)
    assert token
    signed = client.post(
        "/console/login",
        data={"_csrf_token": token.group(1), "username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303


PRIVATE = ("欧阳娜娜", "13912345678", "路灯坏了")


def test_every_page_with_a_case_or_a_staff_screen_is_not_stored(
    client: TestClient[Any],
) -> None:
    values = client.blocking_portal.call(_staff_and_case, client.app.state.ctx)
    values.update(
        {"step": "close", "action": "decline", "code": "pothole", "name": "requests.json"}
    )
    checked = 0
    for role in [None, *Role]:
        if role is None:
            client.cookies.clear()
        else:
            _sign_in(client, f"{role.value}1")
        for method, template, handler in routes(client.app):
            if method != "GET" or template.endswith("stream"):
                continue  # event streams do not end (their headers are the same wrapper's)
            permission = permission_of(handler)
            if role is not None and permission is not None and not allowed(role, permission):
                continue
            url = fill(template, values)
            if template.startswith("/console/mailbox/"):
                url = url.replace(values["number"], values["letter"])
            response = client.get(url, follow_redirects=False)
            shows_a_case = values["number"] in response.text or any(
                p in response.text for p in PRIVATE
            )
            if template.startswith("/console") or shows_a_case:
                assert response.headers.get("cache-control") == "no-store", (role, url)
                checked += 1
    assert checked > 60
    # the citizen's own pages: the receipt and the tracked case
    client.cookies.clear()
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/services/pothole").text)
    assert token
    sent = client.post(
        "/services/pothole",
        data={
            "_csrf_token": token.group(1),
            "description": "桥下积水很深",
            "phone": "13912345678",
            "consent": "yes",
        },
    )
    assert "tracking-number" in sent.text
    assert sent.headers["cache-control"] == "no-store"


def test_no_text_from_a_link_reaches_a_console_page(client: TestClient[Any]) -> None:
    values = client.blocking_portal.call(_staff_and_case, client.app.state.ctx)
    number = values["number"]
    lure = "Your account is locked: call 400-123-4567 now"
    _sign_in(client, "agent1")
    page = client.get(f"/console/cases/{number}?error=close&reason={lure}")
    assert page.status_code == 200 and "400-123-4567" not in page.text
    _sign_in(client, "administrator1")
    page = client.get(f"/console/settings/departments?error={lure}")
    assert page.status_code == 200 and "400-123-4567" not in page.text
    _sign_in(client, "department_officer1")
    page = client.get(f"/console/department/cases/{number}?error=sign&reason={lure}")
    assert page.status_code == 200 and "400-123-4567" not in page.text
    # a real refusal still says why, once: by the session, not by the link
    _sign_in(client, "agent1")
    token = re.search(
        r'name="_csrf_token" value="([^"]+)"', client.get(f"/console/cases/{number}").text
    )
    assert token
    refused = client.post(
        f"/console/cases/{number}/workflow/link",
        data={"_csrf_token": token.group(1), "other": number},
        follow_redirects=False,
    )
    assert refused.status_code == 303 and "reason" not in refused.headers["location"]
    shown = client.get(refused.headers["location"])
    why = BeautifulSoup(shown.text, "html.parser").find(id="refusal")
    assert why is not None and "this case" in why.get_text()
    again = client.get(refused.headers["location"])
    assert BeautifulSoup(again.text, "html.parser").find(id="refusal") is None
