"""The forms citizens send: a service's form, a letter to the director; CSRF tokens that lapse
without losing what was typed; the submission through intake."""

from __future__ import annotations

from secrets import compare_digest
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.middleware.csrf import generate_csrf_hash, generate_csrf_token
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
from sqlalchemy import select

from hotline.channels.web import submit_form
from hotline.channels.web.inbound import CITIZEN_KINDS
from hotline.core.foundation import text
from hotline.core.intake.submission import Problem
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import request_language
from hotline.core.shell.webforms import read_form, refusal_status
from hotline.core.storage.models.reference import ServiceCategory
from hotline.portal.pages import (
    _CODE,
    BY_CODE,
    CSRF_COOKIE,
    Req,
    _address,
    _ctx,
    _remember,
    page,
)


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
    # the token held: a form sent back with its problems carries it on (this route is outside
    # the CSRF middleware, which would otherwise leave the page without one)
    ScopeState.from_scope(request.scope).csrf_token = form.one("_csrf_token")
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
    _remember(request, "verified_cases", number, BY_CODE)  # they hold the code: it is theirs
    return Redirect(f"/receipt/{number}", status_code=303)
