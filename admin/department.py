"""The department's console: its to-do list (待办) and its cases, nothing else.

Officers see only cases their department has (lead or co-handling). The citizen's name and
contacts are masked; a case that needs a direct callback may be unmasked by a role allowed to
(``contact.unmask``), and every unmasking is audited. Steps: sign for, reply, return, ask for
an extension."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from hotline.core.cases.actions import ActionRefused
from hotline.core.cases.contacts import mask, mask_name
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import render
from hotline.core.storage.actors import Actor
from hotline.core.storage.files import ALLOWED_TYPES, sniff
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent, Citizen, ContactPoint
from hotline.core.storage.models.people import User
from hotline.core.storage.models.workflow import Assignment
from hotline.core.storage.paging import Page, keyset_page, sort_of
from hotline.core.workflow.access import department_holds
from hotline.core.workflow.common import ACTIVE
from hotline.core.workflow.dispatch import (
    StoredFile,
    do_department_reply,
    do_return,
    do_sign_for,
)
from hotline.core.workflow.oversight import do_request_extension

from .caseflow import load_flow
from .files import case_messages
from .guards import can, ctx_of, requires, staff_actor
from .workflow import Step, _int, _text, run_step
from .workspace import take_refusal

Req = Request[Any, Any, Any]
DUE_SOON = timedelta(days=1)


def _department_id(request: Req) -> int:
    user: User = request.scope["state"]["user"]
    if user.department_id is None:
        raise PermissionDeniedException("your account belongs to no department")
    return user.department_id


def bucket_conditions(soon: datetime) -> dict[str, list[Any]]:
    """The to-do buckets over a department's active assignments (also what their exports
    write, plugins/reports)."""
    return {
        "sign": [Assignment.state == "dispatched"],
        "handle": [Assignment.state == "accepted"],
        "soon": [
            or_(
                Assignment.overdue.is_(True),
                Assignment.warned_at.is_not(None),
                Assignment.reply_deadline < soon,
            )
        ],
        "sent_back": [Assignment.sent_back > 0, Assignment.state == "accepted"],
        "urged": [Assignment.urged > 0],
    }


@get("/console/department", guards=[requires(Permission.DEPARTMENT_HANDLE)])
async def todo(request: Req) -> Response[str]:
    """待办: to sign for, to handle, due soon, replies sent back, urged; then overdue."""
    department_id = _department_id(request)
    soon = utcnow() + DUE_SOON
    buckets = bucket_conditions(soon)
    order = request.query_params.get("order")
    pages: dict[str, Page[Any]] = {}
    async with ctx_of(request).db.session() as session:
        for name, conditions in buckets.items():
            pages[name] = await keyset_page(
                session,
                select(Assignment)
                .where(Assignment.department_id == department_id, Assignment.state.in_(ACTIVE))
                .where(*conditions)
                .options(joinedload(Assignment.case)),
                sort_of(order, Assignment.dispatched_at, Assignment.id, ascending=True),
                after=request.query_params.get(f"after_{name}"),
            )
    lists = {name: page.scalars() for name, page in pages.items()}
    params = {"order": order} if order in ("asc", "desc") else {}
    return render(request, "admin/department.html", lists=lists, pages=pages, params=params)


async def _case_of_mine(request: Req, number: str) -> tuple[Case, int]:
    department_id = _department_id(request)
    async with ctx_of(request).db.session() as session:
        case = await session.scalar(select(Case).where(Case.tracking_number == number))
        # the rights follow the open assignment: a case returned or finished is not read again
        mine = (
            case is not None
            and not case.sealed
            and await department_holds(session, case.id, department_id)
        )
    if case is None:
        raise NotFoundException("no such case")
    if not mine:
        raise PermissionDeniedException("this case is not with your department")
    return case, department_id


async def _page(request: Req, case: Case, department_id: int, *, unmasked: bool) -> Response[str]:
    async with ctx_of(request).db.session() as session:
        flow = await load_flow(session, case)
        messages = [m for m in await case_messages(session, case.id) if m.direction != "out"]
        citizen = await session.get(Citizen, case.citizen_id) if case.citizen_id else None
        contacts = list(
            await session.scalars(
                select(ContactPoint).where(ContactPoint.citizen_id == case.citizen_id)
            )
        )
    hidden = case.contact_hidden
    shown = [(c.kind, c.value if unmasked else mask(c.value)) for c in contacts if not hidden]
    name = "" if hidden or citizen is None else (citizen.name or "")
    mine = [a for a in flow.assignments if a.department_id == department_id]
    return render(
        request,
        "admin/department_case.html",
        case=case,
        flow=flow,
        mine=mine[-1] if mine else None,
        messages=messages,
        name=name if unmasked else mask_name(name),
        contacts=shown,
        unmasked=unmasked,
        may_unmask=case.direct_callback and not hidden and can(request, Permission.CONTACT_UNMASK),
        error=request.query_params.get("error"),
        reason=take_refusal(request),
        done=request.query_params.get("done"),
    )


@get("/console/department/cases/{number:str}", guards=[requires(Permission.DEPARTMENT_HANDLE)])
async def department_case(request: Req, number: FromPath[str]) -> Response[str]:
    case, department_id = await _case_of_mine(request, number)
    return await _page(request, case, department_id, unmasked=False)


@post(
    "/console/department/contact/{number:str}",
    guards=[requires(Permission.CONTACT_UNMASK)],
)
async def unmask(request: Req, number: FromPath[str]) -> Response[str]:
    """Show the citizen's contact for a direct callback, once, audited on the case and in the
    audit trail. Only for cases dispatched as needing a direct callback."""
    case, department_id = await _case_of_mine(request, number)
    if not case.direct_callback or case.contact_hidden:
        raise PermissionDeniedException("this case does not need a direct callback")
    actor = staff_actor(request)
    async with ctx_of(request).db.transaction() as session:
        detail = {"unmasked": True, "department_id": department_id}
        session.add(CaseEvent.by(actor, case.id, "personal_data_read", detail))
        audit(session, actor, "contact_unmasked", case.citizen_id, case=case.tracking_number)
    return await _page(request, case, department_id, unmasked=True)


async def _files(ctx: AppContext, form: FormMultiDict) -> list[StoredFile]:
    """The reply's files, each checked (count, size, a type the hotline accepts) before any is
    stored; a refusal stores nothing."""
    uploads = [f for f in form.getall("files", []) if isinstance(f, UploadFile) and f.filename]
    limit = ctx.settings.max_attachment_bytes
    if len(uploads) > ctx.settings.max_attachments:
        raise ActionRefused(f"at most {ctx.settings.max_attachments} files")
    checked = []
    for upload in uploads:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise ActionRefused(f"{upload.filename} is larger than {limit // 2**20} MiB")
        kind = sniff(data)
        if not data or kind not in ALLOWED_TYPES:
            raise ActionRefused(f"{upload.filename} is not a file type the hotline accepts")
        checked.append((upload.filename or "file", kind, data))
    stored = []
    for filename, kind, data in checked:
        digest = await anyio.to_thread.run_sync(ctx.files.put, data)
        stored.append(StoredFile(digest, len(data), kind, filename))
    return stored


def _for_department(request: Req) -> dict[str, Step]:
    department_id = _department_id(request)

    async def reply(ctx: AppContext, case: Case, form: FormMultiDict, actor: Actor) -> Any:
        text = _text(form, "reply")
        if not text.strip():
            raise ActionRefused("the reply is empty")
        files = await _files(ctx, form)
        return await do_department_reply(ctx, case.id, department_id, text, actor, files=files)

    return {
        "sign": lambda ctx, case, form, actor: do_sign_for(ctx, case.id, department_id, actor),
        "reply": reply,
        "return": lambda ctx, case, form, actor: do_return(
            ctx, case.id, department_id, _text(form, "reason"), actor
        ),
        "extension": lambda ctx, case, form, actor: do_request_extension(
            ctx, case.id, department_id, _int(form, "days"), _text(form, "reason"), actor
        ),
    }


@post(
    "/console/department/cases/{number:str}/{step:str}",
    guards=[requires(Permission.DEPARTMENT_HANDLE)],
)
async def department_step(
    request: Req, number: FromPath[str], step: FromPath[str]
) -> Response[Any]:
    case, _department = await _case_of_mine(request, number)
    return await run_step(
        request,
        number,
        _for_department(request),
        step,
        sealed=False,
        back=f"/console/department/cases/{number}",
        case=case,
    )
