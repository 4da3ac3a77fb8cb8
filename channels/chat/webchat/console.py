"""The agent's side of web chat: the conversation page (transcript, a line to send, live
lines from the citizen by server-sent events) and ending the chat. Only the agent the AXD queue
assigned the chat to may write in it; team leaders (``queue.manage``) may watch."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.channels import ChannelsPlugin
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, ServerSentEvent
from sqlalchemy import select

from hotline.admin.guards import actor_of, ctx_of, record_refusal, requires
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render
from hotline.core.storage.enums import Media, QueueState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import CaseEvent
from hotline.core.storage.models.people import User
from hotline.plugins.distribution import finish_contact

from . import conversation as chat
from .routes import events_for

Req = Request[Any, Any, Any]


async def _chat(request: Req, number: str, *, write: bool) -> tuple[chat.State, User]:
    ctx, user = ctx_of(request), request.scope["state"]["user"]
    state = await chat.state_of(ctx, number)
    if state is not None and state.sealed:
        # a letter to the director is the office's alone: the attempt is audited, and the
        # answer is the one for a chat that does not exist
        await record_refusal(request, user, "director_mailbox")
        raise NotFoundException()
    if state is None or not state.live:
        raise NotFoundException()
    mine = state.agent_id == user.id and state.queue == QueueState.ASSIGNED
    watching = Permission.QUEUE_MANAGE in request.scope["state"].get("permissions", ())
    if not mine and (write or not watching):
        raise PermissionDeniedException("this chat is not yours")
    return state, user


@get("/console/chat/{number:str}", guards=[requires(Permission.QUEUE_WORK)])
async def agent_chat(request: Req, number: FromPath[str]) -> Response[str]:
    ctx = ctx_of(request)
    state, user = await _chat(request, number, write=False)
    return render(
        request,
        "webchat/console_chat.html",
        state=state,
        lines=await chat.transcript(ctx, state.case_id),
        mine=state.agent_id == user.id,
        max_text=chat.MAX_TEXT,
        refused=request.query_params.get("refused"),
    )


@post("/console/chat/{number:str}/say", guards=[requires(Permission.QUEUE_WORK)])
async def agent_say(request: Req, number: FromPath[str]) -> Response[Any]:
    ctx = ctx_of(request)
    state, user = await _chat(request, number, write=True)
    form = await request.form()
    try:
        text = chat.clean_line(str(form.get("text", "")))
    except chat.ChatRefused as refused:
        if request.headers.get("accept", "").startswith("application/json"):
            return Response({"refused": str(refused)}, status_code=422)
        return Redirect(f"/console/chat/{number}?refused={refused}", status_code=303)
    line = await chat.say(ctx, state.case_id, text, agent_id=user.id)
    if request.headers.get("accept", "").startswith("application/json"):
        return Response(line.as_json(), status_code=201)
    return Redirect(f"/console/chat/{number}", status_code=303)


@post("/console/chat/{number:str}/end", guards=[requires(Permission.QUEUE_WORK)])
async def agent_end(request: Req, number: FromPath[str]) -> Response[Any]:
    """The agent ends the chat: the citizen is told, the queue item is done (wrap-up follows),
    and the case keeps the transcript for the workflow."""
    ctx = ctx_of(request)
    state, user = await _chat(request, number, write=True)
    async with ctx.db.session() as session:
        item_id = await session.scalar(
            select(QueueItem.id)
            .where(QueueItem.case_id == state.case_id, QueueItem.media == Media.CHAT)
            .limit(1)
        )
    if item_id is not None:
        await finish_contact(ctx, item_id, user.id)
    lines = await chat.count_lines(ctx, state.case_id)
    async with ctx.db.transaction() as session:
        session.add(
            CaseEvent.by(actor_of(request, user), state.case_id, "chat_ended", {"lines": lines})
        )
    chat.publish_state(ctx, state.case_id, "ended")
    return Redirect(f"/console/cases/{number}", status_code=303)


@get("/console/chat/{number:str}/stream", guards=[requires(Permission.QUEUE_WORK)])
async def agent_stream(request: Req, number: FromPath[str]) -> Response[Any]:
    await _chat(request, number, write=False)
    after = int(request.query_params.get("after", "0") or 0)
    channels = request.app.plugins.get(ChannelsPlugin)
    return ServerSentEvent(events_for(ctx_of(request), channels, number, after, agent=True))


CONSOLE_ROUTES = [agent_chat, agent_say, agent_end, agent_stream]
