"""Kiosk links: a wall screen that cannot sign in shows the wallboard at
``/wallboard/kiosk/<token>``, read-only, with no navigation and no personal data. An
administrator makes a link (the token is shown once; only its keyed digest is kept, as for
API keys) and revokes it; a revoked or unknown link answers 404. Both are in the audit trail."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import ServerSentEvent
from sqlalchemy import select

from hotline.core.people.audit import audit
from hotline.core.storage.actors import Actor
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.reports import ScreenLink

from .wallboard import changes, show_board

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

Req = Request[Any, Any, Any]
TOKEN_FORM = re.compile(r"([0-9a-f]{8})\.[A-Za-z0-9_-]{30,64}")
_DERIVATION = b"hotline wallboard kiosk token digest v1"


def token_digest(secret_key: str, token: str) -> str:
    key = hmac.new(secret_key.encode(), _DERIVATION, hashlib.sha256).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


async def make_link(ctx: AppContext, name: str, actor: Actor) -> str:
    """A new kiosk token named ``name``; returns it (shown once, never stored)."""
    prefix = secrets.token_hex(4)
    token = f"{prefix}.{secrets.token_urlsafe(32)}"
    async with ctx.db.transaction() as session:
        session.add(
            ScreenLink(
                name=name[:100],
                prefix=prefix,
                digest=token_digest(ctx.secret_key, token),
                created_by=actor.id,
            )
        )
        audit(session, actor, "kiosk.created", None, prefix=prefix, name=name[:100])
    return token


async def revoke_link(ctx: AppContext, link_id: int, actor: Actor) -> bool:
    async with ctx.db.transaction() as session:
        link = await session.get(ScreenLink, link_id)
        if link is None or link.revoked_at is not None:
            return False
        link.revoked_at = utcnow()
        audit(session, actor, "kiosk.revoked", None, prefix=link.prefix, name=link.name)
    return True


async def links(ctx: AppContext) -> list[ScreenLink]:
    async with ctx.db.session() as session:
        return list(await session.scalars(select(ScreenLink).order_by(ScreenLink.id.desc())))


async def valid(ctx: AppContext, token: str) -> bool:
    """Is ``token`` a kiosk link that was made and not revoked?"""
    found = TOKEN_FORM.fullmatch(token)
    if not found:
        return False
    async with ctx.db.session() as session:
        link = await session.scalar(select(ScreenLink).where(ScreenLink.prefix == found[1]))
    return (
        link is not None
        and link.revoked_at is None
        and hmac.compare_digest(link.digest, token_digest(ctx.secret_key, token))
    )


async def _checked(request: Req, token: str) -> None:
    if not await valid(request.app.state.ctx, token):
        raise NotFoundException("no such kiosk link")


@get("/wallboard/kiosk/{token:str}", include_in_schema=False)
async def kiosk_board(request: Req, token: FromPath[str]) -> Response[str]:
    await _checked(request, token)
    base = f"/wallboard/kiosk/{token}"
    response = await show_board(request, refresh=base, stream=f"{base}/stream", kiosk=True)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token stays on the screen
    return response


@get("/wallboard/kiosk/{token:str}/stream", include_in_schema=False)
async def kiosk_stream(request: Req, token: FromPath[str]) -> ServerSentEvent:
    await _checked(request, token)
    return changes(request)


def public_handlers() -> list[Any]:
    return [kiosk_board, kiosk_stream]
