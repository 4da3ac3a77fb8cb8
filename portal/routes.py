"""The citizens' portal pages: submit a case (per service, or to the director's mailbox), the
receipt, look a case up with a second factor, add information, rate the answer, read guides.

Every form carries a CSRF token and a honeypot field; posts are rate-limited per address; a
submission goes through the web channel (channels/web) to the one intake.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ASGIApp
from sqlalchemy import select

from hotline.channels.web import submit_form
from hotline.channels.web.inbound import CITIZEN_KINDS
from hotline.core.cases.lookup import (
    LookupLimits,
    LookupRefused,
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

Req = Request[Any, Any, Any]
LOOKUP_STATUS = {"too_many_attempts": 429, "wait": 429, "name_needed": 400}


def _ctx(request: Req) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _address(request: Req) -> str:
    return request.client.host if request.client else "unknown"


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
    return render(request, "portal/home.html", services=await public_services(ctx), pages=pages)


async def _show_form(
    request: Req,
    service: ServiceCategory | None,
    *,
    values: dict[str, list[str]] | None = None,
    problems: list[Problem] | None = None,
    status: int = 200,
) -> Response[str]:
    return render(
        request,
        "portal/submit.html",
        service=service,
        director=service is None,
        values=values or {},
        problems={p.field: p for p in problems or []},
        problem_list=problems or [],
        kinds=[k.value for k in CITIZEN_KINDS],
        max_files=_ctx(request).settings.max_attachments,
        max_mb=_ctx(request).settings.max_attachment_bytes // (1024 * 1024),
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


@post("/services/{code:str}")
async def service_submit(request: Req, code: FromPath[str]) -> Response[Any]:
    return await _submit(request, await _service(_ctx(request), code))


@get("/director")
async def director_form(request: Req) -> Response[str]:
    return await _show_form(request, None)


@post("/director")
async def director_submit(request: Req) -> Response[Any]:
    return await _submit(request, None)


async def _submit(request: Req, service: ServiceCategory | None) -> Response[Any]:
    ctx = _ctx(request)
    form = await read_form(request)
    fields = form.fields
    if any(v.strip() for v in fields.get("website", [])):
        # The honeypot: people never see this field, robots fill it. Say nothing useful.
        return Redirect("/", status_code=303)
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
    request.session["receipt"] = {
        "number": outcome.tracking_number,
        "code": outcome.lookup_code,
        "director": service is None,
    }
    return Redirect("/receipt", status_code=303)


@get("/receipt")
async def receipt(request: Req) -> Response[Any]:
    shown = request.session.pop("receipt", None) if request.session else None
    if not shown:
        return Redirect("/", status_code=303)
    return render(request, "portal/receipt.html", receipt=shown)


@get("/track")
async def track_form(request: Req) -> Response[str]:
    return render(request, "portal/track.html", values={}, error=None)


@post("/track")
async def track_submit(request: Req) -> Response[Any]:
    ctx = _ctx(request)
    form = await read_form(request)
    number, factor, name = form.one("number"), form.one("factor"), form.one("name")
    if form.problem is not None or max(len(number), len(factor), len(name)) > 200:
        return render(
            request,
            "portal/track.html",
            values={"number": number[:200], "name": name[:200]},
            error="not_text",
            status=400,
        )
    try:
        case, _events = await verified_timeline(
            ctx.db,
            ctx.secret_key,
            number,
            factor,
            _address(request),
            second=name,
            limits=LookupLimits.from_settings(ctx.settings),
        )
    except LookupRefused as refused:
        return render(
            request,
            "portal/track.html",
            values={"number": number, "name": name},
            error=refused.code,
            wait=refused.wait_seconds,
            status=LOOKUP_STATUS.get(refused.code, 404),
        )
    request.session["verified"] = case.tracking_number
    return Redirect("/track/case", status_code=303)


async def _verified(request: Req) -> str | None:
    number = request.session.get("verified") if request.session else None
    return str(number) if number else None


@get("/track/case")
async def track_case(request: Req) -> Response[Any]:
    ctx = _ctx(request)
    number = await _verified(request)
    if number is None:
        return Redirect("/track", status_code=303)
    return await _case_page(request, ctx, number)


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
    return render(
        request,
        "portal/case.html",
        case=case,
        events=events,
        departments=names,
        service=service,
        can_rate=case.status in (CaseStatus.ANSWERED, CaseStatus.CLOSED) and not case.satisfaction,
        problems=problems or [],
        notice=notice,
        status=status,
    )


@post("/track/case/info")
async def add_info(request: Req) -> Response[Any]:
    return await _follow_up(request, rating=False)


@post("/track/case/rate")
async def rate(request: Req) -> Response[Any]:
    return await _follow_up(request, rating=True)


async def _follow_up(request: Req, *, rating: bool) -> Response[Any]:
    ctx = _ctx(request)
    number = await _verified(request)
    if number is None:
        return Redirect("/track", status_code=303)
    form = await read_form(request)
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
    return await _case_page(request, ctx, number, notice="rated" if rating else "added")


@get("/info")
async def info_index(request: Req) -> Response[str]:
    pages = await _published_pages(_ctx(request))
    return render(request, "portal/info_index.html", pages=pages)


@get("/info/{slug:str}")
async def info_page(request: Req, slug: FromPath[str]) -> Response[str]:
    ctx = _ctx(request)
    slug = text.nfkc(slug).strip()
    if not _CODE.match(slug):
        raise NotFoundException("no such page")
    async with ctx.db.session() as session:
        page = await session.scalar(select(Page).where(Page.slug == slug, Page.published.is_(True)))
    if page is None:
        raise NotFoundException("no such page")
    return render(request, "portal/info_page.html", page=page)


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
        cookie_name="hotline_csrf",
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
            receipt,
            track_form,
            track_submit,
            track_case,
            add_info,
            rate,
            info_index,
            info_page,
        ],
        middleware=portal_middleware(
            ctx, store="portal_forms", posts_per_minute=ctx.settings.form_posts_per_minute
        ),
        include_in_schema=False,
    )
