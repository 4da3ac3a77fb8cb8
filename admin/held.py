"""Held messages (needs attention): what a channel could not turn into a case, with the reason.
A person reads the message as it came (text, sandboxed), has the channel try it again, makes
a case of it by hand, or dismisses it (spam). Reading one is audited.

What the director's mailbox could not read is a letter to the director all the same: it is
held for the director's office alone (``/console/office/held``), never shown to the hotline's
agents; a case made of it is a sealed letter."""

from __future__ import annotations

import inspect
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from hotline.channels.email.charsets import decode_text
from hotline.core.intake.held import resolve
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused, Submission
from hotline.core.people.audit import audit
from hotline.core.people.office import SEALED_HELD_SOURCES
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.enums import CaseKind
from hotline.core.storage.models.intake import HeldMessage
from hotline.core.storage.paging import keyset_page, page_size, sort_of

from .guards import ctx_of, record_refusal, requires, staff_actor

Req = Request[Any, Any, Any]


async def _held(request: Req, held_id: int, *, sealed: bool = False) -> tuple[HeldMessage, bytes]:
    """The held message, if it is of the kind this route serves (the director's office's own
    route serves the letters; the hotline's route everything else)."""
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        held = await session.get(HeldMessage, held_id)
    if held is None:
        raise NotFoundException("no such held message")
    if (held.source in SEALED_HELD_SOURCES) != sealed:
        if not sealed:  # a letter: the attempt is audited, answered like a message not there
            await record_refusal(request, request.scope["state"]["user"], "director_mailbox")
        raise NotFoundException("no such held message")
    raw = await anyio.to_thread.run_sync(ctx.files.get, held.sha256)
    return held, raw


def as_text(raw: bytes) -> str:
    """The message as text, by the mail channel's one decoding function (UTF-8, else a
    detector; a bad byte is one U+FFFD, never the whole message as mojibake)."""
    return decode_text(raw)


HOTLINE, OFFICE = "/console/held", "/console/office/held"


async def _list(request: Req, *, sealed: bool) -> Response[str]:
    where = HeldMessage.source.in_(SEALED_HELD_SOURCES)
    order = request.query_params.get("order")
    async with ctx_of(request).db.session() as session:
        page = await keyset_page(
            session,
            select(HeldMessage).where(HeldMessage.state == "waiting", where if sealed else ~where),
            sort_of(order, HeldMessage.created_at, HeldMessage.id, ascending=True),
            after=request.query_params.get("after"),
            size=page_size(request.query_params.get("size")),
        )
    return render(
        request,
        "admin/held.html",
        rows=page.scalars(),
        page=page,
        params={"order": order} if order in ("asc", "desc") else {},
        base=OFFICE if sealed else HOTLINE,
        done=request.query_params.get("done"),
        error=request.query_params.get("error"),
    )


async def _read(request: Req, held_id: int, *, sealed: bool) -> Response[str]:
    """The message as it came, as text (never rendered); the reading is audited."""
    held, raw = await _held(request, held_id, sealed=sealed)
    async with ctx_of(request).db.transaction() as session:
        audit(session, staff_actor(request), "held_message_read", None, held=held.id)
    return render(
        request,
        "admin/held_message.html",
        held=held,
        text=as_text(raw)[:200_000],
        base=OFFICE if sealed else HOTLINE,
        kinds=[CaseKind.DIRECTOR_MAILBOX]
        if sealed
        else [k for k in CaseKind if k != CaseKind.DIRECTOR_MAILBOX],
    )


@get("/console/held", guards=[requires(Permission.CASE_EDIT)])
async def held_list(request: Req) -> Response[str]:
    return await _list(request, sealed=False)


@get("/console/held/{held_id:int}", guards=[requires(Permission.CASE_EDIT)])
async def held_message(request: Req, held_id: FromPath[int]) -> Response[str]:
    return await _read(request, held_id, sealed=False)


@post("/console/held/{held_id:int}/{step:str}", guards=[requires(Permission.CASE_EDIT)])
async def held_step(request: Req, held_id: FromPath[int], step: FromPath[str]) -> Response[Any]:
    return await _step(request, held_id, step, sealed=False)


@get(OFFICE, guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)])
async def office_held_list(request: Req) -> Response[str]:
    """What the director's mailbox could not read: for the director's office alone."""
    return await _list(request, sealed=True)


@get(OFFICE + "/{held_id:int}", guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)])
async def office_held_message(request: Req, held_id: FromPath[int]) -> Response[str]:
    return await _read(request, held_id, sealed=True)


@post(
    OFFICE + "/{held_id:int}/{step:str}",
    guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)],
)
async def office_held_step(
    request: Req, held_id: FromPath[int], step: FromPath[str]
) -> Response[Any]:
    return await _step(request, held_id, step, sealed=True)


async def _step(request: Req, held_id: int, step: str, *, sealed: bool) -> Response[Any]:
    ctx, actor = ctx_of(request), staff_actor(request)
    held, raw = await _held(request, held_id, sealed=sealed)
    base = OFFICE if sealed else HOTLINE
    if held.state != "waiting":
        return Redirect(f"{base}?error=resolved", status_code=303)
    if step == "dismiss":
        await resolve(ctx, held.id, "dismissed", actor.label)
        return Redirect(f"{base}?done=dismiss", status_code=303)
    if step == "retry":
        # the channel that owns it reads it again (a newer parser, a setting fixed meanwhile)
        answer = ctx.pm.hook.process_held(
            ctx=ctx, channel=held.channel, raw=raw, source=held.source
        )
        if inspect.isawaitable(answer):
            answer = await answer
        if answer is None or answer == "held":
            return Redirect(f"{base}?error=retry", status_code=303)
        await resolve(ctx, held.id, "case", actor.label)
        return Redirect(f"{base}?done=retry", status_code=303)
    if step == "case":
        form = await request.form()
        text = str(form.get("text", "")).strip()
        # a letter stays a letter; the hotline's messages do not become letters
        kind = str(form.get("kind", CaseKind.COMPLAINT))
        if sealed:
            kind = CaseKind.DIRECTOR_MAILBOX
        elif kind not in {k.value for k in CaseKind} or kind == CaseKind.DIRECTOR_MAILBOX:
            kind = CaseKind.COMPLAINT
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
            return Redirect(f"{base}/{held.id}?error=case", status_code=303)
        await resolve(ctx, held.id, "case", actor.label, case_id=result.case_id)
        page = "/console/mailbox/" if sealed else "/console/cases/"
        return Redirect(f"{page}{result.tracking_number}", status_code=303)
    raise NotFoundException("no such step")
