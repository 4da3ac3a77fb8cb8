"""Live web chat on the portal, against the app served on loopback: a citizen's chat enters the
AXD queue, is offered to an agent who accepts it, and lines go both ways live (server-sent
events); the transcript is on the case; the citizen comes back to the same conversation on the
same browser; with no agent the chat becomes a message case; bad lines store nothing."""

from __future__ import annotations

import json
import queue
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from hotline.channels.chat.webchat import conversation
from hotline.core.axd import state as axd_state
from hotline.core.cases.lookup import lookup_code
from hotline.core.cases.replies import LOOKUP_CODE_MASK
from hotline.core.people.accounts import hash_password
from hotline.core.storage.enums import AgentState, ContactKind, Media, Role
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint, Interaction
from hotline.core.storage.models.people import User
from tests.conftest import sqlite_app_settings
from tests.liveapp import LiveApp
from tests.processes import wait_for

PASSWORD = "correct horse battery staple"


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


class Stream:
    """A server-sent event stream read in a thread: (event, data) pairs in a queue."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(client, url), daemon=True)
        self.thread.start()
        assert self.ready.wait(10)

    def _read(self, client: httpx.Client, url: str) -> None:
        try:
            with client.stream("GET", url, timeout=None) as response:
                self.ready.set()
                event = ""
                for raw in response.iter_lines():
                    if raw.startswith("event:"):
                        event = raw[6:].strip()
                    elif raw.startswith("data:"):
                        self.events.put((event, raw[5:].strip()))
        except httpx.HTTPError:
            return  # the server stopped at the end of the test

    def next(self, kind: str, timeout: float = 15) -> str:
        while True:
            event, data = self.events.get(timeout=timeout)
            if event == kind:
                return data

    def line(self, text: str, timeout: float = 15) -> dict[str, Any]:
        while True:
            found = json.loads(self.next("line", timeout))
            if found["text"] == text:
                return found  # type: ignore[no-any-return]


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveApp]:
    settings = sqlite_app_settings(tmp_path, sqlite_template).model_copy(
        update={"jobs_in_process": True, "webchat_office_hours_only": False}
    )
    app = LiveApp(settings)

    async def staff(ctx: Any) -> None:
        async with ctx.db.transaction() as s:
            s.add(
                User(
                    username="agent1",
                    display_name="Agent One",
                    role=Role.AGENT,
                    password_hash=hash_password(PASSWORD),
                )
            )

    app.call(staff)
    yield app
    app.stop()


def rows(app: LiveApp, model: Any, *where: Any) -> list[Any]:
    async def read(ctx: Any) -> list[Any]:
        async with ctx.db.session() as s:
            return list(await s.scalars(select(model).where(*where).order_by(model.id)))

    return app.call(read)


def agent_client(app: LiveApp) -> httpx.Client:
    agent = httpx.Client(follow_redirects=True, base_url=app.url, headers={"Accept-Language": "en"})
    page = agent.get("/console/login")
    agent.post(
        "/console/login",
        data={"_csrf_token": csrf_of(page.text), "username": "agent1", "password": PASSWORD},
    )
    queue_page = agent.get("/console/queue")
    assert queue_page.status_code == 200
    agent.post(
        "/console/state", data={"_csrf_token": csrf_of(queue_page.text), "state": "available"}
    )
    return agent


def start_chat(app: LiveApp, text: str, **fields: str) -> tuple[httpx.Client, httpx.Response]:
    citizen = httpx.Client(
        follow_redirects=True, base_url=app.url, headers={"Accept-Language": "zh-CN"}
    )
    form = citizen.get("/chat/")
    assert form.status_code == 200
    started = citizen.post(
        "/chat/start", data={"_csrf_token": csrf_of(form.text), "text": text, **fields}
    )
    return citizen, started


def test_a_chat_is_offered_to_an_agent_and_lines_go_both_ways_live(live: LiveApp) -> None:
    agent = agent_client(live)
    citizen, started = start_chat(live, "你好，我想反映小区门口路灯不亮的问题", name="李四")
    assert started.status_code == 200 and "等待" in started.text  # waiting for an agent
    [case] = rows(live, Case)
    assert case.first_channel == "webchat"
    [item] = rows(live, QueueItem)
    assert item.media == Media.CHAT
    assert wait_for(lambda: rows(live, QueueItem)[0].state == "offered", timeout=15)
    queue_page = agent.get("/console/queue")
    accept = re.search(r'action="(/console/queue/\d+/accept)"', queue_page.text)
    assert accept, queue_page.text
    agent.post(accept.group(1), data={"_csrf_token": csrf_of(queue_page.text)})
    chat_page = agent.get(f"/console/chat/{case.tracking_number}")
    assert chat_page.status_code == 200 and "小区门口路灯不亮" in chat_page.text

    citizen_stream = Stream(citizen, "/chat/stream")
    agent_stream = Stream(agent, f"/console/chat/{case.tracking_number}/stream")
    assert citizen_stream.next("state") in ("joined", "waiting")
    token = csrf_of(citizen.get("/chat/").text)
    sent = citizen.post(
        "/chat/say",
        data={"_csrf_token": token, "text": "在幸福路12号"},
        headers={"Accept": "application/json"},
    )
    assert sent.status_code == 201
    assert agent_stream.line("在幸福路12号")["who"] == "citizen"
    reply = agent.post(
        f"/console/chat/{case.tracking_number}/say",
        data={"_csrf_token": csrf_of(chat_page.text), "text": "收到，已为您登记，我们会尽快处理。"},
        headers={"Accept": "application/json"},
    )
    assert reply.status_code == 201
    assert citizen_stream.line("收到，已为您登记，我们会尽快处理。")["who"] == "agent"

    # the transcript is the case's, and the same browser comes back to it
    texts = [i.text for i in rows(live, Interaction, Interaction.case_id == case.id)]
    assert "在幸福路12号" in texts and "收到，已为您登记，我们会尽快处理。" in texts
    again = httpx.Client(follow_redirects=True, base_url=live.url, cookies=citizen.cookies)
    back = again.get("/chat/")
    assert "在幸福路12号" in back.text and "收到，已为您登记" in back.text
    stranger = httpx.Client(follow_redirects=True, base_url=live.url).get("/chat/")
    assert "在幸福路12号" not in stranger.text and 'id="start"' in stranger.text

    ended = agent.post(
        f"/console/chat/{case.tracking_number}/end", data={"_csrf_token": csrf_of(chat_page.text)}
    )
    assert ended.status_code == 200  # the case page
    assert citizen_stream.next("state") == "ended"
    assert "chat_ended" in [e.action for e in rows(live, CaseEvent, CaseEvent.case_id == case.id)]
    late = citizen.post(
        "/chat/say", data={"_csrf_token": token, "text": "还在吗"}, follow_redirects=False
    )
    assert late.status_code == 303  # an ended chat takes no more lines
    assert "还在吗" not in [i.text for i in rows(live, Interaction)]


def test_the_acknowledgement_shows_the_lookup_code_to_its_citizen_only(live: LiveApp) -> None:
    agent = agent_client(live)
    citizen, started = start_chat(live, "你好，垃圾桶三天没有清运了")
    assert started.status_code == 200
    [case] = rows(live, Case)

    async def code_of(ctx: Any) -> str:
        return lookup_code(ctx.secret_key, case.tracking_number)

    code = live.call(code_of)
    # the citizen's own page, live and after a reload, shows the code...
    citizen_stream = Stream(citizen, "/chat/stream")
    assert code in citizen_stream.next("line") or code in citizen_stream.next("line")
    assert wait_for(lambda: code in citizen.get("/chat/").text, timeout=15)
    # ...which no stored text holds, and no agent sees
    out = rows(live, Interaction, Interaction.case_id == case.id, Interaction.direction == "out")
    assert out and all(code not in row.text for row in out)
    assert any(LOOKUP_CODE_MASK in row.text for row in out)
    assert wait_for(lambda: rows(live, QueueItem)[0].state == "offered", timeout=15)
    queue_page = agent.get("/console/queue")
    accept = re.search(r'action="(/console/queue/\d+/accept)"', queue_page.text)
    assert accept, queue_page.text
    agent.post(accept.group(1), data={"_csrf_token": csrf_of(queue_page.text)})
    chat_page = agent.get(f"/console/chat/{case.tracking_number}")
    assert chat_page.status_code == 200 and code not in chat_page.text
    agent_stream = Stream(agent, f"/console/chat/{case.tracking_number}/stream")
    hotline_line = json.loads(agent_stream.next("line"))
    while hotline_line["who"] != "hotline":
        hotline_line = json.loads(agent_stream.next("line"))
    assert code not in hotline_line["text"] and LOOKUP_CODE_MASK in hotline_line["text"]


def test_with_no_agent_the_chat_becomes_a_message_answered_later(live: LiveApp) -> None:
    citizen, started = start_chat(
        live, "Bins on Elm Street were not emptied this week.", contact="resident@example.org"
    )
    assert started.status_code == 200
    assert "没有话务员" in started.text or "No agent" in started.text
    [case] = rows(live, Case)
    [item] = rows(live, QueueItem)
    assert item.media == Media.WEB_FORM  # a message for the queue, not a live chat
    kinds = {(c.kind, c.value) for c in rows(live, ContactPoint)}
    assert (ContactKind.EMAIL, "resident@example.org") in kinds
    # the acknowledgement (tracking number and code) waits in the chat for the citizen
    assert wait_for(lambda: case.tracking_number[:4] in citizen.get("/chat/").text, timeout=15)


def test_bad_lines_and_forged_calls_store_nothing(live: LiveApp) -> None:
    bad = (("", 422), ("x" * 2001, 400), ("bad\x00\x01bytes", 400), ("c1\x85", 400))
    for text, status in bad:
        _, answer = start_chat(live, text)
        assert answer.status_code == status, text[:20]
    assert rows(live, Case) == []
    forged = httpx.Client(
        follow_redirects=True, base_url=live.url, cookies={"hotline_chat": "2612020000000.0000"}
    )
    page = forged.get("/chat/")
    assert 'id="start"' in page.text
    said = forged.post(
        "/chat/say", data={"_csrf_token": csrf_of(page.text), "text": "hi"}, follow_redirects=False
    )
    assert said.status_code == 303 and rows(live, Interaction) == []
    no_csrf = httpx.Client(follow_redirects=True, base_url=live.url).post(
        "/chat/start", data={"text": "hello"}
    )
    assert no_csrf.status_code == 403 and rows(live, Case) == []
    assert forged.get("/chat/stream").status_code == 404
    # an agent may not read or write a chat before the queue gave it to them
    agent = agent_client(live)
    start_chat(live, "a question")
    [case] = rows(live, Case)
    assert agent.get(f"/console/chat/{case.tracking_number}").status_code == 403


async def test_live_chat_is_open_in_office_hours_with_an_agent_on_shift(ctx: Any) -> None:
    tz = ZoneInfo(ctx.settings.timezone)
    tuesday = datetime(2026, 12, 1, 10, 0, tzinfo=tz)
    assert not await conversation.open_now(ctx, tuesday)  # nobody on shift
    async with ctx.db.transaction() as s:
        user = User(username="a", display_name="A", role=Role.AGENT, password_hash="x")
        s.add(user)
        await s.flush()
        user_id = user.id
    await axd_state.set_state(ctx, user_id, AgentState.AVAILABLE, capacity={"chat": 2})
    assert await conversation.open_now(ctx, tuesday)
    assert not await conversation.open_now(ctx, datetime(2026, 12, 5, 10, 0, tzinfo=tz))  # Sat
    assert not await conversation.open_now(ctx, datetime(2026, 12, 1, 20, 0, tzinfo=tz))
    async with ctx.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Case)) == 0


def test_an_agent_marking_the_chat_done_in_the_queue_ends_it_for_the_citizen(
    live: LiveApp,
) -> None:
    agent = agent_client(live)
    citizen, _ = start_chat(live, "请问办理居住证需要什么材料？")
    assert wait_for(lambda: rows(live, QueueItem)[0].state == "offered", timeout=15)
    queue_page = agent.get("/console/queue")
    accept = re.search(r'action="(/console/queue/\d+/accept)"', queue_page.text)
    assert accept
    mine = agent.post(accept.group(1), data={"_csrf_token": csrf_of(queue_page.text)})
    assert "/console/chat/" in mine.text  # the queue screen opens the chat
    stream = Stream(citizen, "/chat/stream")
    assert stream.next("state") == "joined"
    done = re.search(r'action="(/console/queue/\d+/done)"', mine.text)
    assert done, mine.text
    agent.post(done.group(1), data={"_csrf_token": csrf_of(mine.text)})
    assert stream.next("state") == "ended"
    assert "话务员已结束本次交谈" in citizen.get("/chat/").text
