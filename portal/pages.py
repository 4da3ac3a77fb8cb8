"""What every portal page shares: the context, the caller's address, the page frame with the
map's settings and content policy, and what a browser's session remembers."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.exceptions import NotFoundException
from sqlalchemy import select

from hotline.core.cases import tracking
from hotline.core.foundation import text
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import render
from hotline.core.storage.models.reference import Page

Req = Request[Any, Any, Any]


def _ctx(request: Req) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _address(request: Req) -> str:
    return request.client.host if request.client else "unknown"


CSRF_COOKIE = "hotline_csrf"
KEEP_RECEIPTS = 5  # receipts (and verified cases) one browser's session remembers


def map_settings(ctx: AppContext) -> dict[str, Any] | None:
    """The portal map, when the city set a tile server; else None (the map is hidden)."""
    tiles = ctx.settings.map_tile_url
    if not tiles:
        return None
    return {
        "tiles": tiles,
        "attribution": ctx.settings.map_attribution,
        "center": ctx.settings.map_center,
        "zoom": ctx.settings.map_zoom,
    }


def content_policy(ctx: AppContext) -> str:
    """The site's policy, with the city's tile server allowed to serve map images."""
    images = "'self' data:"
    tiles = ctx.settings.map_tile_url
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "tiles"))
        host = (parts.netloc or "").replace("tiles.", "*.", 1) if "{s}" in tiles else parts.netloc
        images += f" {parts.scheme}://{host}"
    return f"default-src 'self'; img-src {images}; frame-ancestors 'none'"


def page(
    request: Req, template: str, *, status: int = 200, private: bool = False, **context: Any
) -> Response[str]:
    """A portal page: ``render`` with the map's settings and the policy that lets its tiles
    load; a citizen's own case or receipt is never kept by a cache."""
    ctx = _ctx(request)
    response = render(request, template, status=status, map=map_settings(ctx), **context)
    response.headers["content-security-policy"] = content_policy(ctx)
    if private:
        response.headers["cache-control"] = "no-store"
    return response


def _remember(request: Req, key: str, number: str, value: Any) -> None:
    kept = dict(request.session.get(key) or {}) if request.session is not None else {}
    kept.pop(number, None)
    kept[number] = value
    request.session[key] = dict(list(kept.items())[-KEEP_RECEIPTS:])


def _is_verified(request: Req, number: str) -> bool:
    return number in (request.session.get("verified_cases") or {}) if request.session else False


# How a browser opened a case: with the lookup code (or by sending it), or by the weaker route
# (the last four digits of a phone and a name), which shows the status and dates only.
BY_CODE = "code"
BY_PHONE = "phone"


def _sees_words(request: Req, number: str) -> bool:
    """May this browser read what the citizen wrote (and the answer)? Only the browser that
    sent the case, or one that gave the full lookup code."""
    if not request.session:
        return False
    if number in (request.session.get("receipts") or {}):
        return True
    return (request.session.get("verified_cases") or {}).get(number) == BY_CODE


# What a code or a slug in an address may be; anything else is not found, never queried.
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


async def _published_pages(ctx: AppContext, limit: int | None = None) -> list[Page]:
    async with ctx.db.session() as session:
        query = select(Page).where(Page.published.is_(True))
        query = (
            query.order_by(Page.published_at.desc()).limit(limit)
            if limit
            else query.order_by(Page.kind, Page.published_at.desc())
        )
        return list(await session.scalars(query))


def _number(raw: str) -> str:
    number = tracking.clean(text.nfkc(raw))
    if not tracking.is_valid(number):
        raise NotFoundException("no such case")
    return number
