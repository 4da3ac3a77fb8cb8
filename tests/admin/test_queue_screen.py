"""The agent's queue screen: state, live offers, accept, decline, pick; only roles that work
the queue get in."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Any

import httpx
from bs4 import BeautifulSoup
from litestar.testing import TestClient

from hotline.core.intake.receive import receive
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission
from tests.processes import ROOT, Served, add_user, env_for, hotline_bin


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_only_queue_roles_see_the_queue(client: TestClient[Any]) -> None:
    sign_in(client, "department_officer1")
    assert client.get("/console/queue").status_code == 403
    assert client.get("/console/stream").status_code == 403


def test_an_agent_becomes_available_gets_an_offer_and_accepts(client: TestClient[Any]) -> None:
    sign_in(client, "agent1")
    screen = client.get("/console/queue")
    assert "Not in the queue" in screen.text
    client.post("/console/state", data={"_csrf_token": csrf_of(screen.text), "state": "available"})
    ctx = client.app.state.ctx

    async def arrive() -> str:
        await seed_city(ctx)
        result = await receive(ctx, submission(channel="web"))
        from hotline.plugins.distribution import offer_waiting

        await offer_waiting(ctx, result.case_id)
        return result.tracking_number

    number = client.blocking_portal.call(arrive)
    screen = client.get("/console/queue")
    offers = BeautifulSoup(screen.text, "html.parser").find(id="offers")
    assert "Available" in screen.text and offers is not None
    spaced = " ".join(number[i : i + 4] for i in range(0, 13, 4))
    assert spaced in offers.get_text()
    accept = re.search(r'action="(/console/queue/\d+/accept)"', screen.text)
    assert accept
    done = client.post(accept.group(1), data={"_csrf_token": csrf_of(screen.text)})
    assert done.status_code == 200
    mine = BeautifulSoup(done.text, "html.parser").find(id="mine")
    assert spaced in mine.get_text() and mine.find("a", href=f"/console/cases/{number}")


def test_picking_what_someone_else_took_says_so(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx

    async def waiting() -> None:
        await seed_city(ctx)
        await receive(ctx, submission(channel="email"))

    client.blocking_portal.call(waiting)
    sign_in(client, "agent1")
    screen = client.get("/console/queue")
    pick = re.search(r'action="(/console/queue/(\d+)/pick)"', screen.text)
    assert pick

    # another agent takes it first
    from hotline.core.axd.state import accept as take

    client.blocking_portal.call(take, ctx, int(pick.group(2)), 2)
    late = client.post(pick.group(1), data={"_csrf_token": csrf_of(screen.text)})
    assert late.status_code == 409 and "Someone else took this contact first." in late.text


def test_offers_are_pushed_live_to_the_agents_screen(tmp_path: Path) -> None:
    """A real server: the agent's open event stream receives the offer for a new web case."""
    data = tmp_path / "data"
    import subprocess

    subprocess.run(
        [hotline_bin(), "demo-data", "--days", "1", "--per-day", "1"],
        env=env_for(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    password = add_user(data, "ann", "agent")
    # the demo's contacts wait too: the administrator lets an agent hold several offers here,
    # so that the citizen's is offered while the demo's are still open
    server = Served(data, HOTLINE_AXD_OFFERS_PER_AGENT="20")
    try:
        agent = httpx.Client(base_url=server.url, timeout=10)
        login = agent.get("/console/login")
        agent.post(
            "/console/login",
            data={"_csrf_token": csrf_of(login.text), "username": "ann", "password": password},
        )
        screen = agent.get("/console/queue")
        agent.post(
            "/console/state", data={"_csrf_token": csrf_of(screen.text), "state": "available"}
        )
        events: list[tuple[str, dict[str, Any]]] = []
        written: list[str] = []

        def citizen_writes() -> None:
            web = httpx.Client(base_url=server.url, timeout=10, follow_redirects=True)
            form = web.get("/services/road")
            receipt = web.post(
                "/services/road",
                data={
                    "_csrf_token": csrf_of(form.text),
                    "description": "井盖丢了",
                    "consent": "yes",
                    "phone": "13700137000",
                },
            )
            found = re.search(r'id="tracking-number">([\d ]+)<', receipt.text)
            written.append(found[1].replace(" ", "") if found else "")

        writer = threading.Thread(target=citizen_writes, daemon=True)
        with sqlite3.connect(data / "hotline.db") as db:
            demo = {number for (number,) in db.execute("SELECT tracking_number FROM cases")}
        with agent.stream("GET", "/console/stream") as stream:
            event = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    events.append((event, json.loads(line.split(":", 1)[1])))
                    if event == "hello":
                        writer.start()
                    # the demo's waiting contacts are offered too; wait for the citizen's
                    if event == "offer" and events[-1][1]["case"] not in demo:
                        break
        offer = events[-1][1]
        writer.join(timeout=10)
        assert written and offer["case"] == written[0]
        assert (
            offer["media"] == "web_form" and offer["agent_id"] == dict(events)["hello"]["agent_id"]
        )
    finally:
        server.stop()


def test_console_posts_are_limited_per_user_not_per_address(client: TestClient[Any]) -> None:
    """A call centre's agents share one address: one agent's busy minute does not stop another."""
    from tests.admin.conftest import sign_in

    sign_in(client, "agent1")
    token = csrf_of(client.get("/console/queue").text)
    codes = [
        client.post("/console/state", data={"_csrf_token": token, "state": "available"}).status_code
        for _ in range(121)
    ]
    assert codes[:120] == [200] * 120 and codes[120] == 429
    client.cookies.clear()
    sign_in(client, "team_leader1")  # same address
    token = csrf_of(client.get("/console/queue").text)
    assert (
        client.post("/console/state", data={"_csrf_token": token, "state": "available"}).status_code
        == 200
    )
