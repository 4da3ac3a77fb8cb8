"""The agent's queue screen: their state, their offers and contacts, what waits in their skill
groups (with waiting time), and a live stream that pushes offers to the screen."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.exceptions import ClientException
from litestar.params import FromPath
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage
from sqlalchemy import select

from hotline.core.axd import state as axd_state
from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.enums import AgentState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from hotline.plugins.distribution import SWEEP_JOB, finish_contact

from .desktop import away_reasons, worklist
from .guards import ctx_of, requires
from .triage import priority_labeller, triage_table

Req = Request[Any, Any, Any]


def _user(request: Req) -> User:
    user: User = request.scope["state"]["user"]
    return user


async def _screen(request: Req) -> dict[str, Any]:
    ctx = ctx_of(request)
    desk = await worklist(request, next_up=False)
    skills = set((desk["presence"].skills if desk["presence"] else {}) or {})
    return {
        "desk": desk,
        "triage": await triage_table(ctx, request, skills),
        "done": request.query_params.get("done"),
        "did": request.query_params.get("did"),
        "case_number": request.query_params.get("case"),
        "case_priority_label": priority_labeller(request),
    }


@get("/console/queue", guards=[requires(Permission.QUEUE_WORK)])
async def queue_screen(request: Req) -> Response[str]:
    return render(
        request, "admin/queue.html", block="queue", user=_user(request), **await _screen(request)
    )


@post("/console/state", guards=[requires(Permission.QUEUE_WORK)])
async def change_state(request: Req) -> Response[Any]:
    form = await request.form()
    state = str(form.get("state", ""))
    reason = str(form.get("reason", "")) or None
    ctx, user = ctx_of(request), _user(request)
    if state not in {s.value for s in AgentState} or (
        state == AgentState.AWAY and reason not in dict(await away_reasons(ctx, "en"))
    ):
        raise ClientException("unknown state")
    await axd_state.set_state(ctx, user.id, AgentState(state), reason=reason)
    if state == AgentState.AVAILABLE:  # what waits is offered now, not at the next sweep
        await ctx.jobs.aenqueue(SWEEP_JOB)
    return Redirect(f"/console/queue?did=state-{state}", status_code=303)


@post("/console/queue/{item_id:int}/{action:str}", guards=[requires(Permission.QUEUE_WORK)])
async def item_action(request: Req, item_id: FromPath[int], action: FromPath[str]) -> Response[Any]:
    ctx, user = ctx_of(request), _user(request)
    if action in ("accept", "pick"):
        ok = await axd_state.accept(ctx, item_id, user.id)
    elif action == "decline":
        ok = await axd_state.decline(ctx, item_id, user.id)
    elif action == "done":
        ok = await finish_contact(ctx, item_id, user.id)
    else:
        raise ClientException("unknown action")
    if not ok:
        return render(
            request,
            "admin/queue.html",
            block="queue",
            user=user,
            notice="taken",
            **await _screen(request),
            status=409,
        )
    async with ctx.db.session() as session:
        number = await session.scalar(
            select(Case.tracking_number)
            .join(QueueItem, QueueItem.case_id == Case.id)
            .where(QueueItem.id == item_id)
        )
    did = {"pick": "accept"}.get(action, action)
    return Redirect(f"/console/queue?did={did}&case={number or ''}", status_code=303)


@get("/console/stream", guards=[requires(Permission.QUEUE_WORK)])
async def stream(request: Req) -> ServerSentEvent:
    """Server-sent events: this agent's offers, and a nudge whenever the queue changes."""
    agent_id = _user(request).id
    channels = request.app.plugins.get(ChannelsPlugin)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        yield ServerSentEventMessage(event="hello", data=json.dumps({"agent_id": agent_id}))
        async with channels.start_subscription([QUEUE_CHANNEL]) as subscriber:
            async for raw in subscriber.iter_events():
                event = json.loads(raw)
                kind = event.get("type")
                if kind == "offer" and event.get("agent_id") == agent_id:
                    yield ServerSentEventMessage(event="offer", data=json.dumps(event))
                elif kind in ("queue_changed", "assigned", "offer"):
                    yield ServerSentEventMessage(event="queue", data="{}")

    return ServerSentEvent(events())
