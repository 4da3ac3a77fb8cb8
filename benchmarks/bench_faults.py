"""Crash safety and the cost of it: acknowledgements through kill -9 rounds, and throughput.

**Kill rounds** (``tests/faultload.py``): a real ``hotline serve`` takes citizens' messages
(threads posting to ``tests.intakeprobe``, each retrying its own message with the same id until
answered) and is killed five times: at each crash point of ``hotline.core.foundation.crashpoints`` (after a
commit before its hand-over to the job store; a job claimed, not run; the SMTP server took the
acknowledgement, not yet marked sent; a job ran, not yet marked done) and once by ``kill -9`` at
a random moment. A clean server then settles, and the SMTP sink is counted against the
database: ``acks_lost`` (committed cases without an acknowledgement) and ``acks_doubled`` (cases
with two different acknowledgements) must be 0; ``acks_resent`` counts second copies with the
same Message-ID (the crash fell between the SMTP server taking it and our marking it sent),
which mail systems drop.

**Throughput**: ``--load`` messages from 8 citizens into a clean server, timed from the first
post to the last acknowledgement at the SMTP sink (``acked``, messages/s). The raw baseline in
the same run (``acked_raw``): a bare ASGI app in its own process that, per message, inserts one
row with the plain driver (sqlite3 / asyncpg), answers, and sends the acknowledgement with
aiosmtplib from a queue: the same work with no outbox, no retries and no crash safety.
``acked_ratio`` is app/raw.

    .venv/bin/python benchmarks/bench_faults.py [--per-round 40] [--load 300] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import ratio, scratch_postgres  # noqa: E402
from tests.faultload import CRASH_POINTS, Site, count, kill_rounds, running, settle  # noqa: E402
from tests.mailservers import SmtpSink  # noqa: E402
from tests.processes import free_port, wait_for  # noqa: E402

SENDERS = 4
# the throughput is measured with the default leases and relay, not the tests' short ones
PRODUCTION = {
    "HOTLINE_JOB_LEASE_SECONDS": "60",
    "HOTLINE_JOB_RELAY_SECONDS": "5",
    "HOTLINE_JOB_RECONCILE_SECONDS": "300",
    "HOTLINE_JOB_WORKERS": "2",
    "HOTLINE_LOG_LEVEL": "ERROR",
}


# --------------------------------------------------------------------------- raw baseline


def raw_server(port: int, database: str, smtp_port: int) -> None:
    """The baseline's server (run in its own process): one row, an answer, a mail."""
    import aiosmtplib
    import uvicorn

    state: dict[str, Any] = {}

    async def startup() -> None:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        state["queue"] = queue
        if database.startswith("postgresql"):
            import asyncpg

            pool = await asyncpg.create_pool(database, min_size=2, max_size=8)
            await pool.execute(
                "CREATE TABLE IF NOT EXISTS raw_cases (id bigserial PRIMARY KEY,"
                " external_id text UNIQUE, email text, text text)"
            )

            async def store(ext: str, email: str, text: str) -> int:
                found = await pool.fetchval(
                    "INSERT INTO raw_cases (external_id, email, text) VALUES ($1, $2, $3)"
                    " RETURNING id",
                    ext,
                    email,
                    text,
                )
                return int(found)

        else:
            import sqlite3
            import threading

            conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS raw_cases (id integer PRIMARY KEY,"
                " external_id text UNIQUE, email text, text text)"
            )
            lock = threading.Lock()

            def insert(ext: str, email: str, text: str) -> int:
                with lock:
                    cursor = conn.execute(
                        "INSERT INTO raw_cases (external_id, email, text) VALUES (?, ?, ?)",
                        (ext, email, text),
                    )
                    return int(cursor.lastrowid or 0)

            async def store(ext: str, email: str, text: str) -> int:
                return await asyncio.to_thread(insert, ext, email, text)

        state["store"] = store

        async def sender() -> None:
            while True:
                number, email = await queue.get()
                mail = EmailMessage()
                mail["From"], mail["To"] = "12345@raw.example.cn", email
                mail["Subject"] = f"Your case {number} was received"
                mail["Message-ID"] = f"<raw.{number}@raw.example.cn>"
                mail["X-Hotline-Case"] = number
                mail.set_content(f"Your tracking number is {number}.")
                await aiosmtplib.send(mail, hostname="127.0.0.1", port=smtp_port)

        state["senders"] = [asyncio.create_task(sender()) for _ in range(SENDERS)]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await startup()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/healthz":
            status, answer = 200, {}
        else:
            data = json.loads(body)
            email = data["contacts"][0]["value"]
            number = str(await state["store"](data["external_id"], email, data["text"]))
            state["queue"].put_nowait((number, email))
            status, answer = 201, {"tracking_number": number}
        payload = json.dumps(answer).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _acknowledged(sink: SmtpSink) -> int:
    return len({str(m["X-Hotline-Case"]) for m in list(sink.received)})


def _load(site: Site, sink: SmtpSink, load: int, prefix: str) -> float:
    """Messages per second, from the first post to the last acknowledgement at the sink."""
    with running(site, threads=8, prefix=prefix) as citizens:
        start = time.perf_counter()
        citizens.allow(load)
        if not wait_for(lambda: _acknowledged(sink) >= load, timeout=600, interval=0.02):
            raise TimeoutError(f"{_acknowledged(sink)} of {load} acknowledged")
        elapsed = time.perf_counter() - start
    return load / elapsed


def raw_rate(tmp: Path, database: str | None, load: int) -> float:
    sink = SmtpSink(free_port())
    sink.start()
    port = free_port()
    target = database or str(tmp / "raw.db")
    server = subprocess.Popen(
        [sys.executable, __file__, "--raw-server", str(port), target, str(sink.port)],
        cwd=ROOT,
    )
    site = Site(tmp / "raw", sink, port=port)
    try:
        import httpx

        ready = wait_for(lambda: _healthy(httpx, site.url), timeout=30)
        assert ready, "the raw server did not start"
        return _load(site, sink, load, "raw")
    finally:
        server.terminate()
        server.wait(10)
        sink.stop()


def _healthy(httpx: Any, url: str) -> bool:
    try:
        return bool(httpx.get(url + "/healthz", timeout=1).status_code == 200)
    except httpx.HTTPError:
        return False


def app_rate(tmp: Path, database_url: str, load: int) -> float:
    sink = SmtpSink(free_port())
    sink.start()
    site = Site(tmp / "app", sink, database_url=database_url)
    site.prepare()
    server = site.serve(**PRODUCTION)
    try:
        return _load(site, sink, load, "app")
    finally:
        server.stop()
        sink.stop()


# --------------------------------------------------------------------------- kill rounds


def kills(tmp: Path, database_url: str, per_round: int) -> dict[str, int]:
    sink = SmtpSink(free_port())
    sink.start()
    site = Site(tmp / "kills", sink, database_url=database_url)
    site.prepare()
    try:
        with running(site) as citizens:
            ended = kill_rounds(site, citizens, per_round, (*CRASH_POINTS, None))
            settle(site, citizens).stop()
        found = count(site, citizens)
    finally:
        sink.stop()
    return {
        "kill_rounds": sum(e in ("crashed", "killed") for e in ended),
        "cases": found.cases,
        "receipts": found.receipts,
        "acks_lost": len(found.acks_lost),
        "acks_doubled": len(found.acks_doubled),
        "acks_resent": found.acks_resent,
        "receipts_lost": len(found.receipts_without_case),
        "messages_doubled": len(found.messages_with_two_cases),
    }


def run(db: str, database_url: str, raw_database: str | None, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        found = kills(Path(tmp), database_url, args.per_round)
        print(f"# {db}: {found['cases']} cases, {found['receipts']} receipts", flush=True)
        print(f"kill_rounds_{db} {found['kill_rounds']} rounds")
        print(f"acks_lost_{db} {found['acks_lost']} cases")
        print(f"acks_doubled_{db} {found['acks_doubled']} cases")
        print(f"acks_resent_{db} {found['acks_resent']} copies (same Message-ID)")
        print(f"receipts_lost_{db} {found['receipts_lost']} receipts")
        print(f"messages_doubled_{db} {found['messages_doubled']} messages", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = app_rate(Path(tmp), database_url, args.load)
        raw = raw_rate(Path(tmp), raw_database, args.load)
    print(f"acked_{db} {app:.1f} msg/s ({args.load} messages, 8 citizens)")
    print(f"acked_{db}_raw {raw:.1f} msg/s")
    print(f"acked_{db}_ratio {ratio(app / raw)}", flush=True)


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--raw-server":
        raw_server(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-round", type=int, default=40, help="messages per kill round")
    parser.add_argument("--load", type=int, default=300, help="messages for the throughput")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    run("sqlite", "", None, args)
    if not args.skip_postgres:
        with scratch_postgres() as pg:
            if pg is not None:
                url, dsn = pg
                run("postgresql", url, dsn, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
