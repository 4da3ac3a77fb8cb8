"""Open311 posting over HTTP with an API key: ``hotline serve`` against a bare ASGI app.

Migrates a temporary data directory, loads the demo city (``hotline demo-data``), issues an
API key (``hotline api-key add``) and starts two servers on loopback, each in its own process
under uvicorn:

* app: ``hotline serve`` (the whole app, SQLite in the data directory);
* raw: a bare ASGI callable in this file (``--raw-server``) doing the least the same POST must
  do, with the ``sqlite3`` module on the same database file: parse the form, find the key's
  client by prefix and compare its keyed digest in constant time, write the case, its message,
  queue item and event, answer the id.

A client process sends ``--requests`` distinct POSTs to ``/open311/v2/requests.json`` over
``--concurrency`` keep-alive connections (after an untimed warm-up), app and raw taking turns;
while the app is under that load, one more connection asks ``/healthz`` again and again
(the issue: with argon2 on the event loop, posting was capped near 3.4 requests/s and the
health check took 3.1 s instead of 3 ms).

Figures: ``open311_post_rps`` (app), ``open311_post_raw_rps``, ``open311_post_rps_ratio``
(app / raw); ``open311_post_p50``/``_p99`` with their ``_ratio`` (raw latency / app latency);
``healthz_idle_p99`` and ``healthz_during_open311_p99`` (ms, app only).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_portal import (  # noqa: E402
    HOST,
    Connection,
    Server,
    hotline_bin,
    percentile,
    server_env,
)


def key_digest(secret: str, key: str) -> str:
    """``hotline.core.people.apikeys.key_digest``, copied so the raw server imports nothing of the app
    (a wrong copy would show: every raw post would answer 403 and the run would fail)."""
    derived = hmac.new(secret.encode(), b"hotline open311 api key digest v1", hashlib.sha256)
    return hmac.new(derived.digest(), key.encode(), hashlib.sha256).hexdigest()


def raw_app(db_path: str, secret: str) -> Any:
    conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")

    async def respond(send: Any, status: int, body: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def store(form: dict[str, list[str]]) -> tuple[int, bytes]:
        key = form.get("api_key", [""])[0]
        row = conn.execute(
            "SELECT key_digest FROM api_clients WHERE key_prefix = ? AND active = 1", (key[:8],)
        ).fetchone()
        if row is None or not hmac.compare_digest(key_digest(secret, key), row[0] or ""):
            return 403, b'[{"code":403,"description":"api_key"}]'
        code = form.get("service_code", [""])[0]
        category = conn.execute(
            "SELECT id, default_department_id FROM service_categories WHERE code = ?", (code,)
        ).fetchone()
        if category is None:
            return 404, b'[{"code":404,"description":"service_code"}]'
        at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        number = f"{secrets.randbelow(10**13):013d}"
        text = form.get("description", [""])[0]
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(
            "INSERT INTO cases (tracking_number, kind, category_id, department_id, status,"
            " priority, language, first_channel, subject, description, latitude, longitude,"
            " sealed, created_at, updated_at) VALUES"
            " (?, 'report', ?, ?, 'received', 'normal', 'zh_CN', 'open311', '', ?, ?, ?, 0, ?, ?)",
            (
                number,
                category[0],
                category[1],
                text,
                float(form["lat"][0]),
                float(form["long"][0]),
                at,
                at,
            ),
        )
        case_id = cur.lastrowid
        cur = conn.execute(
            "INSERT INTO interactions (case_id, direction, channel, external_id, text, attempts,"
            " meta, created_at) VALUES (?, 'in', 'open311', ?, ?, 0, '{}', ?)",
            (case_id, secrets.token_hex(20), text, at),
        )
        conn.execute(
            "INSERT INTO queue_items (case_id, interaction_id, media, priority, skills,"
            " language, state, waiting_since, updated_at)"
            " VALUES (?, ?, 'open311', 50, '[]', 'zh_CN', 'waiting', ?, ?)",
            (case_id, cur.lastrowid, at, at),
        )
        conn.execute(
            "INSERT INTO case_events (case_id, at, action, actor_kind, actor_label, public,"
            " detail) VALUES (?, ?, 'received', 'citizen', '', 1, '{}')",
            (case_id, at),
        )
        conn.execute("COMMIT")
        body = [{"service_request_id": number, "service_notice": "", "account_id": None}]
        return 201, json.dumps(body).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz":
            await respond(send, 200, b'{"status":"ok"}')
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, out = store(parse_qs(body.decode()))
        await respond(send, status, out)

    return app


def serve_raw(db_path: str, port: int) -> int:
    import uvicorn

    app = raw_app(db_path, os.environ["HOTLINE_SECRET_KEY"])
    uvicorn.run(app, host=HOST, port=port, log_config=None, access_log=False)
    return 0


# --------------------------------------------------------------------------- the client


async def post_load(
    port: int, form: dict[str, str], n: int, concurrency: int, start: int, probe: bool
) -> dict[str, Any]:
    conns = [await Connection.open(port) for _ in range(concurrency)]
    numbers = iter(range(start, start + n))
    latencies: list[float] = []
    health: list[float] = []
    errors: list[str] = []
    done = asyncio.Event()

    async def worker(conn: Connection) -> None:
        for i in numbers:
            body = {**form, "description": f"夜间施工噪音 {i}"}
            t0 = time.perf_counter_ns()
            status, answer = await conn.request("POST", "/open311/v2/requests.json", body)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            if status != 201:
                errors.append(f"{status} {answer[:80]!r}")

    async def prober() -> None:
        conn = await Connection.open(port)
        while not done.is_set():
            t0 = time.perf_counter_ns()
            await conn.request("GET", "/healthz")
            health.append((time.perf_counter_ns() - t0) / 1e6)
            await asyncio.sleep(0.005)
        await conn.close()

    probing = asyncio.create_task(prober()) if probe else None
    begin = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - begin
    done.set()
    if probing:
        await probing
    for conn in conns:
        await conn.close()
    return {"lat": latencies, "elapsed": elapsed, "health": health, "errors": errors}


async def idle_health(port: int, n: int) -> list[float]:
    conn = await Connection.open(port)
    out = []
    for _ in range(n):
        t0 = time.perf_counter_ns()
        await conn.request("GET", "/healthz")
        out.append((time.perf_counter_ns() - t0) / 1e6)
    await conn.close()
    return out


async def client(spec: dict[str, Any]) -> dict[str, Any]:
    ports, form = spec["ports"], spec["form"]
    results: dict[str, Any] = {"app": [], "raw": [], "health": [], "errors": []}
    results["idle"] = await idle_health(ports["app"], 200)
    counter = 0
    for target in ("app", "raw"):  # warm-up
        out = await post_load(
            ports[target], form, spec["warmup"], spec["concurrency"], counter, False
        )
        counter += spec["warmup"]
        results["errors"] += out["errors"]
    share = max(1, spec["requests"] // spec["rounds"])
    for rnd in range(spec["rounds"]):
        for target in ("app", "raw") if rnd % 2 == 0 else ("raw", "app"):
            out = await post_load(
                ports[target], form, share, spec["concurrency"], counter, target == "app"
            )
            counter += share
            results[target].append(out)
            results["health"] += out["health"]
            results["errors"] += out["errors"]
    return results


# --------------------------------------------------------------------------- main


def prepare(data_dir: Path) -> dict[str, str]:
    env = server_env(data_dir)
    run = [hotline_bin()]
    subprocess.run([*run, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [*run, "demo-data", "--days", "1", "--per-day", "10"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    added = subprocess.run(
        [*run, "api-key", "add", "bench"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    key = re.search(r"([0-9a-f]{8}\.[A-Za-z0-9_-]+)\s*$", added.stdout)
    if key is None:
        raise RuntimeError(f"no key in {added.stdout!r}")
    with sqlite3.connect(data_dir / "hotline.db") as db:
        code = db.execute(
            "SELECT code FROM service_categories WHERE public = 1 AND active = 1"
            " AND (attributes IS NULL OR attributes = '[]') ORDER BY code LIMIT 1"
        ).fetchone()[0]
    return {"api_key": key.group(1), "service_code": code, "lat": "39.9", "long": "116.4"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="timed POSTs per server")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-postgres", action="store_true", help="accepted; SQLite only")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--raw-server", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        json.dump(asyncio.run(client(json.loads(sys.stdin.read()))), sys.stdout)
        return 0
    if args.raw_server:
        return serve_raw(args.raw_server, args.port)

    from benchmarks.common import ratio

    root = Path(tempfile.mkdtemp(prefix="hotline-bench-open311-"))
    servers: list[Server] = []
    try:
        data_dir = root / "data"
        form = prepare(data_dir)
        env = server_env(data_dir)
        servers.append(Server("app", [hotline_bin(), "serve"], env, root / "app.log"))
        raw_argv = [sys.executable, str(Path(__file__).resolve()), "--raw-server"]
        servers.append(
            Server("raw", [*raw_argv, str(data_dir / "hotline.db")], env, root / "raw.log")
        )
        for server in servers:
            server.wait_ready()
        spec = {
            "ports": {"app": servers[0].port, "raw": servers[1].port},
            "form": form,
            "requests": args.requests,
            "warmup": args.warmup,
            "concurrency": args.concurrency,
            "rounds": args.rounds,
        }
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--client"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=1800,
        )
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise RuntimeError(f"the client process exited {done.returncode}")
        out = json.loads(done.stdout)
        figures: dict[str, dict[str, float]] = {}
        for target in ("app", "raw"):
            lat = sorted(x for chunk in out[target] for x in chunk["lat"])
            elapsed = sum(chunk["elapsed"] for chunk in out[target])
            figures[target] = {
                "rps": len(lat) / elapsed,
                "p50": percentile(lat, 0.50),
                "p99": percentile(lat, 0.99),
            }
        print(f"open311_post_rps {figures['app']['rps']:.0f} req/s")
        print(f"open311_post_raw_rps {figures['raw']['rps']:.0f} req/s")
        print(f"open311_post_rps_ratio {ratio(figures['app']['rps'] / figures['raw']['rps'])}")
        for p in ("p50", "p99"):
            print(f"open311_post_{p} {figures['app'][p]:.2f} ms")
            print(f"open311_post_raw_{p} {figures['raw'][p]:.2f} ms")
            print(f"open311_post_{p}_ratio {ratio(figures['raw'][p] / figures['app'][p])}")
        idle, busy = sorted(out["idle"]), sorted(out["health"])
        print(f"healthz_idle_p99 {percentile(idle, 0.99):.2f} ms")
        if busy:
            print(f"healthz_during_open311_p50 {percentile(busy, 0.50):.2f} ms")
            print(f"healthz_during_open311_p99 {percentile(busy, 0.99):.2f} ms")
        print(f"# {len(out['errors'])} unexpected answers", flush=True)
        for problem in out["errors"][:5]:
            print(f"#   {problem}", flush=True)
        return 1 if out["errors"] else 0
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
