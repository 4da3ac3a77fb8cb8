"""Keys for apps that post through Open311: issued per client, shown once, stored hashed,
revocable."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from hotline.core.accounts import hash_password, verify_password
from hotline.core.context import AppContext
from hotline.core.models import ApiClient, utcnow


async def issue_key(ctx: AppContext, name: str) -> str:
    """A new key for ``name``: ``<prefix>.<secret>``. Only its hash is kept; show it once."""
    prefix = secrets.token_hex(4)
    key = f"{prefix}.{secrets.token_urlsafe(24)}"
    async with ctx.db.transaction() as session:
        session.add(ApiClient(name=name[:200], key_prefix=prefix, key_hash=hash_password(key)))
    return key


async def revoke_key(ctx: AppContext, prefix: str) -> bool:
    async with ctx.db.transaction() as session:
        client = await session.scalar(select(ApiClient).where(ApiClient.key_prefix == prefix))
        if client is None or not client.active:
            return False
        client.active = False
        client.revoked_at = utcnow()
    return True


async def list_keys(ctx: AppContext) -> list[ApiClient]:
    async with ctx.db.session() as session:
        return list(await session.scalars(select(ApiClient).order_by(ApiClient.created_at)))


async def check_key(ctx: AppContext, key: str) -> ApiClient | None:
    """The active client this key belongs to, else None."""
    prefix, dot, _secret = key.partition(".")
    if not dot or len(prefix) != 8:
        return None
    async with ctx.db.session() as session:
        client = await session.scalar(
            select(ApiClient).where(ApiClient.key_prefix == prefix, ApiClient.active.is_(True))
        )
    if client is None or not verify_password(client.key_hash, key):
        return None
    return client
