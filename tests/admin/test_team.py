"""The team leader's board: agents' states and load, signing an agent out, moving a contact."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.axd.state import set_state
from hotline.core.intake.receive import receive
from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.people import User
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission


def setup(client: TestClient[Any]) -> tuple[int, int, int]:
    ctx = client.app.state.ctx

    async def run() -> tuple[int, int, int]:
        await seed_city(ctx)
        async with ctx.db.session() as s:
            agent = await s.scalar(select(User.id).where(User.username == "agent1"))
            leader = await s.scalar(select(User.id).where(User.username == "team_leader1"))
        await set_state(ctx, agent, AgentState.AVAILABLE, capacity={"web_form": 2}, languages=[])
        result = await receive(ctx, submission(channel="web"))
        async with ctx.db.session() as s:
            item = await s.scalar(select(QueueItem).where(QueueItem.case_id == result.case_id))
        assert item.state == "offered" and item.agent_id == agent  # offered at once
        return agent, leader, item.id

    return client.blocking_portal.call(run)


def test_the_leader_sees_states_and_load_and_signs_an_agent_out(client: TestClient[Any]) -> None:
    agent, _leader, item = setup(client)
    sign_in(client, "agent1")
    assert client.get("/console/team").status_code == 403  # agents do not manage the team
    client.cookies.clear()
    sign_in(client, "team_leader1")
    board = BeautifulSoup(client.get("/console/team").text, "html.parser")
    row = board.find("tr", attrs={"data-agent": "agent1"})
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[1] == "Available" and "Web form 1/2" in cells[3]
    token = board.find("input", attrs={"name": "_csrf_token"})["value"]
    client.post(f"/console/team/{agent}/sign-out", data={"_csrf_token": token})

    async def after() -> tuple[str, str]:
        async with client.app.state.ctx.db.session() as s:
            state = await s.scalar(select(QueueItem.state).where(QueueItem.id == item))
            from hotline.core.storage.models.axd import AgentPresence

            presence = await s.get(AgentPresence, agent)
            return state, presence.state

    assert client.blocking_portal.call(after) == (QueueState.WAITING, AgentState.SIGNED_OUT)


def test_the_leader_moves_a_contact_to_another_agent(client: TestClient[Any]) -> None:
    _agent, leader, item = setup(client)
    sign_in(client, "team_leader1")
    token = re.search(
        r'name="_csrf_token" value="([^"]+)"', client.get("/console/team").text
    ).group(1)
    moved = client.post(
        f"/console/team/items/{item}/move", data={"_csrf_token": token, "agent_id": str(leader)}
    )
    assert moved.status_code == 200

    async def owner() -> tuple[int | None, str]:
        async with client.app.state.ctx.db.session() as s:
            row = (
                await s.execute(
                    select(QueueItem.agent_id, QueueItem.state).where(QueueItem.id == item)
                )
            ).one()
            return row[0], row[1]

    assert client.blocking_portal.call(owner) == (leader, QueueState.ASSIGNED)


def test_the_leader_sets_an_agents_skills_and_capacity(client: TestClient[Any]) -> None:
    from hotline.core.storage.models.axd import AgentPresence

    agent, _leader, _item = setup(client)
    sign_in(client, "team_leader1")
    page = client.get(f"/console/team/{agent}/profile")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
    bad = client.post(
        f"/console/team/{agent}/profile",
        data={"_csrf_token": token, "capacity_email": "many", "skills": "noise:1"},
    )
    assert bad.status_code == 400
    saved = client.post(
        f"/console/team/{agent}/profile",
        data={
            "_csrf_token": token,
            "capacity_email": "2",
            "capacity_voice": "1",
            "skills": "noise:1，pothole:3",
            "lang_zh_CN": "yes",
            "lang_en": "yes",
            "desk_phone": "sip:1001@10.0.0.21:5060",
        },
    )
    assert saved.status_code == 200
    for wrong in (
        "10",  # too short for an extension
        "http://10.0.0.21/",
        "sip:1001@host\r\nVia: x",
        "sip:1001@ho st",
        "sip:" + "a" * 200 + "@h",
    ):
        refused = client.post(
            f"/console/team/{agent}/profile",
            data={"_csrf_token": token, "capacity_voice": "1", "desk_phone": wrong},
        )
        assert refused.status_code == 422, wrong
        form = BeautifulSoup(refused.text, "html.parser")
        assert "SIP address" in form.find(id="desk_phone-error").get_text(), wrong
        assert form.find(id="desk_phone")["value"] == wrong  # given back as typed

    async def profile() -> AgentPresence | None:
        async with client.app.state.ctx.db.session() as s:
            return await s.get(AgentPresence, agent)

    presence = client.blocking_portal.call(profile)
    assert presence is not None
    assert presence.capacity == {"email": 2, "voice": 1}
    assert presence.skills == {"noise": 1, "pothole": 3}
    assert presence.languages == ["zh_CN", "en"]
    assert presence.desk_phone == "sip:1001@10.0.0.21:5060"
    page = client.get(f"/console/team/{agent}/profile")
    assert 'value="sip:1001@10.0.0.21:5060"' in page.text
    client.cookies.clear()
    sign_in(client, "agent1")
    assert client.get(f"/console/team/{agent}/profile").status_code == 403


def test_a_desk_phone_extension_needs_its_own_number_and_a_password_kept_as_its_digest(
    client: TestClient[Any],
) -> None:
    """An extension (the phone registers to the hotline) is saved with a password of 10
    characters or more, kept only as the SIP digest's HA1; left empty, the password set is
    kept; another agent cannot take the extension; a SIP address drops the password."""
    from hotline.core.axd.desk_phones import ha1
    from hotline.core.storage.models.axd import AgentPresence

    agent, leader, _item = setup(client)
    sign_in(client, "team_leader1")
    page = client.get(f"/console/team/{agent}/profile")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]

    def save(who: int, phone: str, password: str = "") -> Any:
        data = {"_csrf_token": token, "capacity_voice": "1", "desk_phone": phone}
        return client.post(f"/console/team/{who}/profile", data={**data, "desk_password": password})

    def error(answer: Any) -> str:
        assert answer.status_code == 422
        return BeautifulSoup(answer.text, "html.parser").find(id="desk_phone-error").get_text()

    assert "Set a password" in error(save(agent, "8012"))
    assert "10 characters" in error(save(agent, "8012", "short"))
    assert save(agent, "8012", "a-desk-phone-pass").status_code == 200

    async def kept(who: int) -> tuple[str | None, str | None]:
        async with client.app.state.ctx.db.session() as s:
            presence = await s.get(AgentPresence, who)
            assert presence is not None
            return presence.desk_phone, presence.desk_ha1

    digest = ha1("8012", "a-desk-phone-pass")
    assert client.blocking_portal.call(kept, agent) == ("8012", digest)
    page = client.get(f"/console/team/{agent}/profile").text
    assert "a-desk-phone-pass" not in page and digest not in page
    assert "A password is set" in page
    assert save(agent, "8012").status_code == 200  # the password kept
    assert client.blocking_portal.call(kept, agent) == ("8012", digest)
    assert "Another agent" in error(save(leader, "8012", "another-long-pass"))
    assert save(agent, "sip:8012@10.0.0.21").status_code == 200
    assert client.blocking_portal.call(kept, agent) == ("sip:8012@10.0.0.21", None)


def test_an_agent_set_away_for_missed_offers_is_told_and_the_leader_sees_why(
    client: TestClient[Any],
) -> None:
    from hotline.core.axd.state import expire_offers
    from hotline.core.storage.models.base import utcnow

    ctx = client.app.state.ctx
    ctx.settings.axd_missed_before_away = 1
    _agent, _leader, item = setup(client)

    async def run_out() -> list[int]:
        async with ctx.db.transaction() as s:
            await s.execute(
                QueueItem.__table__.update()
                .where(QueueItem.id == item)
                .values(offer_expires_at=utcnow().replace(year=2000))
            )
        return await expire_offers(ctx)

    assert client.blocking_portal.call(run_out) == [item]
    sign_in(client, "agent1")
    page = BeautifulSoup(client.get("/console/queue").text, "html.parser")
    assert page.find(id="my-state").get_text(strip=True) == "Away"
    assert page.find(id="my-reason").get_text(strip=True) == "(Missed offers)"
    client.cookies.clear()
    sign_in(client, "team_leader1")
    board = BeautifulSoup(
        client.get("/console/team", headers={"Accept-Language": "zh-CN"}).text, "html.parser"
    )
    row = board.find("tr", attrs={"data-agent": "agent1"})
    assert "(未接分配)" in row.find_all("td")[1].get_text(strip=True)


def test_the_board_lists_calls_waiting_and_with_agents_numbers_masked(
    client: TestClient[Any],
) -> None:
    """The team leader's live list of calls: each waiting call and each call with an agent,
    how long, which queue, the caller's number masked (the role may not call citizens), the
    agent and whether the call went to their desk phone; the list refreshes itself."""
    from hotline.core.axd.state import accept, set_profile

    ctx = client.app.state.ctx
    agent, _leader, _item = setup(client)

    async def calls() -> tuple[int, int]:
        made = []
        for n, number in enumerate(("+8613912345678", "+8613955556666")):
            result = await receive(
                ctx,
                submission(
                    channel="phone",
                    external_id=f"queue:call-{n}",
                    media="voice",
                    skills=["general"],
                    contacts=[{"kind": "phone", "value": number}],
                ),
            )
            async with ctx.db.session() as s:
                made.append(
                    await s.scalar(select(QueueItem.id).where(QueueItem.case_id == result.case_id))
                )
        await set_profile(
            ctx,
            agent,
            capacity={"voice": 1, "web_form": 2},
            skills={},
            languages=[],
            desk_phone="sip:1001@10.0.0.21",
        )
        assert await accept(ctx, made[0], agent)
        return made[0], made[1]

    talking, waiting = client.blocking_portal.call(calls)
    sign_in(client, "team_leader1")
    page = BeautifulSoup(client.get("/console/team").text, "html.parser")
    assert page.find(id="team-live").has_attr("data-live")  # refreshed when the queue changes
    rows = {int(tr["data-item"]): tr for tr in page.select("#calls tbody tr")}
    assert list(rows) == [talking, waiting]  # longest first
    cells = [td.get_text(" ", strip=True) for td in rows[talking].find_all("td")]
    assert cells[0] == "With an agent" and cells[2] == "general"
    assert cells[3] == "+86139****5678"  # masked
    assert cells[4] == "agent one (desk phone)"
    waiting_cells = [td.get_text(" ", strip=True) for td in rows[waiting].find_all("td")]
    assert (waiting_cells[0], waiting_cells[3], waiting_cells[4]) == (
        "Waiting for an agent",
        "+86139****6666",
        "—",
    )
    assert "13912345678" not in page.get_text()
