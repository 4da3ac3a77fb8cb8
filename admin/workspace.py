"""The case workspace (screen pop): the case, the citizen and their whole history on one
screen, every earlier case and interaction across channels, newest first. Opening it is a read
of personal data, so it writes an audit event (who, when, which case, from which address).
Director's-mailbox cases open only for the director's office."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from hotline.core.cases.actions import ActionRefused, do_answer, do_classify, do_hand_over
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render, request_language
from hotline.core.storage.enums import CaseKind, QueueState, Satisfaction
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import (
    Case,
    CaseEvent,
    Citizen,
    ContactPoint,
    Interaction,
)
from hotline.core.storage.models.reference import ServiceCategory
from hotline.plugins.distribution import finish_contact

from .answers import service_answers
from .caseflow import load_flow
from .desktop import worklist
from .files import case_messages
from .guards import can, ctx_of, record_refusal, requires, staff_actor
from .reply_templates import templates_for

Req = Request[Any, Any, Any]
REFUSAL = "refusal"  # the session key run_step leaves a refused step's reason under


def take_refusal(request: Req) -> str:
    """Why the last step was refused, said once (set by ``run_step``)."""
    if not request.query_params.get("error") or "session" not in request.scope:
        return ""
    return str(request.session.pop(REFUSAL, "") or "")


async def _open(request: Req, number: str, *, sealed: bool) -> Case:
    """The case, if it is of the kind this route serves: the hotline's cases, or the sealed
    director's mailbox (its own route, for the director's office only)."""
    ctx = ctx_of(request)
    async with ctx.db.session() as session:
        case = await session.scalar(select(Case).where(Case.tracking_number == number))
    if case is None:
        raise NotFoundException("no such case")
    if case.sealed != sealed:
        if case.sealed:
            # the attempt is kept in the audit trail; the answer is the one for a number that
            # does not exist, so that nothing tells that this number is a letter
            await record_refusal(request, request.scope["state"]["user"], "director_mailbox")
            raise NotFoundException("no such case")
        raise PermissionDeniedException("this case is not yours to read")
    return case


@get("/console/cases/{number:str}", guards=[requires(Permission.CASE_READ)])
async def workspace(request: Req, number: FromPath[str]) -> Response[str]:
    return await _show(request, await _open(request, number, sealed=False))


@get(
    "/console/mailbox/{number:str}",
    guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)],
)
async def mailbox_letter(request: Req, number: FromPath[str]) -> Response[str]:
    """A letter to the director: only the director's office opens it (audited like any read)."""
    return await _show(request, await _open(request, number, sealed=True))


async def _show(request: Req, case: Case, *, glass: str = "") -> Response[str]:
    ctx = ctx_of(request)
    actor = staff_actor(request)
    async with ctx.db.transaction() as session:
        session.add(CaseEvent.by(actor, case.id, "personal_data_read"))
    async with ctx.db.session() as session:
        citizen = await session.get(Citizen, case.citizen_id) if case.citizen_id else None
        contacts = (
            list(
                await session.scalars(
                    select(ContactPoint).where(ContactPoint.citizen_id == case.citizen_id)
                )
            )
            if citizen
            else []
        )
        others = (
            Case.citizen_id == case.citizen_id,
            Case.id != case.id,
            Case.sealed.is_(False),
        )
        history = (
            list(
                await session.scalars(
                    select(Case).where(*others).order_by(Case.created_at.desc()).limit(50)
                )
            )
            if citizen
            else []
        )
        # every earlier message across channels, newest first
        earlier = (
            list(
                await session.execute(
                    select(Interaction, Case.tracking_number)
                    .join(Case, Case.id == Interaction.case_id)
                    .where(*others)
                    .order_by(Interaction.created_at.desc())
                    .limit(50)
                )
            )
            if citizen
            else []
        )
        interactions = await case_messages(session, case.id)
        services = list(
            await session.scalars(
                select(ServiceCategory)
                .where(ServiceCategory.active.is_(True))
                .order_by(ServiceCategory.code)
            )
        )
        flow = await load_flow(session, case)
        service = await session.get(ServiceCategory, case.category_id) if case.category_id else None
        language = request_language(request)
        replies = await templates_for(
            session,
            case,
            citizen.name if citizen else None,
            service.name(case.language or language) if service else "",
            case.language or (citizen.language if citizen else None) or language,
            language,
        )
    inbound = [m for m in reversed(interactions) if m.direction != "out"]
    chosen = next(
        (t for t in replies if str(t["id"]) == request.query_params.get("template")), None
    )
    desk = (
        await worklist(request, current=case.tracking_number)
        if can(request, Permission.QUEUE_WORK) and not case.sealed
        else None
    )
    return render(
        request,
        "admin/workspace.html",
        case=case,
        citizen=citizen,
        contacts=contacts,
        history=history,
        earlier=earlier,
        interactions=interactions,
        kinds=[k for k in CaseKind if k != CaseKind.DIRECTOR_MAILBOX],
        services=services,
        can_edit=can(request, Permission.CASE_EDIT),
        can_supervise=can(request, Permission.SUPERVISE),
        can_dial=bool(ctx.settings.phone_softphone_ws and ctx.settings.phone_trunk)
        and can(request, Permission.QUEUE_WORK)
        and not case.sealed,
        mailbox=case.sealed,
        glass=glass,
        flow=flow,
        answers=service_answers(service, inbound, language),
        first_words=inbound[0] if inbound else None,
        replies=replies,
        reply_text=chosen["body"] if chosen else "",
        desk=desk,
        satisfactions=list(Satisfaction),
        error=request.query_params.get("error"),
        reason=take_refusal(request),
        done=request.query_params.get("done"),
    )


@post("/console/cases/{number:str}/classify", guards=[requires(Permission.CASE_EDIT)])
async def classify(request: Req, number: FromPath[str]) -> Response[Any]:
    case = await _open(request, number, sealed=False)
    form = await request.form()
    kind = str(form.get("kind", "")) or None
    summary = form.get("summary")
    try:
        await do_classify(
            ctx_of(request),
            case.id,
            str(form.get("category", "")),
            staff_actor(request),
            kind=kind,
            summary=None if summary is None else str(summary),
        )
    except ActionRefused:
        return Redirect(f"/console/cases/{number}?error=classify", status_code=303)
    return Redirect(f"/console/cases/{number}", status_code=303)


async def _finish_my_contacts(request: Req, case: Case) -> None:
    """The agent's contacts on this case are done: their wrap-up starts."""
    ctx, user = ctx_of(request), request.scope["state"]["user"]
    async with ctx.db.session() as session:
        mine = list(
            await session.scalars(
                select(QueueItem.id).where(
                    QueueItem.case_id == case.id,
                    QueueItem.agent_id == user.id,
                    QueueItem.state == QueueState.ASSIGNED,
                )
            )
        )
    for item_id in mine:
        await finish_contact(ctx, item_id, user.id)


@post("/console/cases/{number:str}/answer", guards=[requires(Permission.CASE_EDIT)])
async def answer(request: Req, number: FromPath[str]) -> Response[Any]:
    """Answer on the spot: sent through the citizen's channel, the case closed."""
    case = await _open(request, number, sealed=False)
    form = await request.form()
    try:
        await do_answer(ctx_of(request), case.id, str(form.get("answer", "")), staff_actor(request))
    except ActionRefused:
        return Redirect(f"/console/cases/{number}?error=answer", status_code=303)
    await _finish_my_contacts(request, case)
    return Redirect(f"/console/queue?done={number}", status_code=303)


@post("/console/cases/{number:str}/hand-over", guards=[requires(Permission.CASE_EDIT)])
async def hand_over(request: Req, number: FromPath[str]) -> Response[Any]:
    """To the workflow: the case stays open with its classification, for dispatch."""
    case = await _open(request, number, sealed=False)
    try:
        await do_hand_over(ctx_of(request), case.id, staff_actor(request))
    except ActionRefused:
        return Redirect(f"/console/cases/{number}?error=hand_over", status_code=303)
    await _finish_my_contacts(request, case)
    return Redirect(f"/console/queue?done={number}", status_code=303)
