"""Keys for apps that post through Open311: issued per client, shown once, revocable.

A key is ``<prefix>.<secret>``: 8 hex characters to find the client, then 32 random bytes.
Such a token cannot be guessed, so it needs no slow password hash: we keep an HMAC-SHA256
digest of it, keyed by a key derived from ``HOTLINE_SECRET_KEY`` (a copy of the database alone
gives nothing to try keys against), and compare digests in constant time. Checking a key costs
microseconds on the event loop.

Keys issued before this (revision 0014) were stored with argon2, and the secret cannot be
recovered from that hash. They keep working: an argon2 key is verified in a worker thread, one
at a time and at most ``LEGACY_TRIES_PER_MINUTE`` wrong tries per prefix a minute, and the
first time it is verified its digest is stored and the argon2 hash dropped, so each old key is
slow once. ``hotline check`` notes every key still waiting for that first use.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import secrets
import time
import weakref
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import select

from hotline.core.foundation.settings import Settings
from hotline.core.people.accounts import verify_password
from hotline.core.people.audit import audit
from hotline.core.storage.actors import SYSTEM, Actor
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.people import ApiClient

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.apikeys")

KEY_FORM = re.compile(r"[0-9a-f]{8}\.[A-Za-z0-9_-]{20,64}")
LEGACY_TRIES_PER_MINUTE = 5
_DERIVATION = b"hotline open311 api key digest v1"


def _digest_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _DERIVATION, hashlib.sha256).digest()


def key_digest(secret_key: str, key: str) -> str:
    """The keyed digest stored for ``key`` (hex)."""
    return hmac.new(_digest_key(secret_key), key.encode(), hashlib.sha256).hexdigest()


async def issue_key(ctx: AppContext, name: str, actor: Actor = SYSTEM) -> str:
    """A new key for ``name``. Only its keyed digest is kept: show the key once."""
    prefix = secrets.token_hex(4)
    key = f"{prefix}.{secrets.token_urlsafe(32)}"
    async with ctx.db.transaction() as session:
        session.add(
            ApiClient(
                name=name[:200], key_prefix=prefix, key_digest=key_digest(ctx.secret_key, key)
            )
        )
        audit(session, actor, "api_key.issued", None, prefix=prefix, client=name[:200])
    return key


async def revoke_key(ctx: AppContext, prefix: str, actor: Actor = SYSTEM) -> bool:
    async with ctx.db.transaction() as session:
        client = await session.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))
        if client is None or not client.active:
            return False
        client.active = False
        client.revoked_at = utcnow()
        audit(session, actor, "api_key.revoked", None, prefix=prefix, client=client.name)
    return True


async def list_keys(ctx: AppContext) -> list[ApiClient]:
    async with ctx.db.session() as session:
        return list(await session.scalars(select(ApiClient).order_by(ApiClient.created_at)))


# --- checking a key -----------------------------------------------------------------------

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)
_legacy_failures: dict[str, list[float]] = {}


def _legacy_limiter() -> anyio.CapacityLimiter:
    """One argon2 verification at a time per event loop: old keys never take every thread."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(1)
    return limiter


def _legacy_throttled(prefix: str) -> bool:
    now = time.monotonic()
    recent = [t for t in _legacy_failures.get(prefix, []) if now - t < 60]
    _legacy_failures[prefix] = recent
    if len(_legacy_failures) > 10_000:  # bounded: forget the oldest prefixes
        for stale in list(_legacy_failures)[:5_000]:
            _legacy_failures.pop(stale, None)
    return len(recent) >= LEGACY_TRIES_PER_MINUTE


async def check_key(ctx: AppContext, key: str) -> ApiClient | None:
    """The active client this key belongs to, else None. Never blocks the event loop on
    hashing: a digest key is an HMAC and a constant-time compare; an argon2 key (issued
    before digests) is verified in a thread, then stored as a digest."""
    if not KEY_FORM.fullmatch(key):
        return None
    prefix = key[:8]
    async with ctx.db.session() as session:
        client = await session.scalar(
            select(ApiClient).where(ApiClient.key_prefix == prefix, ApiClient.active.is_(True))
        )
    if client is None:
        return None
    if client.key_digest is not None:
        given = key_digest(ctx.secret_key, key)
        return client if hmac.compare_digest(given, client.key_digest) else None
    if not client.key_hash or _legacy_throttled(prefix):
        return None
    stored = client.key_hash
    verified = await anyio.to_thread.run_sync(
        lambda: verify_password(stored, key), limiter=_legacy_limiter()
    )
    if not verified:
        _legacy_failures.setdefault(prefix, []).append(time.monotonic())
        return None
    await _store_digest(ctx, client.id, key)
    return client


async def _store_digest(ctx: AppContext, client_id: int, key: str) -> None:
    """An argon2 key was just verified: keep its digest from now on, drop the slow hash."""
    async with ctx.db.transaction() as session:
        client = await session.get(ApiClient, client_id)
        if client is None or client.key_digest is not None:
            return
        client.key_digest = key_digest(ctx.secret_key, key)
        client.key_hash = None
        audit(session, SYSTEM, "api_key.rehashed", None, prefix=client.key_prefix)
    log.info("an Open311 API key was moved from argon2 to a keyed digest")


# --- hotline check ------------------------------------------------------------------------


def legacy_key_notes(settings: Settings) -> list[str]:
    """``hotline check``'s lines about argon2 keys. Runs its own event loop: call outside one."""
    from hotline.core.storage.db import Database

    async def read() -> list[str]:
        db = Database(settings.db_url)
        try:
            async with db.session() as session:
                rows = await session.scalars(
                    select(ApiClient.key_prefix).where(
                        ApiClient.active.is_(True), ApiClient.key_digest.is_(None)
                    )
                )
                return list(rows)
        finally:
            await db.dispose()

    try:
        prefixes = asyncio.run(read())
    except Exception as exc:  # no database yet, or not migrated: nothing to say about keys
        log.debug("api keys not readable: %s", type(exc).__name__)
        return []
    if not prefixes:
        return []
    return [
        f"note: {len(prefixes)} Open311 API key(s) still stored with argon2 ({', '.join(prefixes)}):"
        " each is verified slowly, off the event loop, until its next use stores a keyed digest;"
        " or replace it (hotline api-key add NAME, then hotline api-key revoke PREFIX)"
    ]
