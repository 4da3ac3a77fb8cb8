"""rtpengine's control protocol (*ng*): a bencoded dictionary over UDP on loopback, each
message and its reply led by the same cookie. Kamailio speaks it for the calls it relays; the
line speaks it for what Kamailio 5.6 cannot ask for (a supervisor's copy of a desk phone's
call: ``subscribe request``, ``subscribe answer``, ``unsubscribe``)."""

from __future__ import annotations

import asyncio
import secrets
import socket
from typing import Any

import bencodepy


class RelayError(RuntimeError):
    """The relay refused (its ``error-reason``) or did not answer."""


def _decoded(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return {_decoded(k): _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def _wire(value: Any) -> Any:
    """A value as the relay must get it: a string that came from a caller's SIP with bytes that
    are not UTF-8 (read with ``surrogateescape``) goes as those bytes."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    return value


def _exchange(port: int, message: dict[str, Any], within: float) -> dict[str, Any]:
    cookie = secrets.token_hex(8).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(within)
        s.sendto(cookie + b" " + bencodepy.encode(_wire(message)), ("127.0.0.1", port))
        while True:  # a late reply to an earlier message is not this one's
            try:
                data = s.recv(65536)
            except TimeoutError:
                raise RelayError(f"the relay did not answer '{message['command']}'") from None
            leader, _, body = data.partition(b" ")
            if leader == cookie:
                break
    reply = _decoded(bencodepy.decode(body))
    if not isinstance(reply, dict):
        raise RelayError("the relay's reply is not a dictionary")
    if reply.get("result") not in ("ok", "pong"):
        raise RelayError(str(reply.get("error-reason") or reply.get("result") or "refused"))
    return reply


async def command(port: int, name: str, within: float = 2.0, **args: Any) -> dict[str, Any]:
    """Send the relay at ``port`` the command ``name`` with ``args`` (keys as the protocol
    spells them: ``call-id`` is given as ``call_id``): its reply, or RelayError."""
    message = {"command": name, **{k.replace("_", "-"): v for k, v in args.items()}}
    return await asyncio.to_thread(_exchange, port, message, within)


async def answers(port: int, within: float = 0.3) -> bool:
    """Whether a relay listens at ``port`` and answers a ping within ``within`` seconds."""
    try:
        await command(port, "ping", within)
    except (RelayError, OSError):  # nothing there yet: refused, or no answer
        return False
    return True
