"""The citizens' site: its router, middleware (sessions, CSRF, rate limits), the home page,
the nearby list and the information pages. Forms are in ``forms``, receipts and cases in
``tracking``."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.params import FromPath
from litestar.types import ASGIApp
from sqlalchemy import select

from hotline.core.foundation import text
from hotline.core.reference.services import public_services
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import request_language
from hotline.core.shell.webforms import edge_form_middleware
from hotline.core.storage.models.reference import Page
from hotline.portal.forms import director_form, director_submit, service_form, service_submit
from hotline.portal.pages import _CODE, CSRF_COOKIE, Req, _ctx, _published_pages, page
from hotline.portal.tracking import (
    add_info,
    case_add_info,
    case_page,
    case_rate,
    case_unlock,
    rate,
    receipt,
    receipt_latest,
    track_case,
    track_form,
    track_submit,
)

from .nearby import reports_near


@get("/")
async def home(request: Req) -> Response[str]:
    ctx = _ctx(request)
    pages = await _published_pages(ctx, limit=6)
    return page(request, "portal/home.html", services=await public_services(ctx), pages=pages)


@get("/nearby")
async def nearby(request: Req) -> Response[str]:
    """Recent public reports near a place (only what their senders agreed to publish)."""
    ctx = _ctx(request)
    lat = _coordinate(request.query_params.get("lat"), 90)
    lon = _coordinate(request.query_params.get("lon"), 180)
    fragment = request.query_params.get("fragment") == "1"
    found = None
    if lat is not None and lon is not None:
        found = await reports_near(ctx, lat, lon, request_language(request) == "zh_CN")
    else:
        lat = lon = None
    template = "portal/nearby_list.html" if fragment else "portal/nearby.html"
    return page(
        request,
        template,
        lat=lat,
        lon=lon,
        reports=found.reports if found else [],
        found=found,
        fragment=fragment,
    )


def _coordinate(raw: str | None, limit: float) -> float | None:
    try:
        value = float(text.nfkc(raw or "").strip())
    except ValueError:
        return None
    return value if -limit <= value <= limit and value == value else None


@get("/info")
async def info_index(request: Req) -> Response[str]:
    pages = await _published_pages(_ctx(request))
    return page(request, "portal/info_index.html", pages=pages)


@get("/info/{slug:str}")
async def info_page(request: Req, slug: FromPath[str]) -> Response[str]:
    ctx = _ctx(request)
    slug = text.nfkc(slug).strip()
    if not _CODE.match(slug):
        raise NotFoundException("no such page")
    async with ctx.db.session() as session:
        found = await session.scalar(
            select(Page).where(Page.slug == slug, Page.published.is_(True))
        )
    if found is None:
        raise NotFoundException("no such page")
    return page(request, "portal/info_page.html", page=found)


def _is_post(request: Req) -> bool:
    return request.method == "POST"


def _session_middleware(app: ASGIApp, secret: bytes, secure: bool) -> ASGIApp:
    """An encrypted cookie session (works across app processes with no shared store).
    Built here, not passed in: Litestar copies router middleware, and a cipher cannot be."""
    config = CookieBackendConfig(
        secret=secret,
        key="hotline_portal",
        max_age=3600,
        samesite="lax",
        httponly=True,
        secure=secure,
    )
    return SessionMiddleware(app=app, backend=ClientSideSessionBackend(config=config))


def portal_middleware(ctx: AppContext, *, store: str, posts_per_minute: int) -> list[Any]:
    """The portal's session cookie, CSRF check and rate limit on posts per address, for the
    portal's pages and for plugins that add citizen pages (web chat)."""
    key = hashlib.sha256(f"portal-session:{ctx.secret_key}".encode()).digest()
    sessions = DefineMiddleware(
        _session_middleware, secret=key, secure=ctx.settings.url.startswith("https")
    )
    csrf = CSRFConfig(
        secret=ctx.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_samesite="lax",
        cookie_secure=ctx.settings.url.startswith("https"),
    )
    post_limit = RateLimitConfig(
        rate_limit=("minute", posts_per_minute), check_throttle_handler=_is_post, store=store
    )
    csrf_check = DefineMiddleware(CSRFMiddleware, config=csrf)
    return [edge_form_middleware, sessions, csrf_check, post_limit.middleware]


def portal_router(ctx: AppContext) -> Router:
    """The portal's pages, with their own session cookie, CSRF check and form rate limit."""
    return Router(
        path="/",
        route_handlers=[
            home,
            service_form,
            service_submit,
            director_form,
            director_submit,
            receipt_latest,
            receipt,
            track_form,
            track_submit,
            track_case,
            case_page,
            case_unlock,
            case_add_info,
            case_rate,
            add_info,
            rate,
            nearby,
            info_index,
            info_page,
        ],
        middleware=portal_middleware(
            ctx, store="portal_forms", posts_per_minute=ctx.settings.form_posts_per_minute
        ),
        include_in_schema=False,
    )
