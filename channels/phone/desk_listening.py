"""The line's part in a supervisor's listening in to a desk phone's call
(``core/axd/listenings.py``). Kamailio keeps, for each call a desk phone answered through the
relay, its queue item's call and the two parties' tags (htable ``deskcalls``); the relay
copies each party's media to the supervisor's browser (rtpengine's ``subscribe request``, one
per party: a send-only WebRTC offer, ICE and DTLS-SRTP), the browser's answers start the copies
(``subscribe answer``), ``unsubscribe`` ends them. Nothing goes back: the caller and the agent
never hear the supervisor. A call on a softphone is listened to through the softphone
(``SOFTPHONE``); whisper and barge-in need one.

One subscription per party rather than one for both: rtpengine 10.5 gives a subscription to
both parties two audio lines with the same media id, and the second line's DTLS handshake
often never completes (seen here in one run out of two), so the browser heard one party."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
from datetime import timedelta
from typing import Any

from hotline.core.axd import listenings
from hotline.core.axd.listenings import (
    ANSWERED,
    ASKED,
    LISTENING,
    OFFERED,
    REFUSED,
    SOFTPHONE,
    STOPPING,
    Listening,
)
from hotline.core.reference.labels import N_
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.base import utcnow

from .relay_control import RelayError
from .stack import SoftphoneStack, repeat

log = logging.getLogger("hotline.channels.phone.desk_listening")

STEP_SECONDS = 0.25
WATCH_SECONDS = 2.0  # how often a listening's call is looked for at the relay
OFFER_TTL = timedelta(seconds=30)  # offers no browser answered by then are withdrawn
DESK_ONLY_LISTENS = N_(
    "Whisper and barge-in need the agent's softphone in the browser: "
    "a call on a desk phone can only be listened to silently."
)
RELAY_REFUSED = N_("Could not listen in: the media relay did not take it.")
# toward the browser: ICE, DTLS-SRTP, rtcp-mux, the audio line with its mid; the relay's own
# address in the SDP
TO_BROWSER: dict[str, Any] = {
    "transport_protocol": "UDP/TLS/RTP/SAVPF",
    "ICE": "force",
    "rtcp_mux": ["offer"],
    "SDES": ["off"],
    "flags": ["generate mid"],
    "replace": ["origin", "session-connection"],
}
PARTIES = 2  # the caller (the call's From tag), the agent's desk phone (its To tag)


def _copies(listening: Listening) -> list[str]:
    """The relay's tags of the listening's copies, one per party."""
    return [f"{listening.to_tag}-{party}" for party in range(PARTIES)]


class DeskListening:
    def __init__(self, ctx: AppContext, stack: SoftphoneStack) -> None:
        self.ctx, self.stack = ctx, stack
        self._watched: dict[int, float] = {}  # listening -> when its call was last looked for

    async def desk_call(self, item_id: int) -> tuple[str, str, str] | None:
        """The relay's call of the queue item's call on a desk phone, if there is one, and
        its parties' tags: (call, caller's tag, desk phone's tag)."""
        found = await self.stack.rpc("htable.get", "deskcalls", str(item_id))
        value = found.get("item", {}).get("value") if isinstance(found, dict) else None
        parts = value.split("|") if isinstance(value, str) else []
        return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None

    async def step(self) -> None:
        for listening in await listenings.for_the_line(self.ctx):
            try:
                await self._move(listening)
            except RelayError as refused:
                log.warning("listening %s: the relay said: %s", listening.id, refused)
                await self._end(listening, refused=listening.state in (ASKED, ANSWERED))

    async def _move(self, listening: Listening) -> None:
        if listening.state == ASKED:
            await self._offer(listening)
        elif listening.state == ANSWERED:
            answers = json.loads(listening.answer or "[]")
            if len(answers) != PARTIES:
                raise RelayError("the browser did not answer for both parties")
            for tag, sdp in zip(_copies(listening), answers, strict=True):
                await self.stack.relay(
                    "subscribe answer",
                    call_id=listening.call_id,
                    to_tag=tag,
                    sdp=sdp,
                    flags=["allow transcoding"],
                )
            started = {"state": LISTENING, "started_at": utcnow()}
            if not await listenings.change(self.ctx, listening.id, (ANSWERED,), **started):
                await self._end(listening)  # stopped while it started
        elif listening.state == STOPPING or (
            listening.state == OFFERED and utcnow() - listening.asked_at > OFFER_TTL
        ):
            await self._end(listening)
        elif listening.state == LISTENING:
            await self._watch(listening)

    async def _offer(self, listening: Listening) -> None:
        call = await self.desk_call(listening.item_id) if self.stack.alive() else None
        if call is None:  # not a desk phone's call through the relay
            await listenings.change(self.ctx, listening.id, (ASKED,), state=SOFTPHONE)
            return
        if listening.mode != "listen":
            refused = {"state": REFUSED, "error": DESK_ONLY_LISTENS}
            await listenings.change(self.ctx, listening.id, (ASKED,), **refused)
            return
        if not all(part.isascii() and part.isprintable() for part in call):
            # RFC 3261 makes Call-IDs and tags ASCII tokens; a phone that did otherwise made a
            # call whose ids can be neither kept nor named to the relay reliably
            log.warning("listening %s: the call's SIP ids are not ASCII text", listening.id)
            refused = {"state": REFUSED, "error": RELAY_REFUSED}
            await listenings.change(self.ctx, listening.id, (ASKED,), **refused)
            return
        call_id, *tags = call
        # the copies' tags are written first, so that whatever fails half-way ends what was made
        base = f"listen-{listening.id}-{secrets.token_hex(4)}"
        if not await listenings.change(
            self.ctx, listening.id, (ASKED,), call_id=call_id, to_tag=base
        ):
            return  # the console gave up waiting meanwhile
        listening = dataclasses.replace(listening, call_id=call_id, to_tag=base)
        offers = []
        try:
            for party, copy in zip(tags, _copies(listening), strict=True):
                reply = await self.stack.relay(
                    "subscribe request", call_id=call_id, from_tag=party, to_tag=copy, **TO_BROWSER
                )
                offers.append(reply["sdp"])
        except RelayError as refused:
            log.warning("listening %s: the relay said: %s", listening.id, refused)
            await self._end(listening, refused=True)
            return
        offered = {"state": OFFERED, "offer": json.dumps(offers)}
        if not await listenings.change(self.ctx, listening.id, (ASKED,), **offered):
            await self._end(listening)

    async def _end(self, listening: Listening, *, refused: bool = False) -> None:
        self._watched.pop(listening.id, None)
        if listening.call_id and listening.to_tag:
            for copy in _copies(listening):
                await self._forget(listening.call_id, copy)
        done = listenings.ended_now()
        if refused:
            done = {**done, "state": REFUSED, "error": RELAY_REFUSED}
        states = (listening.state, STOPPING)  # as it was, or stopped meanwhile
        await listenings.change(self.ctx, listening.id, states, **done)

    async def _forget(self, call_id: str, copy: str) -> None:
        """The relay stops a copy and forgets it: a copy it kept would keep the call, and its
        recording, from ending with the parties' hang-up (rtpengine 10.5 keeps a call while
        any of its participants is left)."""
        for command in ("unsubscribe", "delete"):
            extra = {"to_tag": copy} if command == "unsubscribe" else {"from_tag": copy}
            try:
                await self.stack.relay(command, call_id=call_id, **extra)
            except RelayError:
                pass  # never made, or the call, and with it the copy, is gone already

    async def _watch(self, listening: Listening) -> None:
        """A listening whose call has ended (Kamailio forgot it at the hang-up) ends too."""
        now = asyncio.get_running_loop().time()
        if now - self._watched.setdefault(listening.id, now) < WATCH_SECONDS:
            return
        self._watched[listening.id] = now
        call = await self.desk_call(listening.item_id) if self.stack.alive() else None
        if call is None or call[0] != listening.call_id:
            await self._end(listening)

    async def keep(self, stop: asyncio.Event) -> None:
        await repeat(stop, STEP_SECONDS, self.step)
