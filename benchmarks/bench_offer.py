"""AXD offer latency: a queue item created → the offer event on the agent's open stream.

A real ``hotline serve`` (SQLite, jobs in-process, live events in memory) on a data directory
holding ``--agents`` agents signed in and available (default 200) and ``--backlog`` contacts
waiting (default 10,000; they are in English and no agent speaks it, so they stay waiting and
the queue is as long as the aim says, while every sweep still walks it). One agent, the
longest idle, has the console's event stream (``GET /console/stream``) open over HTTP.

Each round a citizen submits a case on the portal (``POST /services/road``); the intake makes
its queue item, the offer job offers it to the longest idle agent, and the event arrives on the
stream. The latency is the time from the item's ``waiting_since`` (written by intake, same
machine clock) to the event's arrival; the agent then declines, so they stay free.

The raw baseline, in the same run: a publish → subscribe round trip through a bare Litestar
channels plugin on the memory backend in this process (what carries the app's events to the
stream, without the queue, the database or HTTP).

Prints ``name value unit`` lines. Aim: ``offer_p99`` under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from bench_portal import ROOT, Server, hotline_bin, percentile, server_env

AIM_P99_MS = 100.0
PASSWORD = "bench-agent-password"


def load(data_dir: Path, agents: int, backlog: int) -> None:
    """Migrate; add a service, the agents (available, longest idle first) and the backlog."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import create_engine

    from hotline.core.people.accounts import hash_password
    from hotline.core.storage.models.axd import AgentPresence, QueueItem
    from hotline.core.storage.models.cases import Case
    from hotline.core.storage.models.people import User
    from hotline.core.storage.models.reference import ServiceCategory

    env = server_env(data_dir)
    subprocess.run([hotline_bin(), "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    engine = create_engine(f"sqlite:///{data_dir / 'hotline.db'}")
    now = datetime.now(UTC)
    secret = hash_password(PASSWORD)
    with engine.begin() as conn:
        conn.execute(
            ServiceCategory.__table__.insert(),
            [{"code": "road", "name_zh": "道路破损", "name_en": "Road damage"}],
        )
        conn.execute(
            User.__table__.insert(),
            [
                {
                    "username": f"agent{i:03d}",
                    "display_name": f"Agent {i}",
                    "password_hash": secret,
                    "role": "agent",
                }
                for i in range(agents)
            ],
        )
        ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM users ORDER BY username")]
        conn.execute(
            AgentPresence.__table__.insert(),
            [
                {
                    "user_id": user_id,
                    "state": "available",
                    "since": now - timedelta(minutes=agents - i),
                    "capacity": {"web_form": 5, "email": 5, "chat": 3, "voice": 1},
                    "skills": {},
                    "languages": ["zh_CN"],
                }
                for i, user_id in enumerate(ids)
            ],
        )
        if not backlog:
            return
        conn.execute(
            Case.__table__.insert(),
            [
                {
                    "tracking_number": f"9{i:012d}",
                    "kind": "complaint",
                    "language": "en",
                    "first_channel": "email",
                    "description": "backlog",
                    "created_at": now - timedelta(seconds=backlog - i),
                    "updated_at": now,
                }
                for i in range(backlog)
            ],
        )
        case_ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM cases ORDER BY id")]
        conn.execute(
            QueueItem.__table__.insert(),
            [
                {
                    "case_id": case_id,
                    "media": "email",
                    "language": "en",
                    "skills": [],
                    "waiting_since": now - timedelta(seconds=backlog - i),
                }
                for i, case_id in enumerate(case_ids)
            ],
        )
    engine.dispose()


async def raw_round_trips(n: int) -> list[float]:
    """Publish → subscribe through a bare channels plugin on the memory backend."""
    from litestar.channels import ChannelsPlugin
    from litestar.channels.backends.memory import MemoryChannelsBackend

    plugin = ChannelsPlugin(backend=MemoryChannelsBackend(), channels=["queue"])
    await plugin._on_startup()
    timings = []
    try:
        async with plugin.start_subscription(["queue"]) as subscriber:
            events = subscriber.iter_events()
            for i in range(n):
                start = time.perf_counter()
                plugin.publish({"type": "offer", "i": i}, ["queue"])
                await anext(events)
                timings.append((time.perf_counter() - start) * 1000)
    finally:
        await plugin._on_shutdown()
    return timings


def csrf(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found[1]


async def measure(url: str, db: Path, n: int, warmup: int) -> list[float]:
    """Submit ``warmup + n`` cases; for each, ms from the item's creation to the offer event."""
    agent = httpx.AsyncClient(base_url=url, timeout=30)
    citizen = httpx.AsyncClient(base_url=url, timeout=30, follow_redirects=True)
    login = await agent.get("/console/login")
    signed = await agent.post(
        "/console/login",
        data={"_csrf_token": csrf(login.text), "username": "agent000", "password": PASSWORD},
    )
    assert signed.status_code in (200, 303), f"sign-in failed: {signed.status_code}"
    token = csrf((await agent.get("/console/queue")).text)
    form = await citizen.get("/services/road")
    citizen_token = csrf(form.text)
    offers: asyncio.Queue[tuple[float, dict[str, object]]] = asyncio.Queue()
    opened = asyncio.Event()

    async def listen() -> None:
        """The event stream on a plain socket (closed at once when done, unlike a client's)."""
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        cookie = "; ".join(f"{k}={v}" for k, v in agent.cookies.items())
        writer.write(
            f"GET /console/stream HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        kind = None
        try:
            while line := (await reader.readline()).decode():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    if kind == "hello":
                        opened.set()
                    elif kind == "offer":
                        offers.put_nowait((time.time(), json.loads(line.split(":", 1)[1])))
        finally:
            writer.close()

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(opened.wait(), 30)
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    timings = []
    try:
        for i in range(warmup + n):
            receipt = await citizen.post(
                "/services/road",
                data={
                    "_csrf_token": citizen_token,
                    "description": f"路面塌陷第{i}处，请尽快修复。",
                    "phone": f"1390000{i:04d}",
                    "consent": "yes",
                },
            )
            found = re.search(r'id="tracking-number">([\d ]+)<', receipt.text)
            assert found, f"no receipt: {receipt.status_code}"
            number = found[1].replace(" ", "")
            while True:
                arrived, offer = await asyncio.wait_for(offers.get(), 30)
                if offer.get("case") == number:
                    break
            (since,) = reader.execute(
                "SELECT waiting_since FROM queue_items WHERE id = ?", (offer["item_id"],)
            ).fetchone()
            created = datetime.fromisoformat(since).replace(tzinfo=UTC).timestamp()
            if i >= warmup:
                timings.append((arrived - created) * 1000)
            if arrived - created > 1:
                (declined,) = reader.execute(
                    "SELECT declined_by FROM queue_items WHERE id = ?", (offer["item_id"],)
                ).fetchone()
                print(
                    f"# slow offer {arrived - created:.1f} s; first offered to {declined}",
                    flush=True,
                )
            await agent.post(
                f"/console/queue/{offer['item_id']}/decline", data={"_csrf_token": token}
            )
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        reader.close()
        await citizen.aclose()
        await agent.aclose()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--offers", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true", help="(SQLite only here)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-offer-") as tmp:
        data = Path(tmp) / "data"
        start = time.perf_counter()
        load(data, args.agents, args.backlog)
        print(
            f"# {args.agents} agents available, {args.backlog} contacts waiting;"
            f" loaded in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        server = Server("app", [hotline_bin(), "serve"], server_env(data), Path(tmp) / "app.log")
        try:
            server.wait_ready()
            app = sorted(
                asyncio.run(
                    measure(
                        f"http://127.0.0.1:{server.port}",
                        data / "hotline.db",
                        args.offers,
                        args.warmup,
                    )
                )
            )
        finally:
            server.stop()
            problems = [
                line
                for line in (Path(tmp) / "app.log").read_text(errors="replace").splitlines()
                if '"level": "WARNING"' in line or '"level": "ERROR"' in line
            ]
            for line in problems[:10]:
                print(f"# server: {line[:300]}", flush=True)
    raw = sorted(asyncio.run(raw_round_trips(args.offers)))
    p50, p99 = percentile(app, 0.5), percentile(app, 0.99)
    raw50, raw99 = percentile(raw, 0.5), percentile(raw, 0.99)
    print(f"offer_p50 {p50:.2f} ms")
    print(f"offer_p99 {p99:.2f} ms")
    print(f"offer_raw_pubsub_p50 {raw50:.3f} ms")
    print(f"offer_raw_pubsub_p99 {raw99:.3f} ms")
    print(f"offer_p99_ratio {raw99 / p99:.4f}  (raw / app; 1.0 = as fast as a bare publish)")
    print(f"# aim: offer_p99 under {AIM_P99_MS:.0f} ms: {'met' if p99 < AIM_P99_MS else 'not met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
