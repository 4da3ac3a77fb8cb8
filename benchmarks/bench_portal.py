"""Case lookup over HTTP: a real ``hotline serve`` against a bare ASGI app on the same database.

Migrates a temporary data directory with ``hotline migrate``, loads ``--cases`` cases (default
1,000,000) the way ``bench_lookup.py`` does, and starts two servers on loopback, each in its own
process, both under uvicorn with the same defaults:

* app: ``hotline serve`` (the whole app, SQLite in the data directory);
* raw: a bare ASGI callable in this file (``--raw-server``) answering the same two requests
  with the ``sqlite3`` module on the same database file: the indexed ``SELECT`` of the case by
  its tracking number (plus its public events for the JSON status), nothing else.

A third process (``--client``, a small keep-alive HTTP/1.1 client on asyncio) sends the load:
``--concurrency`` connections (default 8), each sending its next request as soon as the answer
to the last one arrived, for a fixed number of requests, after an untimed warm-up. App and raw
take turns in rounds (order reversed every other round), each on its own tracking numbers.

* ``portal_lookup``: ``POST /track`` with a tracking number and its lookup code (CSRF token and
  cookie from one ``GET /track`` per connection); the ``303`` to ``/track/case`` is the answer.
* ``api_status``: ``GET /api/v1/cases/{number}/status``, the public JSON status.
* ``portal_lookup_page`` (app only): ``POST /track`` and then ``GET /track/case``, the timeline.

Prints ``name value unit`` lines; ``*_rps_ratio`` is app / raw requests per second,
``*_p50_ratio`` and ``*_p99_ratio`` raw latency / app latency (1.0 = as fast as raw).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import hmac
import json
import math
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SECRET = "bench-portal-secret-key-not-for-production"  # the servers' HOTLINE_SECRET_KEY
AIM_P99_MS = 20.0
AIM_RPS_RATIO = 0.5


# --------------------------------------------------------------------------- the raw baseline


def lookup_code(secret: str, number: str) -> str:
    """``hotline.core.cases.lookup.lookup_code``, copied so that the raw server imports nothing of the
    app (a wrong copy would show: every raw lookup would answer 404 and the run would fail)."""
    digest = hmac.new(secret.encode(), f"lookup:{number}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def raw_app(db_path: str, secret: str) -> Callable[..., Awaitable[None]]:
    """A bare ASGI app: the same answers as the app's two lookups, one ``sqlite3`` connection
    used on the event loop, no framework, no middleware, no session, no CSRF, no rate limits."""
    conn = sqlite3.connect(db_path, check_same_thread=False)
    conn.execute("PRAGMA query_only=ON")
    case_sql = (
        "SELECT id, tracking_number, status, created_at, reply_deadline"
        " FROM cases WHERE tracking_number = ?"
    )
    events_sql = (
        "SELECT at, action FROM case_events WHERE case_id = ? AND public = 1 ORDER BY at, id"
    )
    prefix, suffix = "/api/v1/cases/", "/status"

    def iso(value: str | None) -> str | None:
        return None if value is None else value.replace(" ", "T") + "Z"

    async def respond(send: Any, status: int, body: bytes, headers: list[Any]) -> None:
        headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

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
        method, path = scope["method"], scope["path"]
        if method == "POST" and path == "/track":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            form = parse_qs(body.decode())
            number = form.get("number", [""])[0]
            factor = form.get("factor", [""])[0]
            row = conn.execute(case_sql, (number,)).fetchone()
            if row is not None and hmac.compare_digest(factor, lookup_code(secret, row[1])):
                await respond(send, 303, b"", [(b"location", b"/track/case")])
            else:
                await respond(send, 404, b"no match", [(b"content-type", b"text/plain")])
        elif method == "GET" and path.startswith(prefix) and path.endswith(suffix):
            row = conn.execute(case_sql, (path[len(prefix) : -len(suffix)],)).fetchone()
            if row is None:
                await respond(send, 404, b"{}", [(b"content-type", b"application/json")])
                return
            events = conn.execute(events_sql, (row[0],)).fetchall()
            out = {
                "tracking_number": row[1],
                "status": row[2],
                "received_at": iso(row[3]),
                "reply_deadline": iso(row[4]),
                "timeline": [{"at": iso(at), "action": action} for at, action in events],
            }
            data = json.dumps(out, separators=(",", ":")).encode()
            await respond(send, 200, data, [(b"content-type", b"application/json")])
        elif path == "/healthz":
            await respond(send, 200, b"ok", [(b"content-type", b"text/plain")])
        else:
            await respond(send, 404, b"", [])

    return app


def serve_raw(db_path: str, port: int) -> int:
    import uvicorn

    app = raw_app(db_path, os.environ["HOTLINE_SECRET_KEY"])
    # What ``hotline serve`` passes to uvicorn; the rest (loop, HTTP parser) is uvicorn's default.
    uvicorn.run(app, host=HOST, port=port, log_config=None, access_log=False)
    return 0


# --------------------------------------------------------------------------- the load generator


class Connection:
    """One keep-alive HTTP/1.1 connection with its own cookies: a browser tab, minus the
    browser. Cheaper per request than a general-purpose client, so that the client does not
    become the ceiling of the faster server on a small machine."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int):
        self.reader, self.writer = reader, writer
        self.host = f"{HOST}:{port}"
        self.cookies: dict[str, str] = {}

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        return cls(reader, writer, port)

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass

    async def request(self, method: str, path: str, form: dict[str, str] | None = None):
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked = 0, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif name == "set-cookie":
                key, _, val = value.split(";", 1)[0].partition("=")
                if "max-age=0" in value.lower().replace(" ", ""):
                    self.cookies.pop(key.strip(), None)
                else:
                    self.cookies[key.strip()] = val.strip()
            elif name == "connection" and value.lower() == "close":
                raise ConnectionError(f"{method} {path}: the server closed the connection")
        if chunked:
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            return status, b"".join(parts)
        return status, await self.reader.readexactly(length) if length else b""


TOKEN = re.compile(rb'name="_csrf_token" value="([^"]+)"')


async def prepare_track(conn: Connection) -> str:
    """The CSRF cookie and the form's token, as a citizen's browser gets them."""
    status, body = await conn.request("GET", "/track")
    found = TOKEN.search(body)
    if status != 200 or found is None:
        raise RuntimeError(f"GET /track answered {status} without a CSRF token")
    return found.group(1).decode()


async def op_track(conn: Connection, token: str, number: str, code: str) -> str | None:
    form = {"_csrf_token": token, "number": number, "factor": code}
    status, _ = await conn.request("POST", "/track", form)
    return None if status == 303 else f"POST /track {number}: {status}"


async def op_api(conn: Connection, token: str, number: str, code: str) -> str | None:
    status, _ = await conn.request("GET", f"/api/v1/cases/{number}/status")
    return None if status == 200 else f"GET /api/v1/cases/{number}/status: {status}"


async def op_page(conn: Connection, token: str, number: str, code: str) -> str | None:
    problem = await op_track(conn, token, number, code)
    if problem:
        return problem
    status, body = await conn.request("GET", "/track/case")
    if status != 200 or number.encode() not in body.replace(b" ", b""):
        return f"GET /track/case {number}: {status}"
    return None


OPS = {"track": op_track, "api": op_api, "page": op_page}


async def run_chunk(
    port: int, op: str, items: list[list[str]], concurrency: int, csrf: bool
) -> dict[str, Any]:
    """``items`` through ``concurrency`` fresh connections, each sending its next request as
    soon as its last one was answered. Connecting and the CSRF page are not timed."""
    conns = [await Connection.open(port) for _ in range(concurrency)]
    tokens = [await prepare_track(c) if csrf else "-" for c in conns]
    fn = OPS[op]
    shared = iter(items)
    latencies: list[float] = []
    errors: list[str] = []

    async def worker(conn: Connection, token: str) -> None:
        for number, code in shared:
            t0 = time.perf_counter_ns()
            problem = await fn(conn, token, number, code)
            latencies.append((time.perf_counter_ns() - t0) / 1e6)
            if problem:
                errors.append(problem)

    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    async with asyncio.timeout(600):
        await asyncio.gather(*(worker(c, t) for c, t in zip(conns, tokens, strict=True)))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    for conn in conns:
        await conn.close()
    return {"lat": latencies, "elapsed": elapsed, "cpu": cpu, "errors": errors}


async def client(spec: dict[str, Any]) -> dict[str, Any]:
    ports: dict[str, int] = spec["ports"]
    items: Iterator[list[str]] = iter(spec["items"])
    results: dict[str, dict[str, dict[str, Any]]] = {}
    errors: list[str] = []

    def take(n: int) -> list[list[str]]:
        got = [item for _, item in zip(range(n), items, strict=False)]
        if len(got) < n:
            raise RuntimeError("fewer cases than requests: raise --cases or lower --requests")
        return got

    async def measure(figure: str, op: str, targets: list[str], concurrency: int, n: int) -> None:
        share = max(1, n // spec["rounds"])
        for rnd in range(spec["rounds"]):
            order = targets if rnd % 2 == 0 else targets[::-1]
            for target in order:
                out = await run_chunk(
                    ports[target], op, take(share), concurrency, op != "api" and target == "app"
                )
                into = results.setdefault(figure, {}).setdefault(
                    target, {"lat": [], "elapsed": 0.0, "cpu": 0.0}
                )
                into["lat"] += out["lat"]
                into["elapsed"] += out["elapsed"]
                into["cpu"] += out["cpu"]
                errors.extend(out["errors"])

    both = ["app", "raw"]
    conc = spec["concurrency"]
    for figure, op in (("portal_lookup", "track"), ("api_status", "api")):
        for target in both:  # warm-up: connections, caches, the servers' first requests
            warm = await run_chunk(
                ports[target], op, take(spec["warmup"]), conc, op == "track" and target == "app"
            )
            errors.extend(warm["errors"])
        await measure(figure, op, both, conc, spec["requests"])
        if spec["c1_requests"]:
            await measure(f"{figure}_c1", op, both, 1, spec["c1_requests"])
    if spec["page_requests"]:
        await measure("portal_lookup_page", "page", ["app"], conc, spec["page_requests"])
    return {"results": results, "errors": errors, "cpu": time.process_time()}


def client_main() -> int:
    spec = json.loads(sys.stdin.read())
    gc.collect()
    gc.freeze()  # the client is the instrument: no long collections during the timed chunks
    try:
        import uvloop

        out = uvloop.run(client(spec))
    except ImportError:
        out = asyncio.run(client(spec))
    json.dump(out, sys.stdout)
    return 0


# --------------------------------------------------------------------------- setting up


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def hotline_bin() -> str:
    found = Path(sys.executable).with_name("hotline")
    return str(found) if found.exists() else (shutil.which("hotline") or "hotline")


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        {
            "HOTLINE_DATA_DIR": str(data_dir),
            "HOTLINE_SECRET_KEY": SECRET,
            "HOTLINE_LOG_LEVEL": "WARNING",
            # The portal allows 10 form posts and 120 requests a minute per address; the load
            # comes from one address, so both limits are raised out of the way (the limiter's
            # bookkeeping still runs on every request).
            "HOTLINE_FORM_POSTS_PER_MINUTE": "1000000",
            "HOTLINE_RATE_LIMIT_PER_MINUTE": "1000000",
            "HOTLINE_CONSOLE_POSTS_PER_MINUTE": "1000000",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


class Server:
    """A server subprocess on a free loopback port, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.port, self.log = name, free_port(), log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*argv, "--port", str(self.port)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} server exited {self.proc.returncode}:\n{self.tail()}"
                )
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} server not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def add_events(path: Path, numbers: list[str]) -> None:
    """Two public events (``received``, ``routed``) for each case the load will look up, so
    that the timelines are not empty."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        events = []
        for number in numbers:
            case_id, at = conn.execute(
                "SELECT id, created_at FROM cases WHERE tracking_number = ?", (number,)
            ).fetchone()
            for action in ("received", "routed"):
                events.append((case_id, at, action, "system", "", 1, "{}"))
        conn.executemany(
            "INSERT INTO case_events (case_id, at, action, actor_kind, actor_label, public, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE case_events")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def prepare(args: argparse.Namespace, data_dir: Path) -> list[list[str]]:
    """Migrate, load the cases, and draw the (number, lookup code) pairs the load will use."""
    from benchmarks.bench_lookup import load_sqlite, make_cases

    env = server_env(data_dir)
    subprocess.run([hotline_bin(), "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    start = time.perf_counter()
    cases = make_cases(args.cases, args.seed)
    print(f"# generated {len(cases)} cases in {time.perf_counter() - start:.1f} s", flush=True)
    path = data_dir / "hotline.db"
    start = time.perf_counter()
    load_sqlite(path, cases)
    print(
        f"# loaded into a migrated SQLite database in {time.perf_counter() - start:.1f} s,"
        f" {path.stat().st_size / 2**20:.0f} MiB",
        flush=True,
    )
    want = 4 * (args.warmup + args.requests + args.c1_requests) + args.page_requests
    rng = random.Random(args.seed + 2)
    numbers = [cases[i][0] for i in rng.sample(range(len(cases)), min(want, len(cases)))]
    del cases
    add_events(path, numbers)
    gc.collect()
    return [[number, lookup_code(SECRET, number)] for number in numbers]


# --------------------------------------------------------------------------- reporting


def percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(sorted_ms) - 1, math.ceil(q * len(sorted_ms)) - 1))
    return sorted_ms[index]


def print_figure(name: str, value: float, unit: str) -> None:
    print(f"{name} {value:.0f} {unit}" if unit == "req/s" else f"{name} {value:.2f} {unit}")


def report(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    shown: dict[str, float] = {}
    for figure in ("portal_lookup", "api_status"):
        for suffix, with_rps in (("", True), ("_c1", False)):
            found = results.get(figure + suffix)
            if not found:
                continue
            keys = ("p50", "p99", "rps") if with_rps else ("p50", "p99")
            values: dict[str, dict[str, float]] = {}
            for target in ("app", "raw"):
                lat = sorted(found[target]["lat"])
                values[target] = {"p50": percentile(lat, 0.50), "p99": percentile(lat, 0.99)}
                values[target]["rps"] = len(lat) / found[target]["elapsed"]
            for target, infix in (("app", ""), ("raw", "_raw")):
                for key in keys:
                    unit = "req/s" if key == "rps" else "ms"
                    name = f"{figure}{infix}{suffix}_{key}"
                    print_figure(name, values[target][key], unit)
                    shown[name] = values[target][key]
            for key in keys:
                app, raw = values["app"][key], values["raw"][key]
                value = app / raw if key == "rps" else raw / app
                name = f"{figure}{suffix}_{key}_ratio"
                print(f"{name} {ratio(value)}", flush=True)
                shown[name] = value
    page = results.get("portal_lookup_page")
    if page:
        lat = sorted(page["app"]["lat"])
        print_figure("portal_lookup_page_p50", percentile(lat, 0.50), "ms")
        print_figure("portal_lookup_page_p99", percentile(lat, 0.99), "ms")
        print_figure("portal_lookup_page_rps", len(lat) / page["app"]["elapsed"], "req/s")
    sys.stdout.flush()
    return shown


def ratio(value: float) -> str:
    """``benchmarks.common.ratio``, imported late: that module pulls in SQLAlchemy, which the
    client and raw-server processes of this file do without."""
    from benchmarks.common import ratio as fmt

    return fmt(value)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to load")
    parser.add_argument(
        "--requests", type=int, default=4000, help="timed requests per endpoint and server"
    )
    parser.add_argument(
        "--c1-requests",
        type=int,
        default=600,
        help="timed requests per endpoint and server on one connection (0: skip)",
    )
    parser.add_argument(
        "--page-requests",
        type=int,
        default=1000,
        help="timed POST /track + GET /track/case pairs on the app (0: skip)",
    )
    parser.add_argument(
        "--warmup", type=int, default=400, help="untimed requests per endpoint and server"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="client connections")
    parser.add_argument("--rounds", type=int, default=4, help="app/raw turns per figure")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--skip-postgres", action="store_true", help="accepted; SQLite only")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--raw-server", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.client:
        return client_main()
    if args.raw_server:
        return serve_raw(args.raw_server, args.port)

    sys.path.insert(0, str(ROOT))  # run as a script
    root = Path(tempfile.mkdtemp(prefix="hotline-bench-portal-"))
    servers: list[Server] = []
    try:
        data_dir = root / "data"
        items = prepare(args, data_dir)
        db = data_dir / "hotline.db"
        env = server_env(data_dir)
        servers.append(Server("app", [hotline_bin(), "serve"], env, root / "app.log"))
        raw_argv = [sys.executable, str(Path(__file__).resolve()), "--raw-server", str(db)]
        servers.append(Server("raw", raw_argv, env, root / "raw.log"))
        for server in servers:
            server.wait_ready()
        print(
            f"# hotline serve on :{servers[0].port}, raw ASGI on :{servers[1].port};"
            f" {args.concurrency} connections from a client process",
            flush=True,
        )
        spec = {
            "ports": {"app": servers[0].port, "raw": servers[1].port},
            "items": items,
            "concurrency": args.concurrency,
            "requests": args.requests,
            "c1_requests": args.c1_requests,
            "page_requests": args.page_requests,
            "warmup": args.warmup,
            "rounds": args.rounds,
        }
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--client"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=1800,
        )
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise RuntimeError(f"the client process exited {done.returncode}")
        out = json.loads(done.stdout)
        shown = report(out["results"])
        client_note(out["results"], elapsed)
        check(db, out["errors"], shown)
        return 1 if out["errors"] else 0
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


def client_note(results: dict[str, dict[str, Any]], elapsed: float) -> None:
    """How busy the client was: when its CPU per request times the requests/s comes near one
    core, the client, not the server, sets the pace (on a small machine, for the raw server)."""
    sent = sum(len(r["lat"]) for fig in results.values() for r in fig.values())
    parts = []
    for figure, found in results.items():
        for target, r in found.items():
            busy = r["cpu"] / r["elapsed"]
            parts.append(f"{figure} {target} {r['cpu'] / len(r['lat']) * 1e6:.0f} µs ({busy:.0%})")
    print(f"# client: {sent} timed requests, {elapsed:.0f} s in all", flush=True)
    print(f"# client CPU per timed request (share of a core): {'; '.join(parts)}", flush=True)


def check(db: Path, errors: list[str], shown: dict[str, float]) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        # failed_attempts (since b9481f0), formerly lookup_failures
        table = "failed_attempts" if "failed_attempts" in tables else "lookup_failures"
        failures = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()
    print(f"# {len(errors)} unexpected answers, {failures} failed lookups recorded", flush=True)
    for problem in errors[:5]:
        print(f"#   {problem}", flush=True)
    p99 = shown.get("portal_lookup_p99")
    rps_ratio = shown.get("portal_lookup_rps_ratio")
    if p99 is not None and rps_ratio is not None:
        print(
            f"# aim: portal_lookup_p99 < {AIM_P99_MS:.0f} ms:"
            f" {'met' if p99 < AIM_P99_MS else 'NOT met'} ({p99:.2f} ms);"
            f" portal_lookup_rps_ratio >= {AIM_RPS_RATIO}:"
            f" {'met' if rps_ratio >= AIM_RPS_RATIO else 'NOT met'} ({ratio(rps_ratio)})",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
