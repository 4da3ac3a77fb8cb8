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

from litestar import Request, Response, route

from hotline.core import attempts, labels
from hotline.core.citizens import opt_out
from hotline.core.context import AppContext
from hotline.core.enums import ContactKind
from hotline.core.held import hold_message
from hotline.core.intake import receive
from hotline.core.lookup import LookupRefused, verified_timeline
from hotline.core.submission import IntakeRefused
from hotline.core.web import from_networks

from .inbound import CHANNEL, SmsRefused, is_stop, parse_mo, status_question, to_submission

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


@route("/channels/sms/kannel/mo", http_method=["GET", "POST"], include_in_schema=False)
async def kannel_mo(request: Req) -> Response[str]:
    ctx: AppContext = request.app.state.ctx
    secret = ctx.settings.sms_shared_secret
    given = request.query_params.get("secret", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning("sms call refused: wrong or missing secret")
        return Response("", status_code=403)
    if not from_networks(request, ctx.settings.sms_networks):
        log.warning("sms call refused: address not allowed")
        return Response("", status_code=403)
    body = await request.body() if request.method == "POST" else None
    query = request.scope.get("query_string", b"").decode("latin-1")
    try:
        sms = parse_mo(query, dict(request.headers), body)
    except SmsRefused as refused:
        log.info("sms ignored", extra={"why": str(refused)})
        return Response("", status_code=200)
    if await _over_limit(ctx, sms.sender, ctx.settings.sms_per_number_per_hour):
        log.info("sms ignored", extra={"why": "over the per-number limit"})
        return Response("", status_code=200)
    language = "zh_CN" if any("\u4e00" <= c <= "\u9fff" for c in sms.text) else "en"
    if is_stop(sms):
        await opt_out(ctx, ContactKind.PHONE, sms.sender)
        reply = _text(ctx, language, "You will receive no more messages from the hotline.")
        return Response(reply, status_code=200)
    question = status_question(sms)
    if question is not None:
        try:
            case, events = await verified_timeline(
                ctx.db, ctx.secret_key, question.tracking_number, question.factor, sms.sender
            )
        except LookupRefused:
            reply = _text(ctx, language, "No case matches that number and code.")
            return Response(reply, status_code=200)
        last = events[-1].action if events else "received"
        reply = _text(
            ctx,
            case.language,
            "Case %(number)s: %(status)s (%(last)s).",
            number=question.tracking_number,
            status=_text(ctx, case.language, labels.STATUS.get(case.status, case.status)),
            last=_text(ctx, case.language, labels.EVENT.get(last, last)),
        )
        return Response(reply, status_code=200)
    try:
        await receive(ctx, to_submission(sms))
    except IntakeRefused as refused:
        raw = query.encode("latin-1") if body is None else body
        reason = "; ".join(f"{p.field}: {p.code}" for p in refused.problems)
        await hold_message(ctx, CHANNEL, raw, f"refused: {reason}", source="kannel")
    return Response("", status_code=200)
