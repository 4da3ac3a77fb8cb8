"""Held messages (needs attention): what a channel could not turn into a case, with the reason.
A person reads the message as it came (text, sandboxed), has the channel try it again, makes
a case of it by hand, or dismisses it (spam). Reading one is audited."""

from __future__ import annotations

import inspect
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from hotline.core.audit import audit
from hotline.core.enums import CaseKind
from hotline.core.held import resolve
from hotline.core.intake import receive
from hotline.core.models import HeldMessage
from hotline.core.permissions import Permission
from hotline.core.submission import IntakeRefused, Submission
from hotline.core.web import render

from .guards import ctx_of, requires, staff_actor

Req = Request[Any, Any, Any]
LIMIT = 200


async def _held(request: Req, held_id: int) -> tuple[HeldMessage, bytes]:
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        held = await session.get(HeldMessage, held_id)
    if held is None:
        raise NotFoundException("no such held message")
    raw = await anyio.to_thread.run_sync(ctx.files.get, held.sha256)
    return held, raw


def as_text(raw: bytes) -> str:
    for charset in ("utf-8", "gb18030"):
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


@get("/console/held", guards=[requires(Permission.CASE_EDIT)])
async def held_list(request: Req) -> Response[str]:
    async with ctx_of(request).db.session() as session:
        rows = list(
            await session.scalars(
                select(HeldMessage)
                .where(HeldMessage.state == "waiting")
                .order_by(HeldMessage.created_at)
                .limit(LIMIT)
            )
        )
    return render(
        request,
        "admin/held.html",
        rows=rows,
        kinds=[k for k in CaseKind if k != CaseKind.DIRECTOR_MAILBOX],
        done=request.query_params.get("done"),
        error=request.query_params.get("error"),
    )


@get("/console/held/{held_id:int}", guards=[requires(Permission.CASE_EDIT)])
async def held_message(request: Req, held_id: FromPath[int]) -> Response[str]:
    """The message as it came, as text (never rendered); the reading is audited."""
    held, raw = await _held(request, held_id)
    async with ctx_of(request).db.transaction() as session:
        audit(session, staff_actor(request), "held_message_read", None, held=held.id)
    return render(request, "admin/held_message.html", held=held, text=as_text(raw)[:200_000])


@post("/console/held/{held_id:int}/{step:str}", guards=[requires(Permission.CASE_EDIT)])
async def held_step(request: Req, held_id: FromPath[int], step: FromPath[str]) -> Response[Any]:
    ctx, actor = ctx_of(request), staff_actor(request)
    held, raw = await _held(request, held_id)
    if held.state != "waiting":
        return Redirect("/console/held?error=resolved", status_code=303)
    if step == "dismiss":
        await resolve(ctx, held.id, "dismissed", actor.label)
        return Redirect("/console/held?done=dismiss", status_code=303)
    if step == "retry":
        # the channel that owns it reads it again (a newer parser, a setting fixed meanwhile)
        answer = ctx.pm.hook.process_held(
            ctx=ctx, channel=held.channel, raw=raw, source=held.source
        )
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None or answer == "held":
            return Redirect("/console/held?error=retry", status_code=303)
        await resolve(ctx, held.id, "case", actor.label)
        return Redirect("/console/held?done=retry", status_code=303)
    if step == "case":
        form = await request.form()
        text = str(form.get("text", "")).strip()
        kind = str(form.get("kind", CaseKind.COMPLAINT))
        contact = str(form.get("email", "")).strip()
        try:
            submission = Submission(
                channel=held.channel,
                external_id=f"held:{held.id}",
                kind=kind if kind in {k.value for k in CaseKind} else CaseKind.COMPLAINT,
                text=text,
                contacts=[{"kind": "email", "value": contact}] if contact else [],
                raw=raw,
                meta={"held": held.id, "made_by": actor.label},
            )
            result = await receive(ctx, submission)
        except (IntakeRefused, ValueError):
            return Redirect(f"/console/held/{held.id}?error=case", status_code=303)
        await resolve(ctx, held.id, "case", actor.label, case_id=result.case_id)
        return Redirect(f"/console/cases/{result.tracking_number}", status_code=303)
    raise NotFoundException("no such step")
