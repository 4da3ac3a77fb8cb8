"""The endpoint Kannel's smsbox calls for each text a phone sends (its ``get-url`` or
``post-url``). Protected by a shared secret in the URL and the addresses allowed to call;
each number may send so many texts an hour. What the endpoint answers, smsbox sends back to
the phone as an SMS: the answer to STOP and to a status question; nothing for a message (the
acknowledgement goes out through the outbox). A refused call answers 200 with nothing, so
smsbox does not retry junk; the log line names the reason, never the number or the text."""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, route
from sqlalchemy import select

from hotline.core.cases.citizens import opt_out
from hotline.core.cases.contacts import InvalidContact, normalise_phone
from hotline.core.cases.lookup import (
    LookupLimits,
    LookupRefused,
    awaiting_evaluation,
    verified_timeline,
)
from hotline.core.intake.held import hold_message
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused
from hotline.core.people import attempts
from hotline.core.reference import labels
from hotline.core.reference.labels import N_
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import from_networks
from hotline.core.storage.enums import ContactKind
from hotline.core.storage.models.cases import Case

from .inbound import (
    CHANNEL,
    IncomingSms,
    SmsRefused,
    is_stop,
    parse_mo,
    rating_of,
    rating_submission,
    status_question,
    to_submission,
)
from .outbound import UCS2, encoding_of
from .reports import Report, record

log = logging.getLogger("hotline.channels.sms")
Req = Request[Any, Any, Any]
HOUR = timedelta(hours=1)


def _text(ctx: AppContext, language: str, message: str, **values: str) -> str:
    return (
        ctx.catalogs.get(language).gettext(message) % values
        if values
        else (ctx.catalogs.get(language).gettext(message))
    )


async def _over_limit(ctx: AppContext, sender: str, limit: int) -> bool:
    key = f"sms:{sender}"[:80]

    def check(session: Any) -> bool:
        if attempts.over_limit(session, {key: limit}, HOUR):
            return True
        attempts.record(session, [key])
        return False

    return bool(await ctx.db.run(check, write=True))


def _answer(text: str, status: int) -> Response[str]:
    """smsbox sends a text/plain body back to the phone (an empty one is not sent); Chinese goes
    as UCS-2, which smsbox takes from the X-Kannel-Coding header (``accept-x-kannel-headers``)
    and converts to from the body's charset (UTF-8, added by the response)."""
    headers = {"X-Kannel-Coding": "2"} if text and encoding_of(text) is UCS2 else {}
    return Response(text, status_code=status, media_type="text/plain", headers=headers)


def _gateway_allowed(ctx: AppContext, request: Req) -> bool:
    """The caller knows the shared secret and calls from an allowed address."""
    secret = ctx.settings.sms_shared_secret
    given = request.query_params.get("secret", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("sms call refused: wrong or missing secret")
        return False
    if not from_networks(request, ctx.settings.sms_networks):
        log.warning("sms call refused: address not allowed")
        return False
    return True


async def _evaluation(ctx: AppContext, sms: IncomingSms) -> str | None:
    """A reply of 1, 2 or 3 to an answer evaluates the sender's answered case (回访); the text
    to send back, or None when the text is not an evaluation of a waiting case."""
    satisfaction = rating_of(sms)
    if satisfaction is None:
        return None
    try:
        number = normalise_phone(sms.sender, ctx.settings.default_region)
    except InvalidContact:
        return None
    tracking_number = await awaiting_evaluation(ctx.db, ContactKind.PHONE, number)
    if tracking_number is None:
        return None
    result = await receive(ctx, rating_submission(sms, tracking_number, satisfaction))
    async with ctx.db.session() as session:
        language = await session.scalar(select(Case.language).where(Case.id == result.case_id))
    return _text(ctx, language or "zh_CN", N_("Thank you for your evaluation."))


@route("/channels/sms/kannel/mo", http_method=["GET", "POST"], include_in_schema=False)
async def kannel_mo(request: Req) -> Response[str]:
    ctx: AppContext = request.app.state.ctx
    if not _gateway_allowed(ctx, request):
        return _answer("", 403)
    body = await request.body() if request.method == "POST" else None
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        sms = parse_mo(query, dict(request.headers), body)
    except SmsRefused as refused:
        log.info("sms ignored", extra={"why": str(refused)})
        return _answer("", 200)
    if await _over_limit(ctx, sms.sender, ctx.settings.sms_per_number_per_hour):
        log.info("sms ignored", extra={"why": "over the per-number limit"})
        return _answer("", 200)
    language = "zh_CN" if any("\u4e00" <= c <= "\u9fff" for c in sms.text) else "en"
    if is_stop(sms):
        await opt_out(ctx, ContactKind.PHONE, sms.sender)
        reply = _text(ctx, language, N_("You will receive no more messages from the hotline."))
        return _answer(reply, 200)
    rated = await _evaluation(ctx, sms)
    if rated is not None:
        return _answer(rated, 200)
    question = status_question(sms)
    if question is not None:
        try:
            case, events = await verified_timeline(
                ctx.db,
                ctx.secret_key,
                question.tracking_number,
                question.factor,
                sms.sender,
                second=sms.sender,  # the sender's own number: the second fact with 4 digits
                limits=LookupLimits.from_settings(ctx.settings),
            )
        except LookupRefused:
            reply = _text(ctx, language, N_("No case matches that number and code."))
            return _answer(reply, 200)
        last = events[-1].action if events else "received"
        reply = _text(
            ctx,
            case.language,
            N_("Case %(number)s: %(status)s (%(last)s)."),
            number=question.tracking_number,
            status=_text(ctx, case.language, labels.STATUS.get(case.status, case.status)),
            last=_text(ctx, case.language, labels.EVENT.get(last, last)),
        )
        return _answer(reply, 200)
    try:
        await receive(ctx, to_submission(sms))
    except IntakeRefused as refused:
        raw = query.encode("latin-1") if body is None else body
        reason = "; ".join(f"{p.field}: {p.code}" for p in refused.problems)
        await hold_message(ctx, CHANNEL, raw, f"refused: {reason}", source="kannel")
    return _answer("", 200)


@get("/channels/sms/kannel/dlr", include_in_schema=False)
async def kannel_dlr(request: Req) -> Response[str]:
    """smsbox calls the dlr-url each answer part was sent with (see ``outbound``)."""
    ctx: AppContext = request.app.state.ctx
    if not _gateway_allowed(ctx, request):
        return _answer("", 403)
    query = request.query_params
    try:
        report = Report(
            interaction_id=int(query.get("id", "")),
            part=int(query.get("part", "")),
            of=int(query.get("of", "")),
            kind=int(query.get("type", "")),
            answer=str(query.get("answer", ""))[:200],
        )
    except ValueError:
        log.info("sms report ignored", extra={"why": "malformed"})
        return _answer("", 400)
    if not report.valid() or not await record(ctx, report):
        log.info("sms report ignored", extra={"why": "no such message or part"})
        return _answer("", 404)
    return _answer("", 200)
