"""Live calls: how soon a caller who asks for an agent is offered, and how soon the agent who
takes the call has the caller on their desk phone.

Real parts on loopback: a caller on baresip dials the line (the built-in baresip engine, the
IVR, the kernel's desk on SQLite), presses 1 for an agent; an agent is available with a desk
phone (a second baresip that answers at once); the agent takes each offer the moment it comes.

* ``call_offer_p50_ms`` / ``_p99_ms``: from the caller's key reaching the IVR to the agent's
  offer event (the call's case and queue item written, the agent chosen and offered).
* ``call_answer_p50_ms`` / ``_p99_ms``: from the agent's accept to the desk phone's answer of
  the caller's call (the line notices the accept, transfers the call, the caller's phone calls
  the desk phone, which answers at once); audio flows from then on.
* The raw baseline (``call_offer_raw_p50_ms``): the plainest code writing the offer's own rows,
  one queue item inserted and marked offered in one sqlite3 transaction; ``call_offer_ratio`` =
  raw/app at p50.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.common import ratio  # noqa: E402
from hotline.channels.phone import open_line  # noqa: E402
from hotline.channels.phone.baresip import BaresipEngine  # noqa: E402
from hotline.channels.phone.baresip_process import baresip_available  # noqa: E402
from hotline.channels.phone.engine import CallEvent, Digit  # noqa: E402
from hotline.core.axd.state import accept, finish, set_state  # noqa: E402
from hotline.core.foundation.settings import Settings  # noqa: E402
from hotline.core.shell.context import Kernel, open_context  # noqa: E402
from hotline.core.storage import migrate  # noqa: E402
from hotline.core.storage.enums import AgentState  # noqa: E402
from tests.channels.phone.test_line_put_through import an_agent  # noqa: E402
from tests.channels.phone.test_line_queue import MENU  # noqa: E402 (the same queue menu)
from tests.sipcallers import BaresipCaller, DeskPhone, free_udp_port, sipp_available  # noqa: E402


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def measure(work: Path, calls: int) -> tuple[list[float], list[float]]:
    data = work / "data"
    data.mkdir(parents=True)
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite+aiosqlite:///{data / 'hotline.db'}",
        jobs_in_process=False,
        secret_key="bench-calls-secret-0123456789abcdef",
        axd_wrap_up_seconds=0,
    )
    await asyncio.to_thread(migrate.upgrade, settings.db_url)
    (data / "phone-menu.toml").write_text(MENU, encoding="utf-8")
    loop = asyncio.get_running_loop()
    digits: list[float] = []
    offers: list[tuple[float, int]] = []
    offered = asyncio.Event()
    async with open_context(settings, Kernel(settings)) as ctx:
        publish = ctx.events.publish

        def watched(event: dict[str, Any], channels: list[str]) -> None:
            if event.get("type") == "offer":
                offers.append((loop.time(), int(event["item_id"])))
                offered.set()
            publish(event, channels)

        ctx.events.publish = watched  # type: ignore[method-assign]
        port = free_udp_port()
        engine = BaresipEngine("127.0.0.1", port, rtp_ports=(32000, 32999), work_dir=data / "phone")
        ivr = await open_line(ctx, engine)
        on_event = engine._on_event
        assert on_event is not None

        async def timed(event: CallEvent) -> None:
            if isinstance(event, Digit):
                digits.append(loop.time())
            await on_event(event)

        engine._on_event = timed
        offer_ms, answer_ms = [], []
        try:
            async with DeskPhone(work / "desk") as desk:
                desk.says(np.zeros(2 * 8000, np.float32))  # the agent hangs up after 2 s
                agent = await an_agent(ctx, desk.address)
                for n in range(calls):
                    offered.clear()
                    caller = BaresipCaller(work / f"caller-{n}", f"+861391234{n:04d}")
                    voice = np.zeros(30 * 8000, np.float32)
                    calling = asyncio.ensure_future(
                        caller.call(f"127.0.0.1:{port}", voice, [(1.0, "1")], within=60, calls=2)
                    )
                    await asyncio.wait_for(offered.wait(), 30)
                    at, item = offers[-1]
                    offer_ms.append((at - digits[-1]) * 1000)
                    answers = len(desk.answered)
                    accepted = loop.time()
                    assert await accept(ctx, item, agent)
                    answered = await asyncio.wait_for(desk.answer_after(answers), 30)
                    answer_ms.append((answered - accepted) * 1000)
                    await calling
                    await finish(ctx, item, agent)
                    await set_state(ctx, agent, AgentState.AVAILABLE)
        finally:
            await engine.stop()
        del ivr
    return offer_ms, answer_ms


def offer_raw(work: Path, rounds: int) -> list[float]:
    """One queue item written and marked offered in one transaction, as plainly as it goes."""
    db = sqlite3.connect(work / "raw.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(
        "CREATE TABLE queue_items (id INTEGER PRIMARY KEY, media TEXT, state TEXT, agent_id INT,"
        " waiting_since TEXT, offered_at TEXT)"
    )
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        with db:
            cur = db.execute(
                "INSERT INTO queue_items (media, state, waiting_since) VALUES"
                " ('voice', 'waiting', datetime('now'))"
            )
            db.execute(
                "UPDATE queue_items SET state = 'offered', agent_id = 1, offered_at ="
                " datetime('now') WHERE id = ? AND state = 'waiting'",
                (cur.lastrowid,),
            )
        times.append((time.perf_counter() - start) * 1000)
    db.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--skip-postgres", action="store_true", help="accepted; SQLite only")
    args = parser.parse_args()
    if not (baresip_available() and sipp_available()):
        print("# calls skipped: baresip and SIPp are needed (deploy/test.sh installs them)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        offer_ms, answer_ms = asyncio.run(measure(Path(tmp), args.calls))
        raw = offer_raw(Path(tmp), max(args.calls, 20))
    for name, values in (("call_offer", offer_ms), ("call_answer", answer_ms)):
        print(f"{name}_p50_ms {percentile(values, 50):.0f} ms")
        print(f"{name}_p99_ms {percentile(values, 99):.0f} ms")
    print(f"call_offer_raw_p50_ms {percentile(raw, 50):.1f} ms")
    print(f"call_offer_ratio {ratio(percentile(raw, 50) / percentile(offer_ms, 50))}")


if __name__ == "__main__":
    main()
