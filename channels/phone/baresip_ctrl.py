"""baresip's ctrl_tcp protocol: netstring-framed JSON over one TCP connection.

A command is ``{"command", "params", "token"}``; baresip answers each with
``{"response": true, "ok", "data", "token"}`` in the order sent, and pushes events
(``{"event": true, "type", "id", "accountaor", "peeruri", "param", ...}``) on the same
connection at any time. baresip handles every netstring of one TCP read before it looks at
the network again, so a *batch* (several commands in one write) runs without a SIP request
slipping in between: that is how a call is selected (``callfind``) and acted on atomically.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("hotline.channels.phone.baresip")

Message = dict[str, Any]
SLOW = 1.0  # seconds: a command baresip took longer to answer is logged


def netstring(obj: Message) -> bytes:
    """``obj`` framed for baresip; a string that came from baresip with bytes that are not
    UTF-8 (``surrogateescape``, as ``split_netstrings`` reads them) goes back byte for byte."""
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogateescape")
    return str(len(body)).encode() + b":" + body + b","


def split_netstrings(buffer: bytearray) -> list[Message]:
    """Take every complete netstring off the front of ``buffer``."""
    out: list[Message] = []
    while True:
        colon = buffer.find(b":")
        if colon < 0:
            return out
        size = int(buffer[:colon])
        end = colon + 1 + size
        if len(buffer) < end + 1:
            return out
        body = bytes(buffer[colon + 1 : end])
        del buffer[: end + 1]
        try:
            # baresip passes what callers sent as it came (a GBK display name, a Call-ID of
            # any bytes): kept, not refused, each byte that is not UTF-8 as a lone surrogate
            out.append(json.loads(body.decode("utf-8", "surrogateescape")))
        except ValueError:  # its size only: a frame holds callers' numbers
            log.warning("baresip sent a frame of %d bytes that is not JSON", len(body))


class Ctrl:
    """One ctrl_tcp connection: ``batch`` sends commands and returns their responses, events
    go to ``on_event`` (called in order, from the reader task, must not block)."""

    def __init__(
        self, on_event: Callable[[Message], None], on_stall: Callable[[], str] = lambda: ""
    ) -> None:
        self.on_event = on_event
        self.on_stall = on_stall  # what baresip's threads are doing, for the log of a stall
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Future[Message]] = {}
        self._tokens = itertools.count(1)
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()
        self.heard_at = 0.0  # the loop's clock when baresip last sent anything

    async def connect(
        self,
        host: str,
        port: int,
        within: float = 10.0,
        gave_up: Callable[[], bool] = lambda: False,
    ) -> None:
        """Connected to baresip's control socket, tried again until ``within`` seconds have
        passed or ``gave_up()`` (the connection's last error raised then)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            try:
                self._reader, self._writer = await asyncio.open_connection(host, port)
                break
            except OSError:
                if loop.time() > deadline or gave_up():
                    raise
                await asyncio.sleep(0.05)
        self._task = asyncio.create_task(self._read(), name="baresip-ctrl")

    async def batch(
        self, commands: Sequence[tuple[str, str]], within: float = 10.0
    ) -> list[Message]:
        """Send ``commands`` in one write; their responses, in order."""
        if self._writer is None or self.closed.is_set():
            raise ConnectionError("baresip ctrl_tcp is not connected")
        loop = asyncio.get_running_loop()
        async with self._lock:
            futures = []
            frames = []
            for command, params in commands:
                token = f"t{next(self._tokens)}"
                future: asyncio.Future[Message] = loop.create_future()
                self._pending[token] = future
                futures.append(future)
                message: Message = {"command": command, "token": token}
                if params:
                    message["params"] = params
                frames.append(netstring(message))
            self._writer.write(b"".join(frames))
            await self._writer.drain()
        sent = loop.time()
        names = ",".join(command for command, _params in commands)
        try:
            replies = list(await asyncio.wait_for(asyncio.gather(*futures), within))
        except TimeoutError:
            # what tells a stalled baresip from a stalled event loop here
            log.warning(
                "baresip did not answer %s within %.0f s; it last sent anything %.1f s ago; %s",
                names,
                within,
                loop.time() - self.heard_at,
                self.on_stall() or "its threads unknown",
            )
            raise
        if loop.time() - sent > SLOW:
            log.warning("baresip answered %s after %.1f s", names, loop.time() - sent)
        return replies

    async def _read(self) -> None:
        assert self._reader is not None
        buffer = bytearray()
        try:
            while data := await self._reader.read(65536):
                self.heard_at = asyncio.get_running_loop().time()
                buffer += data
                for message in split_netstrings(buffer):
                    self._dispatch(message)
        except OSError as exc:
            log.warning("baresip ctrl_tcp connection failed: %s", exc)
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("baresip ctrl_tcp closed"))
            self._pending.clear()

    def _dispatch(self, message: Message) -> None:
        if message.get("response"):
            future = self._pending.pop(str(message.get("token")), None)
            if future is not None and not future.done():
                future.set_result(message)
        elif message.get("event"):
            try:
                self.on_event(message)
            except Exception:
                log.exception("baresip event handler failed on %s", message.get("type"))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
