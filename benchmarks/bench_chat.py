"""Web chat: a line's round trip citizen -> agent with many chats open.

``--chats`` conversations (default 100) are begun on the portal of a served hotline (uvicorn,
SQLite), all taken by agents, and each agent holds its chat's event stream open. Then, for
``--rounds`` rounds, every chat's citizen sends one line at once (POST /chat/say) and the time
until the agent's stream shows it is taken: ``chat_roundtrip_p50/p99`` in ms.

The raw baseline in the same run: a bare Litestar app on the same channels backend (memory),
a POST that publishes a line and a server-sent event stream per chat that carries it, with no
session, CSRF, database or transcript: ``chat_roundtrip_raw_p50/p99`` and the ratios app/raw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import quantiles
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from litestar import Litestar, Request, get, post  # noqa: E402
from litestar.channels import ChannelsPlugin  # noqa: E402
from litestar.channels.backends.memory import MemoryChannelsBackend  # noqa: E402
from litestar.response import ServerSentEvent, ServerSentEventMessage  # noqa: E402

from benchmarks.common import ratio  # noqa: E402
from hotline.core.axd import state as axd_state  # noqa: E402
from hotline.core.foundation.settings import Settings  # noqa: E402
from hotline.core.people.accounts import hash_password  # noqa: E402
from hotline.core.storage import migrate  # noqa: E402
from hotline.core.storage.enums import AgentState, Role  # noqa: E402
from hotline.core.storage.models.axd import QueueItem  # noqa: E402
from hotline.core.storage.models.people import User  # noqa: E402
from tests.liveapp import LiveApp  # noqa: E402
from tests.processes import free_port  # noqa: E402

PASSWORD = "bench password 0123456789"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def pct(samples: list[float]) -> tuple[float, float]:
    cuts = quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


class Listener:
    """One stream's lines, by text, with the time each arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.events: dict[str, asyncio.Event] = {}

    async def run(self, client: httpx.AsyncClient, url: str, ready: asyncio.Event) -> None:
        async with client.stream("GET", url, timeout=None) as response:
            ready.set()
            async for raw in response.aiter_lines():
                if raw.startswith("data:") and raw[5:].strip().startswith("{"):
                    text = json.loads(raw[5:])["text"]
                    self.arrived[text] = time.perf_counter()
                    self.events.setdefault(text, asyncio.Event()).set()

    async def wait(self, text: str) -> float:
        await asyncio.wait_for(self.events.setdefault(text, asyncio.Event()).wait(), 30)
        return self.arrived[text]


async def measure(
    say: list[Any], listeners: list[Listener], rounds: int, burst: bool
) -> list[float]:
    """Each round, every chat's citizen sends a line: all at once (``burst``), or one after
    the other (steady: one line in flight while every chat stays open)."""
    samples = []
    for r in range(rounds):

        async def one(i: int, r: int = r) -> float:
            text = f"round {r} chat {i} 路灯"
            start = time.perf_counter()
            await say[i](text)
            return await listeners[i].wait(text) - start

        if burst:
            samples += await asyncio.gather(*(one(i) for i in range(len(say))))
        else:
            samples += [await one(i) for i in range(len(say))]
    return samples


async def timed(
    say: list[Any], listeners: list[Listener], tasks: list[Any], rounds: int, warmup: int
) -> dict[str, list[float]]:
    """Warm up, measure steady and burst, then close the streams."""
    await measure(say, listeners, warmup, burst=False)
    samples = {
        "steady": await measure(say, listeners, rounds, burst=False),
        "burst": await measure(say, listeners, rounds, burst=True),
    }
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return samples


# --- the hotline ---------------------------------------------------------------------------


async def hotline_round_trips(
    app: LiveApp, chats: int, rounds: int, warmup: int
) -> dict[str, list[float]]:
    limits = httpx.Limits(max_connections=chats * 3)
    agent = httpx.AsyncClient(base_url=app.url, limits=limits, timeout=60)
    page = await agent.get("/console/login")
    await agent.post(
        "/console/login",
        data={"_csrf_token": CSRF.search(page.text)[1], "username": "agent1", "password": PASSWORD},
    )
    citizens = []
    for _ in range(chats):
        citizen = httpx.AsyncClient(base_url=app.url, timeout=60, follow_redirects=True)
        form = await citizen.get("/chat/")
        token = CSRF.search(form.text)[1]
        started = await citizen.post("/chat/start", data={"_csrf_token": token, "text": "开始"})
        assert started.status_code == 200, started.status_code
        citizens.append((citizen, CSRF.search(started.text)[1]))

    async def take_all(ctx: Any) -> list[str]:
        async with ctx.db.session() as s:
            from sqlalchemy import select

            from hotline.core.storage.models.cases import Case

            items = list(
                await s.execute(
                    select(QueueItem.id, Case.tracking_number)
                    .join(Case, Case.id == QueueItem.case_id)
                    .order_by(QueueItem.id)
                )
            )
            agent_id = await s.scalar(select(User.id).where(User.username == "agent1"))
        for item_id, _ in items:
            await axd_state.offer(ctx, item_id)
            await axd_state.accept(ctx, item_id, agent_id)
        return [number for _, number in items]

    numbers = await asyncio.to_thread(app.call, take_all, 120)
    listeners = [Listener() for _ in numbers]
    tasks = []
    for number, listener in zip(numbers, listeners, strict=True):
        ready = asyncio.Event()
        tasks.append(
            asyncio.create_task(listener.run(agent, f"/console/chat/{number}/stream", ready))
        )
        await ready.wait()

    def sayer(client: httpx.AsyncClient, token: str) -> Any:
        async def say(text: str) -> None:
            answer = await client.post(
                "/chat/say",
                data={"_csrf_token": token, "text": text},
                headers={"Accept": "application/json"},
            )
            assert answer.status_code == 201, answer.status_code

        return say

    say = [sayer(c, t) for c, t in citizens]
    return await timed(say, listeners, tasks, rounds, warmup)


def staff(app: LiveApp, chats: int) -> None:
    async def add(ctx: Any) -> None:
        async with ctx.db.transaction() as s:
            user = User(
                username="agent1",
                display_name="Agent",
                role=Role.AGENT,
                password_hash=hash_password(PASSWORD),
            )
            s.add(user)
            await s.flush()
            user_id = user.id
        await axd_state.set_state(
            ctx, user_id, AgentState.AVAILABLE, capacity={"chat": chats}, languages=["zh_CN", "en"]
        )

    app.call(add)


# --- the raw baseline ----------------------------------------------------------------------


def raw_app() -> Litestar:
    @post("/say/{chat:int}")
    async def say(request: Request[Any, Any, Any], chat: int) -> dict[str, str]:
        form = await request.form()
        line = {"text": str(form.get("text", ""))}
        request.app.plugins.get(ChannelsPlugin).publish(line, [f"chat_{chat}"])
        return line

    @get("/stream/{chat:int}")
    async def stream(request: Request[Any, Any, Any], chat: int) -> ServerSentEvent:
        channels = request.app.plugins.get(ChannelsPlugin)

        async def events() -> Any:
            yield ServerSentEventMessage(event="state", data="joined")
            async with channels.start_subscription([f"chat_{chat}"]) as sub:
                async for raw in sub.iter_events():
                    yield ServerSentEventMessage(event="line", data=raw.decode())

        return ServerSentEvent(events())

    plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    return Litestar([say, stream], plugins=[plugin])


async def raw_round_trips(url: str, chats: int, rounds: int, warmup: int) -> dict[str, list[float]]:
    client = httpx.AsyncClient(
        base_url=url, limits=httpx.Limits(max_connections=chats * 3), timeout=60
    )
    listeners = [Listener() for _ in range(chats)]
    tasks = []
    for i, listener in enumerate(listeners):
        ready = asyncio.Event()
        tasks.append(asyncio.create_task(listener.run(client, f"/stream/{i}", ready)))
        await ready.wait()
    await asyncio.sleep(0.2)

    def sayer(i: int) -> Any:
        async def say(text: str) -> None:
            answer = await client.post(f"/say/{i}", data={"text": text})
            assert answer.status_code == 201

        return say

    say = [sayer(i) for i in range(chats)]
    return await timed(say, listeners, tasks, rounds, warmup)


def serve_raw() -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            raw_app(), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def main() -> int:
    logging.disable(logging.INFO)  # the app's request lines would drown the figures
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--skip-postgres", action="store_true", help="(SQLite only anyway)")
    args = parser.parse_args()

    url, server, thread = serve_raw()
    raw = asyncio.run(raw_round_trips(url, args.chats, args.rounds, args.warmup))
    server.should_exit = True
    thread.join(10)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            secret_key="bench-secret-0123456789abcdef",
            log_level="WARNING",
            jobs_in_process=True,
            webchat_office_hours_only=False,
            webchat_posts_per_minute=100000,
            rate_limit_per_minute=1000000,
            form_posts_per_minute=100000,
        )
        migrate.upgrade(settings.db_url)
        app = LiveApp(settings)
        staff(app, args.chats)
        app_samples = asyncio.run(hotline_round_trips(app, args.chats, args.rounds, args.warmup))
        app.stop()

    print(f"chat_open {args.chats} chats")
    for mode, label in (("steady", "one line at a time"), ("burst", "every chat at once")):
        app50, app99 = pct(app_samples[mode])
        raw50, raw99 = pct(raw[mode])
        print(f"# {mode}: {label}, {len(app_samples[mode])} lines")
        print(f"chat_roundtrip_{mode}_p50 {app50:.1f} ms")
        print(f"chat_roundtrip_{mode}_p99 {app99:.1f} ms")
        print(f"chat_roundtrip_{mode}_raw_p50 {raw50:.1f} ms")
        print(f"chat_roundtrip_{mode}_raw_p99 {raw99:.1f} ms")
        print(f"chat_roundtrip_{mode}_p50_ratio {ratio(raw50 / app50)}")
        print(f"chat_roundtrip_{mode}_p99_ratio {ratio(raw99 / app99)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
