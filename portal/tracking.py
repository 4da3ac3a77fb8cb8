"""A citizen's own case: the receipt and the case page at their own address, the lookup that
opens them, and what a citizen adds to a case (more information, an evaluation)."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from hotline.core.cases.lookup import (
    LookupLimits,
    LookupRefused,
    find_case,
    lookup_code,
    public_timeline,
    verified_timeline,
)
from hotline.core.foundation import text
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused, Problem, parse_submission
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import request_language
from hotline.core.shell.webforms import read_form, refusal_status
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.reference import Department, ServiceCategory
from hotline.portal.pages import (
    BY_CODE,
    BY_PHONE,
    Req,
    _address,
    _ctx,
    _is_verified,
    _number,
    _remember,
    _sees_words,
    page,
)

from .citizen import receipt_copy, what_they_wrote

LOOKUP_STATUS = {"too_many_attempts": 429, "wait": 429, "name_needed": 400}


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
    by_code = hmac.compare_digest(
        text.code(factor)[:32], lookup_code(ctx.secret_key, case.tracking_number)
    )
    _remember(request, "verified_cases", case.tracking_number, BY_CODE if by_code else BY_PHONE)
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
    written = None
    if _sees_words(request, number):  # the weaker route: status and dates only
        written = await what_they_wrote(
            ctx, case, list(service.attributes or []) if service else [], language == "zh_CN"
        )
    else:
        service, names = None, {}
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
