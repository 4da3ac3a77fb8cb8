"""Requests served beside connections that never finish one (idle and slowloris).

Starts ``hotline serve`` on a migrated scratch data directory and measures the latency and
rate of normal requests (``GET /api/v1/services`` and the portal's home page, ``--concurrency``
keep-alive clients, ``--requests`` each round) twice: on a quiet server (the baseline, same
run) and while ``--idle`` idle connections and ``--slow`` connections sending one header byte
every half second are held open. Then it measures how long the server takes to close all of
those (``HOTLINE_HEADER_TIMEOUT_SECONDS``, set by ``--header-timeout``).

Prints ``name value unit`` lines; ``*_p50_ratio``/``*_p99_ratio`` are quiet latency / latency
beside the held connections and ``rps_ratio`` the request rate beside them / quiet (1.0: the
held connections cost nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import ratio  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data: Path, port: int, header_timeout: float) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_DATA_DIR=str(data),
        HOTLINE_LOG_LEVEL="ERROR",
        HOTLINE_RATE_LIMIT_PER_MINUTE="10000000",
        HOTLINE_HEADER_TIMEOUT_SECONDS=str(header_timeout),
        HOTLINE_JOBS_IN_PROCESS="false",
    )
    hotline = str(Path(sys.executable).with_name("hotline"))
    proc = subprocess.Popen(
        [hotline, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("hotline serve did not start")


async def load(url: str, concurrency: int, requests: int) -> tuple[list[float], float]:
    latencies: list[float] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            for i in range(requests // concurrency):
                started = time.perf_counter()
                response = await c.get("/api/v1/services" if i % 2 else "/")
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, len(latencies) / (time.perf_counter() - started)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


def hold(port: int, idle: int, slow: int) -> tuple[list[socket.socket], threading.Event]:
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle + slow)]
    trickling = held[idle:]
    for sock in trickling:
        sock.send(b"GET / HTTP/1.1\r\nHost: hotline\r\n")
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for sock in trickling:
                try:
                    sock.send(b"X")
                except OSError:
                    pass

    threading.Thread(target=trickle, daemon=True).start()
    return held, stop


def closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--slow", type=int, default=200)
    parser.add_argument("--header-timeout", type=float, default=30.0)
    parser.add_argument("--skip-postgres", action="store_true", help="(SQLite only anyway)")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        proc = serve(data, port, args.header_timeout)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(load(url, args.concurrency, min(200, args.requests)))  # warm up
            quiet, quiet_rps = asyncio.run(load(url, args.concurrency, args.requests))
            held, stop = hold(port, args.idle, args.slow)
            opened = time.monotonic()
            busy, busy_rps = asyncio.run(load(url, args.concurrency, args.requests))
            beside = time.monotonic() - opened
            pending = list(held)
            while pending and time.monotonic() - opened < args.header_timeout + 30:
                pending = [s for s in pending if not closed(s)]
                time.sleep(0.2)
            closed_after = time.monotonic() - opened
            stop.set()
            for sock in held:
                sock.close()
        finally:
            proc.terminate()
            proc.wait(30)

    n = args.idle + args.slow
    print(f"connections_quiet_p50 {p(quiet, 50):.2f} ms")
    print(f"connections_quiet_p99 {p(quiet, 99):.2f} ms")
    print(f"connections_quiet_rps {quiet_rps:.0f} req/s")
    print(f"connections_beside_{n}_held_p50 {p(busy, 50):.2f} ms")
    print(f"connections_beside_{n}_held_p99 {p(busy, 99):.2f} ms")
    print(f"connections_beside_{n}_held_rps {busy_rps:.0f} req/s")
    print(f"connections_p50_ratio {ratio(p(quiet, 50) / max(p(busy, 50), 1e-9))}")
    print(f"connections_p99_ratio {ratio(p(quiet, 99) / max(p(busy, 99), 1e-9))}")
    print(f"connections_rps_ratio {ratio(busy_rps / quiet_rps)}")
    print(f"connections_load_seconds_beside_held {beside:.1f} s")
    print(f"connections_held_still_open {len(pending)} connections")
    print(f"connections_all_closed_after {closed_after:.1f} s")


if __name__ == "__main__":
    main()
