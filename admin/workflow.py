"""The hotline's workflow steps on a case, from the case workspace: dispatch, review, evaluation,
close, reopen, merge, link, split (agents: ``case.edit``); urging, supervision and extension
decisions (supervisors: ``supervise``). Letters to the director take the same answers from the
director's office, on their own sealed route. A refused step changes nothing and says why."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from hotline.core.cases.actions import ActionRefused, do_answer
from hotline.core.people.permissions import Permission
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import Satisfaction
from hotline.core.storage.models.cases import Case
from hotline.core.workflow.closing import do_close, do_evaluate, do_reopen
from hotline.core.workflow.dispatch import do_dispatch, do_review
from hotline.core.workflow.linking import do_link, do_merge, do_split
from hotline.core.workflow.oversight import do_decide_extension, do_supervise, do_urge

from .guards import ctx_of, requires, staff_actor
from .workspace import REFUSAL, _open

Req = Request[Any, Any, Any]
Step = Callable[[AppContext, Case, FormMultiDict, Actor], Awaitable[Any]]


def _text(form: FormMultiDict, name: str) -> str:
    return str(form.get(name, ""))


def _int(form: FormMultiDict, name: str) -> int:
    """A whole number from the form, one the database can hold (an id, a count of days)."""
    value = str(form.get(name, "")).strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", value):
        raise ActionRefused(f"{name} must be a number")
    return int(value)


def _satisfaction(form: FormMultiDict) -> Satisfaction:
    try:
        return Satisfaction(_text(form, "satisfaction"))
    except ValueError as exc:
        raise ActionRefused("choose how satisfied the citizen is") from exc


async def _dispatch(ctx: AppContext, case: Case, form: FormMultiDict, actor: Actor) -> Any:
    co = [str(c) for c in form.getall("co", []) if c]
    return await do_dispatch(
        ctx,
        case.id,
        _text(form, "department"),
        actor,
        co=co,
        instructions=_text(form, "instructions"),
        direct_callback=form.get("direct_callback") == "on",
    )


async def _review(ctx: AppContext, case: Case, form: FormMultiDict, actor: Actor) -> Any:
    accept = _text(form, "decision") == "accept"
    return await do_review(
        ctx, case.id, accept, actor, reason=_text(form, "reason"), answer=_text(form, "answer")
    )


async def _evaluate(ctx: AppContext, case: Case, form: FormMultiDict, actor: Actor) -> Any:
    return await do_evaluate(
        ctx,
        case.id,
        _satisfaction(form),
        actor,
        via=_text(form, "via") or "call",
        comment=_text(form, "comment"),
    )


HOTLINE_STEPS: dict[str, Step] = {
    "dispatch": _dispatch,
    "review": _review,
    "evaluate": _evaluate,
    "close": lambda ctx, case, form, actor: do_close(
        ctx, case.id, actor, reason=_text(form, "reason")
    ),
    "reopen": lambda ctx, case, form, actor: do_reopen(ctx, case.id, _text(form, "reason"), actor),
    "merge": lambda ctx, case, form, actor: do_merge(ctx, case.id, _text(form, "into"), actor),
    "link": lambda ctx, case, form, actor: do_link(ctx, case.id, _text(form, "other"), actor),
    "split": lambda ctx, case, form, actor: do_split(
        ctx, case.id, _text(form, "text"), _text(form, "category"), actor
    ),
}

SUPERVISOR_STEPS: dict[str, Step] = {
    "urge": lambda ctx, case, form, actor: do_urge(ctx, case.id, _text(form, "text"), actor),
    "supervise": lambda ctx, case, form, actor: do_supervise(
        ctx, case.id, _text(form, "note"), actor
    ),
    "unsupervise": lambda ctx, case, form, actor: do_supervise(
        ctx, case.id, _text(form, "note"), actor, on=False
    ),
    "extension": lambda ctx, case, form, actor: do_decide_extension(
        ctx, case.id, _int(form, "department_id"), _text(form, "decision") == "approve", actor
    ),
}

# the director's office answers its letters itself: no dispatch, no merge or split
MAILBOX_STEPS: dict[str, Step] = {
    "answer": lambda ctx, case, form, actor: do_answer(ctx, case.id, _text(form, "answer"), actor),
    **{k: HOTLINE_STEPS[k] for k in ("evaluate", "close", "reopen", "link")},
}


async def run_step(
    request: Req,
    number: str,
    steps: dict[str, Step],
    step: str,
    *,
    sealed: bool,
    back: str,
    case: Case | None = None,
) -> Response[Any]:
    """Run one step on the case (opened here unless the caller has it already); back to the
    case page, with the refusal's reason when refused."""
    if step not in steps:
        raise NotFoundException("no such step")
    if case is None:
        case = await _open(request, number, sealed=sealed)
    form = await request.form()
    try:
        await steps[step](ctx_of(request), case, form, staff_actor(request))
    except ActionRefused as refused:
        # The reason goes by the session, never the link: a page shows no text a link brought.
        request.session[REFUSAL] = str(refused)[:500]
        return Redirect(f"{back}?error={quote(step, safe='')}", status_code=303)
    return Redirect(f"{back}?done={step}", status_code=303)


@post("/console/cases/{number:str}/workflow/{step:str}", guards=[requires(Permission.CASE_EDIT)])
async def hotline_step(request: Req, number: FromPath[str], step: FromPath[str]) -> Response[Any]:
    return await run_step(
        request, number, HOTLINE_STEPS, step, sealed=False, back=f"/console/cases/{number}"
    )


@post("/console/cases/{number:str}/supervision/{step:str}", guards=[requires(Permission.SUPERVISE)])
async def supervisor_step(
    request: Req, number: FromPath[str], step: FromPath[str]
) -> Response[Any]:
    return await run_step(
        request, number, SUPERVISOR_STEPS, step, sealed=False, back=f"/console/cases/{number}"
    )


@post(
    "/console/mailbox/{number:str}/workflow/{step:str}",
    guards=[requires(Permission.DIRECTOR_MAILBOX, audit_refusal=True)],
)
async def mailbox_step(request: Req, number: FromPath[str], step: FromPath[str]) -> Response[Any]:
    return await run_step(
        request, number, MAILBOX_STEPS, step, sealed=True, back=f"/console/mailbox/{number}"
    )
