"""How ``hotline serve`` runs the app: uvicorn with limits on every connection.

uvicorn closes a kept-alive connection after ``timeout_keep_alive`` but has no deadline for a
request's headers: a client that connects and sends nothing, or one header byte a second,
holds a connection and its file descriptor for ever. ``TimedH11Protocol`` is uvicorn's own h11
protocol with that deadline (``HOTLINE_HEADER_TIMEOUT_SECONDS``, like nginx's
``client_header_timeout``): counted from the connection, or from the first byte of each next
request on a kept-alive one; when it passes the connection is closed (after a 408 when part of
a request came).

``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from ``HOTLINE_TRUSTED_PROXIES``
(uvicorn's proxy-headers middleware, off when the list is empty): otherwise any process on the
machine could choose the address the rate limits and the audit trail see.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from hotline.core.foundation.settings import Settings

TIMEOUT_408 = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's line and headers."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        self._partial = False
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:  # still reading a request's line and headers
            self._partial = self._partial or bool(data)
            self._arm()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        self._disarm()  # uvicorn's keep-alive timer now runs until the next byte comes
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None and not self.transport.is_closing():
            self._header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self._partial = False

    def _expired(self) -> None:
        self._header_timer = None
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        if self._partial:
            self.transport.write(TIMEOUT_408)
        self.transport.close()


def protocol_for(settings: Settings) -> type[H11Protocol]:
    return type(
        "TimedH11Protocol", (TimedH11Protocol,), {"header_timeout": settings.header_timeout_seconds}
    )


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``hotline serve`` (and of the tests that serve the app)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": protocol_for(settings),
        "timeout_keep_alive": settings.keepalive_seconds,
        "limit_concurrency": settings.max_connections,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies) or None,
        "server_header": False,
        "log_config": None,
        "access_log": False,
        # Live screens and chats hold event streams open: a stop waits for them 5 s only.
        "timeout_graceful_shutdown": 5,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound and listening as uvicorn would bind it; OSError when the
    address is taken or not ours (``hotline serve`` says so in one line)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def raise_open_files_limit(wanted: int) -> int:
    """Each connection is a file descriptor: lift the soft limit towards ``wanted`` (never past
    the hard limit); the limit in force after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft)


def private_files() -> None:
    """Everything the process creates (database, WAL, uploads, sessions, keys, job store) is
    readable by the hotline's own user only: files 0600, directories 0700."""
    os.umask(0o077)
