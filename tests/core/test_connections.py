"""Connections that never finish a request are closed, with real sockets on ``hotline serve``:
idle ones and ones that send their headers a byte at a time (slowloris) go within the header
deadline, a kept-alive connection goes after the keep-alive time, oversized headers are
refused, and normal requests are served beside 400 such connections the whole time."""

from __future__ import annotations

import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import Served

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 4.0
KEEPALIVE = 2.0


def _open(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setblocking(False)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """The server has closed it: reading gives end of file (after a 408, for a partial one)."""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:  # reset
        return True


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    server = Served(
        tmp_path / "data",
        HOTLINE_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        HOTLINE_KEEPALIVE_SECONDS=str(KEEPALIVE),
        HOTLINE_RATE_LIMIT_PER_MINUTE="100000",
    )
    yield server
    server.stop()


def test_idle_and_slow_connections_are_closed_while_others_are_served(served: Served) -> None:
    idle = [_open(served.port) for _ in range(200)]
    slow = [_open(served.port) for _ in range(200)]
    opened = time.monotonic()
    for sock in slow:
        sock.send(b"GET / HTTP/1.1\r\nHost: hotline\r\n")
    stop = threading.Event()

    def trickle() -> None:  # one more header byte every half second, for ever
        while not stop.wait(0.5):
            for sock in slow:
                try:
                    sock.send(b"X")
                except OSError:
                    pass

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        # beside 400 connections that hold on, citizens are served
        served_ok = 0
        with httpx.Client(base_url=served.url, timeout=10) as client:
            while time.monotonic() - opened < HEADER_TIMEOUT - 1:
                assert client.get("/").status_code == 200
                assert client.get("/healthz").status_code == 200
                served_ok += 1
        assert served_ok >= 3
        assert not any(_closed_by_server(s) for s in idle[:10])  # they were really open
        deadline = opened + HEADER_TIMEOUT + 5
        pending = idle + slow
        while pending and time.monotonic() < deadline:
            pending = [s for s in pending if not _closed_by_server(s)]
            time.sleep(0.2)
        closed_after = time.monotonic() - opened
        assert not pending, f"{len(pending)} of 400 still open after {closed_after:.1f} s"
        assert closed_after >= HEADER_TIMEOUT - 0.5  # by the deadline, not before
    finally:
        stop.set()
        trickler.join(5)
        for sock in idle + slow:
            sock.close()


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP response (headers and its Content-Length body), however the server's
    writes were cut into segments."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_a_partial_request_is_told_408(served: Served) -> None:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=HEADER_TIMEOUT + 5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hotline\r\n")
    answer = _response(sock)
    assert answer.startswith(b"HTTP/1.1 408")
    assert sock.recv(4096) == b""
    sock.close()


def test_kept_alive_connection_closes_after_the_keepalive_time(served: Served) -> None:
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hotline\r\n\r\n")
    assert b"200 OK" in _response(sock)
    started = time.monotonic()
    assert sock.recv(4096) == b""  # the server closes it
    assert KEEPALIVE - 0.5 <= time.monotonic() - started <= KEEPALIVE + 3
    sock.close()


def test_headers_that_grow_past_the_limit_are_refused(served: Served) -> None:
    """h11 buffers at most HOTLINE_MAX_HEADER_BYTES of an unfinished request line and
    headers: a client that keeps adding headers is refused, not held in memory."""
    sock = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hotline\r\n")
    answer = b""
    try:
        for _ in range(40):  # 40 KiB, a KiB at a time
            sock.sendall(b"X-Big: " + b"a" * 1015 + b"\r\n")
            time.sleep(0.01)
    except OSError:
        pass  # closed on us while we were still sending
    try:
        answer = sock.recv(4096)
    except ConnectionResetError:
        answer = b""
    assert answer.startswith(b"HTTP/1.1 400") or answer == b""
    sock.close()
    assert httpx.get(served.url + "/healthz").status_code == 200


def test_more_connections_than_the_limit_get_503(tmp_path: Path) -> None:
    server = Served(tmp_path / "data", HOTLINE_MAX_CONNECTIONS="20")
    held = [_open(server.port) for _ in range(25)]
    try:
        time.sleep(0.5)
        answers = [httpx.get(server.url + "/healthz").status_code for _ in range(10)]
        assert answers == [503] * 10
    finally:
        for sock in held:
            sock.close()
        stderr = server.stop()[1]
    # uvicorn warns for each refused request: the log keeps one line a minute of it
    assert stderr.count("Exceeded concurrency limit") == 1
