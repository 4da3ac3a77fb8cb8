"""Who may begin a chat: a cap on new chats (each one a case) per address an hour and per
phone or e-mail a day, and a proof of work (``proof``) after the first few from an address.
The limits are settings (``HOTLINE_CHAT_STARTS_*``, ``HOTLINE_CHAT_POW_BITS``); the counts
live in the database (``core.shell.edge_counts``) so every app process sees them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from hotline.core.cases.contacts import InvalidContact, normalise
from hotline.core.shell import edge_counts
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind

from . import proof

log = logging.getLogger("hotline.channels.webchat")
PER_ADDRESS = timedelta(hours=1)
PER_CONTACT = timedelta(days=1)


@dataclass(frozen=True)
class Gate:
    """``refused``: None (go on), ``work`` (a proof of work is needed or was wrong),
    ``address`` or ``contact`` (over the cap); ``challenge``: the one to solve, if any."""

    refused: str | None = None
    challenge: str | None = None


def address_key(address: str) -> str:
    return f"chat:a:{address}"


def contact_key(ctx: AppContext, given: str) -> str | None:
    given = given.strip()
    if not given:
        return None
    kind = ContactKind.EMAIL if "@" in given else ContactKind.PHONE
    try:
        return f"chat:c:{normalise(kind, given, ctx.settings.default_region)}"
    except InvalidContact:
        return None  # intake names the problem


async def challenge_for(ctx: AppContext, address: str) -> str | None:
    """A challenge when this address has begun its free chats this hour, else None."""
    key = address_key(address)
    started = (await edge_counts.counts(ctx.db, [key], PER_ADDRESS))[key]
    if started < ctx.settings.chat_starts_free:
        return None
    return proof.new_challenge(ctx.secret_key, ctx.settings.chat_pow_bits)


async def check(ctx: AppContext, address: str, contact: str, challenge: str, nonce: str) -> Gate:
    settings = ctx.settings
    by_address = address_key(address)
    by_contact = contact_key(ctx, contact)
    found = await edge_counts.counts(ctx.db, [by_address], PER_ADDRESS)
    if by_contact:
        found.update(await edge_counts.counts(ctx.db, [by_contact], PER_CONTACT))
    if found[by_address] >= settings.chat_starts_per_address:
        log.info("chat start refused", extra={"why": "per-address cap"})
        return Gate("address")
    if by_contact and found[by_contact] >= settings.chat_starts_per_contact:
        log.info("chat start refused", extra={"why": "per-contact cap"})
        return Gate("contact")
    if found[by_address] < settings.chat_starts_free:
        return Gate()
    fresh = proof.new_challenge(ctx.secret_key, settings.chat_pow_bits)
    spent = proof.check(ctx.secret_key, challenge, nonce, settings.chat_pow_bits)
    if spent is None or not await edge_counts.spend_once(
        ctx.db, f"chat:pow:{spent}", timedelta(seconds=proof.VALID_SECONDS * 2)
    ):
        return Gate("work", fresh)
    return Gate()


async def count_start(ctx: AppContext, address: str, contact: str) -> None:
    keys = [address_key(address)]
    by_contact = contact_key(ctx, contact)
    if by_contact:
        keys.append(by_contact)
    await edge_counts.record(ctx.db, keys)
