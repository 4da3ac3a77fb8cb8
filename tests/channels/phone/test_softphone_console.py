"""The console's side of the softphones: an agent gets a credential for their own address only
(12 hours, never cached), other roles and strangers get none, the panel is in every console page
an agent sees (in their language) and the CSP lets the page reach the registrar; a site without
softphones shows none of it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.softphone import TTL, credential, registrar_secret
from hotline.core.axd import listenings
from hotline.core.people.accounts import hash_password
from hotline.core.shell.app import create_app
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import User
from tests.admin.conftest import PASSWORD, sign_in
from tests.channels.phone.test_desk_queue import caller
from tests.conftest import sqlite_app_settings

WS = "127.0.0.1:8089"


def _client(tmp_path: Path, template: Path, **extra: Any) -> Iterator[TestClient[Any]]:
    settings = sqlite_app_settings(tmp_path, template).model_copy(update=extra)
    with TestClient(create_app(settings)) as c:
        c.headers["Accept-Language"] = "en"

        async def staff() -> None:
            async with c.app.state.ctx.db.transaction() as s:
                for role in (Role.AGENT, Role.DEPARTMENT_OFFICER):
                    s.add(
                        User(
                            username=f"{role.value}1",
                            display_name=role.value,
                            role=role,
                            password_hash=hash_password(PASSWORD),
                        )
                    )

        c.blocking_portal.call(staff)
        yield c


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient[Any]]:
    yield from _client(tmp_path, sqlite_template, phone_softphone_ws=WS)


@pytest.fixture
def plain(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient[Any]]:
    yield from _client(tmp_path, sqlite_template)


def panel_token(page: str) -> str:
    """The CSRF token the softphone panel carries for its posts."""
    return page.split('data-csrf="', 1)[1].split('"', 1)[0]


def _agent_id(client: TestClient[Any]) -> int:
    async def find() -> int:
        async with client.app.state.ctx.db.session() as s:
            from sqlalchemy import select

            found = await s.scalar(select(User.id).where(User.username == "agent1"))
            assert found is not None
            return found

    return int(client.blocking_portal.call(find))


def test_an_agent_gets_a_credential_for_their_own_address(client: TestClient[Any]) -> None:
    sign_in(client, "agent1")
    answer = client.get("/console/softphone")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    user = f"agent-{_agent_id(client)}"
    expires, _, named = body["username"].partition(":")
    assert named == user and body["aor"] == f"sip:{user}@127.0.0.1"
    assert abs(int(expires) - (time.time() + TTL)) < 60 and body["ttl"] == TTL == 12 * 3600
    secret = registrar_secret(client.app.state.ctx.secret_key)
    again = credential(secret, user, ttl=0, now=int(expires))
    assert body["password"] == again["password"]
    assert body["url"] == f"ws://{WS}"


def test_no_credential_for_other_roles_or_strangers(client: TestClient[Any]) -> None:
    assert client.get("/console/softphone", follow_redirects=False).status_code in (302, 303, 401)
    sign_in(client, "department_officer1")
    assert client.get("/console/softphone").status_code == 403
    assert 'id="softphone"' not in client.get("/console").text


def test_the_panel_is_on_an_agents_pages_in_their_language(client: TestClient[Any]) -> None:
    sign_in(client, "agent1")
    for path in ("/console/queue", "/console"):
        page = client.get(path)
        assert 'id="softphone"' in page.text and "/static/console/softphone.js" in page.text
        csp = page.headers["content-security-policy"]
        assert f"connect-src 'self' ws://{WS};" in csp and "script-src" not in csp
    chinese = client.get("/console/queue", headers={"Accept-Language": "zh-CN"}).text
    assert "软电话" in chinese and "接听" in chinese
    assert client.get("/static/console/vendor/sip.js-0.21.2/lib/index.js").status_code == 200


def test_a_site_without_softphones_shows_none(plain: TestClient[Any]) -> None:
    sign_in(plain, "agent1")
    assert plain.get("/console/softphone").status_code == 404
    page = plain.get("/console/queue")
    assert 'id="softphone"' not in page.text
    assert "connect-src" not in page.headers["content-security-policy"]


def test_hold_is_counted_for_an_agent_with_the_token_and_nobody_else(
    client: TestClient[Any],
) -> None:
    """The panel's hold posts carry the CSRF token; a post without it, another role's, or a
    stranger's is refused; an agent without a call in progress is told nothing was counted;
    the music is the line's, served to agents only."""
    sign_in(client, "agent1")
    page = client.get("/console/queue")
    token = panel_token(page.text)
    assert client.post("/console/softphone/hold", data={"on": "1"}).status_code == 403
    held = client.post("/console/softphone/hold", data={"on": "1"}, headers={"x-csrftoken": token})
    assert held.status_code == 200 and held.json() == {"held": True, "counted": False}
    music = client.get("/console/softphone/hold-music")
    assert music.status_code == 200 and music.headers["content-type"] == "audio/wav"
    assert music.content[:4] == b"RIFF"
    client.cookies.clear()
    sign_in(client, "department_officer1")
    assert client.get("/console/softphone/hold-music").status_code == 403


def test_an_agent_sees_where_a_call_may_go_and_why_it_cannot(client: TestClient[Any]) -> None:
    """The targets are the queues and the agents available now (never the asker, nor an agent
    on a call); a transfer without a call in progress is refused in the agent's language;
    other roles get none."""
    from hotline.core.axd.state import set_state
    from hotline.core.storage.enums import AgentState
    from hotline.core.storage.models.axd import SkillGroup
    from tests.channels.phone.test_desk_transfer import a_call_with

    me = _agent_id(client)

    async def queues_and_presence() -> None:
        ctx = client.app.state.ctx
        async with ctx.db.transaction() as s:
            s.add(SkillGroup(code="water", name_zh="供水", name_en="Water supply"))
            other = User(
                username="agent2", display_name="Agent Two", role=Role.AGENT, password_hash="x"
            )
            s.add(other)
            on_a_call = User(
                username="agent3", display_name="Agent Three", role=Role.AGENT, password_hash="x"
            )
            s.add(on_a_call)
        await set_state(ctx, other.id, AgentState.AVAILABLE)
        await set_state(ctx, on_a_call.id, AgentState.AVAILABLE)
        await a_call_with(ctx, on_a_call.id)
        await set_state(ctx, me, AgentState.AVAILABLE)

    client.blocking_portal.call(queues_and_presence)
    sign_in(client, "agent1")
    token = panel_token(client.get("/console/queue").text)
    targets = client.get("/console/softphone/transfer", headers={"Accept-Language": "zh-CN"})
    assert targets.json()["queues"] == [["water", "供水"]]
    assert [name for _id, name in targets.json()["agents"]] == ["Agent Two"]  # not agent1
    assert targets.json()["outside"] is False
    refused = client.post(
        "/console/softphone/transfer",
        data={"kind": "queue", "target": "water"},
        headers={"x-csrftoken": token, "Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 422 and refused.json() == {
        "error": "您没有正在进行的通话可以转接。"
    }
    client.cookies.clear()
    sign_in(client, "department_officer1")
    assert client.get("/console/softphone/transfer").status_code == 403


def test_a_dial_needs_a_trunk_and_the_cases_own_number(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Without a trunk there is no dialling; with one, a contact that is not the case's
    citizen's telephone is refused (nothing audited, no ticket)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for c in _client(tmp_path / "a", sqlite_template, phone_softphone_ws=WS):
        sign_in(c, "agent1")
        token = panel_token(c.get("/console/queue").text)
        gone = c.post("/console/softphone/dial", data={}, headers={"x-csrftoken": token})
        assert gone.status_code == 404
    trunk = {"phone_softphone_ws": WS, "phone_trunk": "10.0.0.9:5060"}
    for c in _client(tmp_path / "b", sqlite_template, **trunk):
        sign_in(c, "agent1")
        token = panel_token(c.get("/console/queue").text)
        refused = c.post(
            "/console/softphone/dial",
            data={"case": "20260101000001", "contact": "1"},
            headers={"x-csrftoken": token},
        )
        assert refused.status_code == 422 and "no such telephone number" in refused.json()["error"]


def test_only_team_leaders_and_supervisors_listen_in_and_only_to_a_call_in_progress(
    client: TestClient[Any],
) -> None:
    """An agent may not listen in; a supervisor asking for a call the agent is not on is
    refused (nothing audited); the panel's script is on a supervisor's pages, the panel hidden."""
    sign_in(client, "agent1")
    token = panel_token(client.get("/console/queue").text)
    asked = {"agent": "1", "item": "1", "mode": "listen"}
    refused = client.post("/console/softphone/monitor", data=asked, headers={"x-csrftoken": token})
    assert refused.status_code == 403

    async def supervisor() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            s.add(
                User(
                    username="supervisor1",
                    display_name="Lee",
                    role=Role.SUPERVISOR,
                    password_hash=hash_password(PASSWORD),
                )
            )

    client.blocking_portal.call(supervisor)
    client.cookies.clear()
    sign_in(client, "supervisor1")
    page = client.get("/console/team")
    assert "/static/console/softphone.js" in page.text
    assert (
        'data-autostart="false"' in page.text
        and "hidden" in page.text.split('id="softphone"')[1][:400]
    )
    token = panel_token(page.text)
    nothing = client.post("/console/softphone/monitor", data=asked, headers={"x-csrftoken": token})
    assert nothing.status_code == 422
    bad = client.post(
        "/console/softphone/monitor",
        data={**asked, "mode": "record"},
        headers={"x-csrftoken": token},
    )
    assert bad.status_code == 400


def test_a_supervisor_answers_and_stops_only_their_own_listening(client: TestClient[Any]) -> None:
    """The answer to the relay's offers and the stop of a desk phone's listening are taken
    only from the supervisor who asked for it, and only well-formed."""
    ctx = client.app.state.ctx

    async def offered() -> int:
        async with ctx.db.transaction() as s:
            for name in ("supervisor1", "supervisor2"):
                s.add(
                    User(
                        username=name,
                        display_name=name,
                        role=Role.SUPERVISOR,
                        password_hash=hash_password(PASSWORD),
                    )
                )
        item_id, _ = await KernelDesk(ctx).enqueue(caller("c1"), "general")
        async with ctx.db.transaction() as s:
            other = await s.scalar(select(User.id).where(User.username == "supervisor2"))
            agent = await s.scalar(select(User.id).where(User.username == "agent1"))
            row = listenings.ask(s, other, item_id, agent, "listen")
        await listenings.change(ctx, row.id, (listenings.ASKED,), state=listenings.OFFERED)
        return row.id

    listening = str(client.blocking_portal.call(offered))
    sign_in(client, "supervisor1")
    token = {"x-csrftoken": panel_token(client.get("/console/team").text)}
    answer = "/console/softphone/monitor/answer"
    for bad in ({"listening": listening}, {"listening": "x", "sdp": "v=0"}):
        assert client.post(answer, data=bad, headers=token).status_code == 400
    not_ours = client.post(answer, data={"listening": listening, "sdp": "v=0"}, headers=token)
    assert not_ours.status_code == 422
    stop = client.post(
        "/console/softphone/monitor/stop", data={"listening": listening}, headers=token
    )
    assert stop.json() == {"stopped": False}
    found = client.blocking_portal.call(listenings.read, ctx, int(listening))
    assert found is not None and found.state == listenings.OFFERED  # untouched


def test_an_agent_consults_only_another_agent_and_only_on_a_call(client: TestClient[Any]) -> None:
    """Talking to someone first is for another agent, on a call in progress; refused otherwise
    in the agent's language, and nothing is written on any case; other roles get none."""
    sign_in(client, "agent1")
    token = panel_token(client.get("/console/queue").text)
    zh = {"x-csrftoken": token, "Accept-Language": "zh-CN"}
    refused = client.post("/console/softphone/consult", data={"agent": "2"}, headers=zh)
    assert refused.status_code == 422
    assert refused.json() == {"error": "您没有正在进行的通话可以转接。"}
    queue = client.post(
        "/console/softphone/transfer",
        data={"kind": "queue", "target": "water", "attended": "1"},
        headers={"x-csrftoken": token},
    )
    assert queue.status_code == 422
    assert queue.json() == {"error": "Only another agent can be consulted first."}

    async def events() -> int:
        from sqlalchemy import func, select

        from hotline.core.storage.models.cases import CaseEvent

        async with client.app.state.ctx.db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(CaseEvent)) or 0)

    assert client.blocking_portal.call(events) == 0
    client.cookies.clear()
    sign_in(client, "department_officer1")
    page = client.get("/console/cases")
    officer = {"x-csrftoken": panel_token(page.text)} if 'data-csrf="' in page.text else {}
    assert (
        client.post("/console/softphone/consult", data={"agent": "1"}, headers=officer).status_code
        == 403
    )


async def citizen_of(client: TestClient[Any], case_id: int) -> int:
    from hotline.core.storage.models.cases import Case

    async with client.app.state.ctx.db.session() as s:
        case = await s.get(Case, case_id)
        assert case is not None and case.citizen_id is not None
        return case.citizen_id


def test_the_citizens_record_offers_a_call_on_their_newest_open_case(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """With a trunk, an agent sees "Call this number" beside the citizen's telephone numbers
    (not their e-mail), naming the case the call is recorded on; roles that do not take calls,
    and sites without a trunk, see none."""
    from hotline.core.intake.receive import receive
    from hotline.core.intake.submission import ContactIn, Submission
    from hotline.core.storage.enums import ContactKind

    for trunk, name in (("10.0.0.9:5060", "with"), ("", "without")):
        (tmp_path / name).mkdir()
        for c in _client(
            tmp_path / name, sqlite_template, phone_softphone_ws=WS, phone_trunk=trunk
        ):
            contacts = [
                ContactIn(kind=ContactKind.PHONE, value="+8613912345678"),
                ContactIn(kind=ContactKind.EMAIL, value="wang@example.com"),
            ]
            made = c.blocking_portal.call(
                receive,
                c.app.state.ctx,
                Submission(channel="web", subject="路灯", text="路灯坏了", contacts=contacts),
            )
            citizen = c.blocking_portal.call(citizen_of, c, made.case_id)
            sign_in(c, "agent1")
            record = c.get(f"/console/citizens/{citizen}").text
            buttons = record.count("data-dial-case=")
            if trunk:
                assert buttons == 1  # the telephone number only
                assert f'data-dial-case="{made.tracking_number}"' in record
                assert 'id="call-on"' in record
            else:
                assert buttons == 0 and 'id="call-on"' not in record
            c.cookies.clear()
            sign_in(c, "department_officer1")
            assert "data-dial-case=" not in c.get(f"/console/citizens/{citizen}").text
