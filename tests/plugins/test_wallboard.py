"""The wallboard (plugins/reports): readable by team leaders, supervisors and administrators,
refused to agents, department people and the director's office; its figures are today's, from
what happened (a contact that arrives is waiting on the board, one answered is counted); the
administrator's kiosk link shows the same board to a screen that cannot sign in, with no name
on it, and a revoked link is gone; both in the audit trail. The stream says "refresh" when a
contact arrives. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.axd import state as axd_state
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.people.accounts import hash_password
from hotline.core.shell.app import create_app
from hotline.core.shell.context import Kernel
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import AgentState, Role
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.people import AuditEntry, User
from hotline.core.storage.models.reports import ScreenLink
from hotline.plugins.reports.kiosk import make_link
from tests.admin.conftest import PASSWORD, sign_in
from tests.conftest import seed_city
from tests.factories import submission
from tests.liveapp import LiveApp

CITIZEN = "王小明"
PHONE = "13800138123"


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
                            display_name=f"Staff {role.value}",
                            role=role,
                            department_id=department,
                            password_hash=hash_password(PASSWORD),
                        )
                    )

        c.blocking_portal.call(setup)
        yield c


def run(client: TestClient[Any], coro: Any) -> Any:
    return client.blocking_portal.call(lambda: coro)


def tile(html: str, figure: str) -> str:
    found = BeautifulSoup(html, "html.parser").select_one(f'[data-figure="{figure}"]')
    assert found is not None, figure
    return found.get_text(strip=True)


def arrive(client: TestClient[Any]) -> int:
    """A citizen's web form arrives: a case and a contact waiting in the queue."""
    ctx = client.app.state.ctx

    async def go() -> int:
        sub = submission(citizen_name=CITIZEN, contacts=[{"kind": "phone", "value": PHONE}])
        return (await receive(ctx, sub)).case_id

    return int(client.blocking_portal.call(go))


def csrf(client: TestClient[Any], page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(page).text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("role", list(Role))
def test_who_sees_the_wallboard(client: TestClient[Any], role: Role) -> None:
    sign_in(client, f"{role.value}1")
    page = client.get("/console/wallboard")
    if role in (Role.TEAM_LEADER, Role.SUPERVISOR, Role.ADMINISTRATOR):
        assert page.status_code == 200
        assert tile(page.text, "waiting") == "0"
        assert 'href="/console/wallboard"' in client.get("/console").text  # in the menu
    else:
        assert page.status_code == 403
        assert client.get("/console/wallboard/stream").status_code == 403
        assert 'href="/console/wallboard"' not in client.get("/console").text


def test_the_board_counts_what_happened_today(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx
    first, _second = arrive(client), arrive(client)
    sign_in(client, "supervisor1")
    page = client.get("/console/wallboard").text
    assert (tile(page, "waiting"), tile(page, "offered"), tile(page, "answered")) == ("2", "2", "0")
    assert CITIZEN not in page and PHONE not in page

    async def answer() -> None:
        async with ctx.db.session() as s:
            agent = await s.scalar(select(User.id).where(User.username == "agent1"))
            item = await s.scalar(select(QueueItem.id).where(QueueItem.case_id == first))
        await axd_state.set_state(ctx, agent, AgentState.AVAILABLE, capacity={"web_form": 2})
        assert await axd_state.accept(ctx, item, agent)

    run(client, answer())
    # the screen asks again after being told of the change (since: the time it was told)
    again = client.get(
        "/console/wallboard", params={"since": "9999999999"}, headers={"HX-Request": "true"}
    )
    assert again.text.lstrip().startswith('<div id="board">')  # the board alone
    assert (tile(again.text, "waiting"), tile(again.text, "answered")) == ("1", "1")
    assert tile(again.text, "available") == "0"  # the one agent has a contact in hand
    agents = BeautifulSoup(again.text, "html.parser").select_one("#agents")
    assert agents is not None and "Handling: Web form" in agents.get_text(" ", strip=True)


def test_a_kiosk_link_shows_the_board_without_names_until_revoked(
    client: TestClient[Any],
) -> None:
    arrive(client)
    sign_in(client, "administrator1")
    made = client.post(
        "/console/settings/wallboard/kiosk",
        data={"_csrf_token": csrf(client, "/console/settings/wallboard"), "name": "Hall screen"},
    )
    assert made.status_code == 200
    link = BeautifulSoup(made.text, "html.parser").select_one("#new-link code")
    assert link is not None
    path = link.get_text().split("://", 1)[1].split("/", 1)[1]
    token = path.rsplit("/", 1)[1]
    # only a keyed digest is kept, never the token
    stored = run(client, _kiosk_rows(client))
    assert len(stored) == 1 and token not in stored[0].digest and stored[0].digest

    page = client.get("/console/settings/wallboard")
    revoke = BeautifulSoup(page.text, "html.parser").select_one("#kiosk-links form")
    assert revoke is not None and "Hall screen" in page.text
    client.cookies.clear()  # the screen has no session
    board = client.get(f"/{path}")
    assert board.status_code == 200
    assert tile(board.text, "waiting") == "1"
    soup = BeautifulSoup(board.text, "html.parser")
    assert not soup.select("nav") and not soup.select('a[href^="/console"]')
    for private in (CITIZEN, PHONE, "Staff administrator", "administrator1"):
        assert private not in board.text
    assert board.headers["cache-control"] == "no-store"
    assert client.get(f"/{path}x").status_code == 404
    assert client.get("/wallboard/kiosk/00000000.notatokenatallnotatokenatall12").status_code == 404

    sign_in(client, "administrator1")
    gone = client.post(
        str(revoke["action"]),
        data={"_csrf_token": csrf(client, "/console/settings/wallboard")},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    client.cookies.clear()
    assert client.get(f"/{path}").status_code == 404
    assert client.get(f"/{path}/stream").status_code == 404
    actions = [a.action for a in run(client, _audits(client))]
    assert actions.count("kiosk.created") == 1 and actions.count("kiosk.revoked") == 1


def test_only_administrators_make_kiosk_links(client: TestClient[Any]) -> None:
    sign_in(client, "supervisor1")
    assert client.get("/console/settings/wallboard").status_code == 403
    token = csrf(client, "/console")
    refused = client.post(
        "/console/settings/wallboard/kiosk", data={"_csrf_token": token, "name": "x"}
    )
    assert refused.status_code == 403


def test_thresholds_colour_a_figure(client: TestClient[Any]) -> None:
    arrive(client)
    sign_in(client, "administrator1")
    page = client.get("/console/settings/wallboard").text
    form = BeautifulSoup(page, "html.parser").select_one("#wallboard-settings")
    assert form is not None
    data = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    assert "tile lvl-ok" in client.get("/console/wallboard").text.replace('" id', '"  id')
    data.update({"waiting_warn": "1", "waiting_alarm": "1", "service_level_seconds": "30"})
    assert client.post("/console/settings/wallboard", data=data).status_code == 200
    board = BeautifulSoup(client.get("/console/wallboard").text, "html.parser")
    waiting = board.select_one("#waiting")
    assert waiting is not None and "lvl-alarm" in waiting["class"]
    assert "Alarm" in waiting.get_text()
    assert "answered within 30 s" in board.get_text()
    data["waiting_warn"] = "lots"
    refused = client.post("/console/settings/wallboard", data=data)
    assert refused.status_code == 400 and "Waiting now" in refused.text


def test_the_stream_says_refresh_when_a_contact_arrives(settings: Settings) -> None:
    """Served over HTTP (an event stream stays open): a kiosk screen's stream says "refresh"
    as a contact arrives, and the board it then asks for shows the contact waiting."""
    app = LiveApp(settings)
    try:
        token = app.call(_kiosk_token)
        base = f"{app.url}/wallboard/kiosk/{token}"
        assert tile(httpx.get(base, timeout=10).text, "waiting") == "0"
        seen: list[tuple[str, dict[str, Any]]] = []
        with httpx.stream("GET", f"{base}/stream", timeout=10) as stream:
            event = ""
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    seen.append((event, json.loads(line.split(":", 1)[1])))
                    if event == "hello":
                        app.call(_arrive)
                    if event == "refresh":
                        break
        assert seen[0][0] == "hello" and seen[-1][0] == "refresh"
        assert set(seen[-1][1]) == {"at"}  # nothing else leaves: no case, no name
        board = httpx.get(
            base, params={"since": seen[-1][1]["at"]}, headers={"HX-Request": "true"}, timeout=10
        )
        assert tile(board.text, "waiting") == "1"
    finally:
        app.stop()


async def _kiosk_token(ctx: Any) -> str:
    await seed_city(ctx)
    return await make_link(ctx, "Test screen", SYSTEM)


async def _arrive(ctx: Any) -> None:
    await receive(ctx, submission(citizen_name=CITIZEN))


async def _kiosk_rows_of(ctx: Any) -> list[ScreenLink]:
    async with ctx.db.session() as s:
        return list(await s.scalars(select(ScreenLink)))


def _kiosk_rows(client: TestClient[Any]) -> Any:
    return _kiosk_rows_of(client.app.state.ctx)


async def _audits_of(ctx: Any) -> list[AuditEntry]:
    async with ctx.db.session() as s:
        return list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def _audits(client: TestClient[Any]) -> Any:
    return _audits_of(client.app.state.ctx)
