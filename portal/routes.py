"""The citizens' portal pages: submit a case (per service, or to the director's mailbox), the
receipt, look a case up with a second factor, add information, rate the answer, read guides.

Every form carries a CSRF token and a honeypot field; posts are rate-limited per address; a
submission goes through the web channel (channels/web) to the one intake.
"""

from __future__ import annotations

import hashlib
import re
from secrets import compare_digest
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware, generate_csrf_hash, generate_csrf_token
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ASGIApp
from litestar.utils.scope.state import ScopeState
from sqlalchemy import select

from hotline.channels.web import submit_form
from hotline.channels.web.inbound import CITIZEN_KINDS
from hotline.core.cases import tracking
from hotline.core.cases.lookup import (
    LookupLimits,
    LookupRefused,
    find_case,
    public_timeline,
    verified_timeline,
)
from hotline.core.foundation import text
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused, Problem, parse_submission
from hotline.core.reference.services import public_services
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import render, request_language
from hotline.core.shell.webforms import edge_form_middleware, read_form, refusal_status
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.reference import Department, Page, ServiceCategory

from .citizen import receipt_copy, what_they_wrote
from .nearby import reports_near

Req = Request[Any, Any, Any]
LOOKUP_STATUS = {"too_many_attempts": 429, "wait": 429, "name_needed": 400}


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


@get("/")
async def home(request: Req) -> Response[str]:
    ctx = _ctx(request)
    pages = await _published_pages(ctx, limit=6)
    return page(request, "portal/home.html", services=await public_services(ctx), pages=pages)


async def _show_form(
    request: Req,
    service: ServiceCategory | None,
    *,
    values: dict[str, list[str]] | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
    expired: bool = False,
) -> Response[str]:
    settings = _ctx(request).settings
    return page(
        request,
        "portal/submit.html",
        service=service,
        director=service is None,
        values=values or {},
        problems={p.field: p for p in problems or []},
        problem_list=problems or [],
        kinds=[k.value for k in CITIZEN_KINDS],
        max_files=settings.max_attachments,
        max_mb=settings.max_attachment_bytes // (1024 * 1024),
        director_days=settings.director_reply_days,
        expired=expired,
        status=status,
    )


async def _service(ctx: AppContext, code: str) -> ServiceCategory:
    code = text.nfkc(code).strip()
    if not _CODE.match(code):
        raise NotFoundException("no such service")
    async with ctx.db.session() as session:
        service = await session.scalar(
            select(ServiceCategory).where(
                ServiceCategory.code == code,
                ServiceCategory.active.is_(True),
                ServiceCategory.public.is_(True),
            )
        )
    if service is None:
        raise NotFoundException("no such service")
    return service


@get("/services/{code:str}")
async def service_form(request: Req, code: FromPath[str]) -> Response[str]:
    return await _show_form(request, await _service(_ctx(request), code))


# The submit forms check their CSRF token themselves: a token that lapsed while the citizen
# typed gives the form back filled in, with a fresh token, instead of a bare 403.
@post("/services/{code:str}", opt={"exclude_from_csrf": True})
async def service_submit(request: Req, code: FromPath[str]) -> Response[Any]:
    return await _submit(request, await _service(_ctx(request), code))


@get("/director")
async def director_form(request: Req) -> Response[str]:
    return await _show_form(request, None)


@post("/director", opt={"exclude_from_csrf": True})
async def director_submit(request: Req) -> Response[Any]:
    return await _submit(request, None)


def _decoded(secret: str, token: str) -> str | None:
    """The random part of a token made by Litestar's CSRF middleware, if its HMAC holds."""
    if not token or len(token) <= 64:
        return None
    raw, mac = token[:64], token[64:]
    return raw if compare_digest(mac, generate_csrf_hash(token=raw, secret=secret)) else None


def csrf_holds(request: Req, sent: str) -> bool:
    """The CSRF middleware's own check: the form's token and the cookie's, both signed by us
    and the same."""
    secret = _ctx(request).secret_key
    mine = _decoded(secret, request.cookies.get(CSRF_COOKIE, ""))
    theirs = _decoded(secret, sent)
    return mine is not None and theirs is not None and compare_digest(mine, theirs)


def _fresh_token(request: Req) -> Cookie:
    """A new CSRF token for the page about to be shown, and the cookie that goes with it."""
    ctx = _ctx(request)
    token = generate_csrf_token(secret=ctx.secret_key)
    ScopeState.from_scope(request.scope).csrf_token = token
    return Cookie(
        key=CSRF_COOKIE,
        value=token,
        samesite="lax",
        secure=ctx.settings.url.startswith("https"),
    )


async def _submit(request: Req, service: ServiceCategory | None) -> Response[Any]:
    ctx = _ctx(request)
    form = await read_form(request)
    fields = form.fields
    if any(v.strip() for v in fields.get("website", [])):
        # The honeypot: people never see this field, robots fill it. Say nothing useful.
        return Redirect("/", status_code=303)
    if not csrf_holds(request, form.one("_csrf_token")):
        # Lapsed (a browser restarted, a cookie cleared): nothing is lost; files asked again.
        kept = {k: v for k, v in fields.items() if k not in ("_csrf_token", "website")}
        cookie = _fresh_token(request)
        response = await _show_form(request, service, values=kept, status=403, expired=True)
        response.cookies.append(cookie)
        return response
    if form.problem is not None:
        problem = form.problem
        return await _show_form(request, service, values=fields, problems=[problem], status=400)
    outcome = await submit_form(
        ctx,
        fields,
        form.files,
        service=service,
        language=request_language(request),
        address=_address(request),
    )
    if outcome.problems:
        status = refusal_status(outcome.problems)
        return await _show_form(
            request, service, values=fields, problems=outcome.problems, status=status
        )
    number = str(outcome.tracking_number)
    _remember(
        request, "receipts", number, {"code": outcome.lookup_code, "director": service is None}
    )
    _remember(request, "verified_cases", number, True)  # they hold the code: it is theirs
    return Redirect(f"/receipt/{number}", status_code=303)


def _number(raw: str) -> str:
    number = tracking.clean(text.nfkc(raw))
    if not tracking.is_valid(number):
        raise NotFoundException("no such case")
    return number


@get("/receipt")
async def receipt_latest(request: Req) -> Response[Any]:
    """The last receipt of this browser (an older address; receipts have their own now)."""
    kept = (request.session.get("receipts") or {}) if request.session else {}
    if not kept:
        return Redirect("/", status_code=303)
    return Redirect(f"/receipt/{list(kept)[-1]}", status_code=303)


@get("/receipt/{number:str}")
async def receipt(request: Req, number: FromPath[str]) -> Response[Any]:
    """The receipt, at its own address: shown again on a reload in the browser that sent the
    case; anyone else is asked for the lookup code on the case page."""
    number = _number(number)
    shown = ((request.session.get("receipts") or {}) if request.session else {}).get(number)
    if not shown:
        return Redirect(f"/cases/{number}", status_code=303)
    ctx = _ctx(request)
    case = await find_case(ctx.db, number)
    if case is None:
        raise NotFoundException("no such case")
    return page(
        request,
        "portal/receipt.html",
        receipt={"number": number, "code": shown["code"], "director": shown["director"]},
        copy=await receipt_copy(ctx, number),
        case_address=(ctx.settings.public_url or str(request.base_url)).rstrip("/")
        + f"/cases/{number}",
        deadline=case.reply_deadline,
        private=True,
    )


@get("/track")
async def track_form(request: Req) -> Response[str]:
    return page(request, "portal/track.html", values={}, error=None, number=None)


async def _verify(request: Req, number: str | None) -> Response[Any]:
    """Check the number and the second factor; then to the case's own page."""
    ctx = _ctx(request)
    form = await read_form(request)
    factor, name = form.one("factor"), form.one("name")
    pending = form.one("pending_text")[:20_000]
    given = number or form.one("number")
    shown = {"number": given[:200], "name": name[:200]}
    if form.problem is not None or max(len(given), len(factor), len(name)) > 200:
        return page(
            request,
            "portal/track.html",
            values=shown,
            error="not_text",
            number=number,
            pending=pending,
            status=400,
        )
    try:
        case, _events = await verified_timeline(
            ctx.db,
            ctx.secret_key,
            given,
            factor,
            _address(request),
            second=name,
            limits=LookupLimits.from_settings(ctx.settings),
        )
    except LookupRefused as refused:
        return page(
            request,
            "portal/track.html",
            values=shown,
            error=refused.code,
            wait=refused.wait_seconds,
            number=number,
            pending=pending,
            status=LOOKUP_STATUS.get(refused.code, 404),
        )
    request.session["verified"] = case.tracking_number
    _remember(request, "verified_cases", case.tracking_number, True)
    if pending:
        request.session["pending_text"] = pending
    return Redirect(f"/cases/{case.tracking_number}", status_code=303)


@post("/track")
async def track_submit(request: Req) -> Response[Any]:
    return await _verify(request, None)


async def _verified(request: Req) -> str | None:
    number = request.session.get("verified") if request.session else None
    return str(number) if number else None


@get("/track/case")
async def track_case(request: Req) -> Response[Any]:
    """The last case looked up in this browser (the older address)."""
    ctx = _ctx(request)
    number = await _verified(request)
    if number is None:
        return Redirect("/track", status_code=303)
    return await _case_page(request, ctx, number)


@get("/cases/{number:str}")
async def case_page(request: Req, number: FromPath[str]) -> Response[Any]:
    """A case at its own address: shown to the browser that sent it or gave its lookup code;
    anyone else is asked for the code."""
    number = _number(number)
    if not _is_verified(request, number):
        return page(
            request,
            "portal/track.html",
            values={},
            error=None,
            number=number,
            private=True,
        )
    notice = request.query_params.get("notice")
    return await _case_page(
        request, _ctx(request), number, notice=notice if notice in ("added", "rated") else None
    )


@post("/cases/{number:str}")
async def case_unlock(request: Req, number: FromPath[str]) -> Response[Any]:
    return await _verify(request, _number(number))


async def _case_page(
    request: Req,
    ctx: AppContext,
    number: str,
    *,
    problems: list[Problem] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response[str]:
    found = await public_timeline(ctx.db, number)
    if found is None:
        raise NotFoundException("no such case")
    case, events = found
    async with ctx.db.session() as session:
        names = {d.code: d for d in await session.scalars(select(Department))}
        service = await session.get(ServiceCategory, case.category_id) if case.category_id else None
    language = request_language(request)
    written = await what_they_wrote(
        ctx, case, list(service.attributes or []) if service else [], language == "zh_CN"
    )
    pending = request.session.pop("pending_text", None) if request.session else None
    return page(
        request,
        "portal/case.html",
        case=case,
        events=events,
        departments=names,
        service=service,
        written=written,
        pending=pending,
        can_rate=case.status in (CaseStatus.ANSWERED, CaseStatus.CLOSED) and not case.satisfaction,
        problems=problems or [],
        notice=notice,
        status=status,
        private=True,
    )


@post("/track/case/info")
async def add_info(request: Req) -> Response[Any]:
    return await _follow_up(request, await _verified(request), rating=False)


@post("/track/case/rate")
async def rate(request: Req) -> Response[Any]:
    return await _follow_up(request, await _verified(request), rating=True)


@post("/cases/{number:str}/info")
async def case_add_info(request: Req, number: FromPath[str]) -> Response[Any]:
    return await _follow_up(request, _number(number), rating=False, own_address=True)


@post("/cases/{number:str}/rate")
async def case_rate(request: Req, number: FromPath[str]) -> Response[Any]:
    return await _follow_up(request, _number(number), rating=True, own_address=True)


async def _follow_up(
    request: Req, number: str | None, *, rating: bool, own_address: bool = False
) -> Response[Any]:
    ctx = _ctx(request)
    form = await read_form(request)
    if number is None or (not _is_verified(request, number) and own_address):
        # The session lapsed while they typed: ask for the code again, keep what they wrote.
        if number is None:
            return Redirect("/track", status_code=303)
        return page(
            request,
            "portal/track.html",
            values={},
            error="expired",
            number=number,
            pending=form.one("text")[:20_000],
            status=401,
            private=True,
        )
    if form.problem is not None:
        return await _case_page(request, ctx, number, problems=[form.problem], status=400)
    fields = form.fields
    text = (fields.get("text") or [""])[0].strip()
    data: dict[str, Any] = {
        "channel": "web",
        "tracking_number": number,
        "text": text,
        "language": request_language(request),
        "address": _address(request),
    }
    if rating:
        data["rating"] = {"satisfaction": (fields.get("satisfaction") or [""])[0], "comment": text}
    try:
        await receive(ctx, parse_submission(data))
    except IntakeRefused as refused:
        status = refusal_status(refused.problems)
        return await _case_page(request, ctx, number, problems=refused.problems, status=status)
    if own_address:
        done = "rated" if rating else "added"
        return Redirect(f"/cases/{number}?notice={done}", status_code=303)
    return await _case_page(request, ctx, number, notice="rated" if rating else "added")


@get("/nearby")
async def nearby(request: Req) -> Response[str]:
    """Recent public reports near a place (only what their senders agreed to publish)."""
    ctx = _ctx(request)
    lat = _coordinate(request.query_params.get("lat"), 90)
    lon = _coordinate(request.query_params.get("lon"), 180)
    fragment = request.query_params.get("fragment") == "1"
    reports = []
    if lat is not None and lon is not None:
        reports = await reports_near(ctx, lat, lon, request_language(request) == "zh_CN")
    else:
        lat = lon = None
    template = "portal/nearby_list.html" if fragment else "portal/nearby.html"
    return page(request, template, lat=lat, lon=lon, reports=reports, fragment=fragment)


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
