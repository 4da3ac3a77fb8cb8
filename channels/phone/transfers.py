"""The line's side of an agent's blind transfer (``core/axd/transfers.py``): the agent's
softphone refers the caller to the line's own number for transfers (``hotline-transfer``);
the caller's phone calls it, and the line takes the transfer asked for that caller's number
(the queue item moves only now) and carries the caller on:

- to a queue: "you are being transferred", their place and the wait, the music, as any caller
  waiting there (first in line: the item keeps its first ``waiting_since``);
- to another agent: "you are being transferred", then put through to that agent's phone, as
  if they had taken the call (a ring they do not take comes back to the queue, as for any
  call put through);
- to an outside number: referred on to it through the site's trunk.

The new leg is a call of its own with its own detail record (menu path ``transferred``, the
queue item and case of the first); the transfers themselves are in ``call_transfers``. A call
on that number with no transfer waiting for it (a stranger, one too late) gets the menu."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from . import texts
from .waiting import TRANSFER_SECONDS, Wait, now, refer

if TYPE_CHECKING:
    from .ivr import Call, Ivr

log = logging.getLogger("hotline.channels.phone")

TRANSFER = "hotline-transfer"  # the line's number for callers an agent transfers


def transfer_address(line: tuple[str, int]) -> str:
    """Where an agent's softphone refers the caller (the line's SIP address)."""
    return f"sip:{TRANSFER}@{line[0]}:{line[1]}"


async def arrived(ivr: Ivr, call: Call) -> bool:
    """A call on the transfer number: carried on when a transfer waits for it; False: a
    stranger."""
    taken = await ivr.desk.take_transfer(call.number)
    if taken is None:
        log.warning("a call on the transfer number had no valid transfer")
        return False
    log.info("a call transferred by agent %s to a %s", taken.from_agent_id, taken.kind)
    if taken.language in ivr.menu.languages:
        call.language = taken.language
    call.path = ["transferred"]
    detail = call.detail
    detail.item_id, detail.case_id, detail.leg = taken.item_id, taken.case_id, "transferred"
    if taken.kind == "number":
        await _outside(ivr, call, taken.target)
        return True
    detail.queue, detail.queued_at = taken.target if taken.kind == "queue" else None, now()
    waiting = ivr.waiting
    call.mode = "queue"
    wait = waiting.waits[call.call_id] = Wait(taken.item_id, asyncio.get_running_loop().time())
    moved = await ivr._speak(call, texts.TRANSFERRED)
    if taken.kind == "agent":  # theirs already: put through once the caller heard why
        await ivr._play(call, [moved], lambda: waiting._answered(call, wait))
        return True
    said = await waiting._standing(call, wait)
    await ivr._play(call, [moved, *said], lambda: waiting._hold(call))
    waiting._schedule(call, wait)
    return True


async def _outside(ivr: Ivr, call: Call, number: str) -> None:
    address = ivr.desk.outside_address(number)
    if address is None or not await refer(ivr, call, address):
        sorry = await ivr._speak(call, texts.TRANSFER_FAILED)
        await ivr._play(call, [sorry], lambda: ivr._enter(call, ivr.menu.fallback))
        return
    loop = asyncio.get_running_loop()
    loop.call_later(TRANSFER_SECONDS, lambda: ivr._spawn(ivr._hangup(call)))
