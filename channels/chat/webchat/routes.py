"""The citizen's side of web chat on the portal: /chat shows the conversation this browser has
(or the form to begin one), /chat/start begins it, /chat/say adds a line, /chat/stream sends the
agent's lines and the conversation's state as server-sent events. Pages work without
JavaScript (the page shows the transcript; sending reloads it); chat.js makes them live.

Under the portal's middleware: its session, CSRF check on every post, and a rate limit on
posts per address. Refused lines answer with the reason and store nothing."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import Cookie
from litestar.exceptions import ClientException
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage
from pydantic import ValidationError

from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import (
    IntakeRefused,
    Problem,
    Submission,
    problems_from_validation,
)
from hotline.core.shell.context import AppContext
from hotline.core.shell.web import render, request_language
from hotline.core.shell.webforms import read_form, refusal_status
from hotline.core.storage.enums import CaseKind, ContactKind, Media, QueueState
from hotline.portal.routes import portal_middleware

from . import conversation as chat
from . import gate

log = logging.getLogger("hotline.channels.webchat")
Req = Request[Any, Any, Any]
COOKIE = "hotline_chat"
COOKIE_DAYS = 7


def _ctx(request: Req) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def _current(request: Req) -> chat.State | None:
    ctx = _ctx(request)
    number = chat.number_from_cookie(ctx.secret_key, request.cookies.get(COOKIE))
    return await chat.state_of(ctx, number) if number else None


def _address(request: Req) -> str:
    return request.client.host if request.client else "unknown"


def _cookie(ctx: AppContext, number: str | None) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=chat.cookie_value(ctx.secret_key, number) if number else "",
        path="/chat",
        max_age=COOKIE_DAYS * 86400 if number else 0,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.url.startswith("https"),
    )


async def _page(request: Req, state: chat.State | None, **extra: Any) -> Response[str]:
    ctx = _ctx(request)
    lines = await chat.transcript(ctx, state.case_id, citizen_number=state.number) if state else []
    status = extra.pop("status", 200)
    if state is None and "challenge" not in extra:
        extra["challenge"] = await gate.challenge_for(ctx, _address(request))
    return render(
        request,
        "webchat/chat.html",
        state=state,
        lines=lines,
        open_now=await chat.open_now(ctx) if state is None else None,
        wait_seconds=ctx.settings.webchat_wait_seconds,
        state_word=state_word,
        max_text=chat.MAX_TEXT,
        pow_bits=ctx.settings.chat_pow_bits,
        status=status,
        **extra,
    )


@get("/")
async def chat_page(request: Req) -> Response[str]:
    return await _page(request, await _current(request))


def _contacts(token: str, given: str) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The conversation's own contact point, and the phone or e-mail the citizen gave to be
    answered at if no agent is free."""
    contacts = [{"kind": ContactKind.WEBCHAT, "value": token}]
    given = given.strip()
    if not given:
        return contacts, {}
    kind = ContactKind.EMAIL if "@" in given else ContactKind.PHONE
    contacts.append({"kind": kind, "value": given})
    return contacts, {"answer_to": [str(kind), given]}


@post("/start")
async def chat_start(request: Req) -> Response[Any]:
    ctx = _ctx(request)
    form = await read_form(request)
    values = {k: form.one(k) for k in ("name", "contact", "text", "website")}
    if values["website"].strip():  # the honeypot
        return Redirect("/chat/", status_code=303)
    if form.problem is not None:
        return await _page(request, None, values=values, refused="not_text", status=400)
    try:
        text = chat.clean_line(values["text"])
    except chat.ChatRefused as refused:
        status = 422 if str(refused) == "empty" else 400
        return await _page(request, None, values=values, refused=str(refused), status=status)
    address = _address(request)
    allowed = await gate.check(
        ctx, address, values["contact"], form.one("pow_challenge"), form.one("pow_nonce")
    )
    if allowed.refused:
        return await _page(
            request,
            None,
            values=values,
            gate=allowed.refused,
            challenge=allowed.challenge,
            status=429,
        )
    live = await chat.open_now(ctx)
    token = chat.new_token()
    contacts, meta = _contacts(token, values["contact"])
    try:
        submission = Submission.model_validate(
            {
                "channel": chat.CHANNEL,
                "external_id": f"webchat:{token}",
                "kind": CaseKind.CONSULTATION,
                "text": text,
                "citizen_name": values["name"].strip() or None,
                "contacts": contacts,
                "language": request_language(request),
                "media": Media.CHAT if live else Media.WEB_FORM,
                "address": address,
                "meta": {**meta, "live": live},
            }
        )
        result = await receive(ctx, submission)
    except IntakeRefused as refused:
        status = refusal_status(refused.problems)
        return await _page(request, None, values=values, problems=refused.problems, status=status)
    except ValidationError as invalid:
        problems = problems_from_validation(invalid)
        return await _page(
            request, None, values=values, problems=problems, status=refusal_status(problems)
        )
    except ValueError:
        problem = Problem(field="contact", code="invalid", message="not a phone or e-mail")
        return await _page(request, None, values=values, problems=[problem], status=422)
    await gate.count_start(ctx, address, values["contact"])
    response = Redirect("/chat/", status_code=303)
    response.cookies.append(_cookie(ctx, result.tracking_number))
    return response


@post("/say")
async def chat_say(request: Req) -> Response[Any]:
    ctx = _ctx(request)
    state = await _current(request)
    form = await read_form(request)
    if state is None or state.ended:
        return Redirect("/chat/", status_code=303)
    try:
        if form.problem is not None:
            raise chat.ChatRefused("not_text")
        text = chat.clean_line(form.one("text"))
    except chat.ChatRefused as refused:
        log.info("chat line refused", extra={"why": str(refused)})
        status = 422 if str(refused) == "empty" else 400
        return await _page(request, state, refused=str(refused), status=status)
    line = await chat.say(ctx, state.case_id, text)
    if request.headers.get("accept", "").startswith("application/json"):
        return Response(line.as_json(), status_code=201)
    return Redirect("/chat/", status_code=303)


@post("/new")
async def chat_new(request: Req) -> Response[Any]:
    """Leave this conversation behind and begin another."""
    response = Redirect("/chat/", status_code=303)
    response.cookies.append(_cookie(_ctx(request), None))
    return response


def state_word(state: chat.State, wait_seconds: int) -> str:
    """What the citizen's page says about the conversation."""
    if not state.live:
        return "message"
    if state.queue == QueueState.ASSIGNED:
        return "joined"
    if state.ended:
        return "ended"
    return "no_agent" if state.waited > wait_seconds else "waiting"


async def events_for(
    ctx: AppContext, channels: ChannelsPlugin, number: str, after: int, agent: bool
) -> AsyncIterator[ServerSentEventMessage]:
    """The conversation's lines after ``after`` and its state, then everything as it happens:
    lines, the agent joining (the queue's assignment of this chat), the end (the agent ended the
    chat, or marked its queue item done). For the citizen, a
    chat nobody took within the wait is announced once as kept."""
    state = await chat.state_of(ctx, number)
    if state is None:
        return
    wait = ctx.settings.webchat_wait_seconds
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    watched = [chat.live_channel(state.case_id)] + ([] if agent else [QUEUE_CHANNEL])
    async with channels.start_subscription(watched) as subscriber:

        async def pump() -> None:
            async for raw in subscriber.iter_events():
                await inbox.put(json.loads(raw))

        task = asyncio.create_task(pump())
        try:
            yield ServerSentEventMessage(event="state", data=state_word(state, wait))
            for line in await chat.transcript(
                ctx, state.case_id, after, citizen_number=None if agent else state.number
            ):
                yield ServerSentEventMessage(event="line", data=json.dumps(line.as_json()))
            pending = not agent and state_word(state, wait) == "waiting"
            while True:
                timeout = max(0.5, wait - state.waited) if pending else None
                try:
                    event = await asyncio.wait_for(inbox.get(), timeout)
                except TimeoutError:
                    state = await chat.state_of(ctx, number) or state
                    word = state_word(state, wait)
                    if word != "waiting":
                        pending = False
                        yield ServerSentEventMessage(event="state", data=word)
                    continue
                kind = event.get("type")
                if kind == "line":
                    if not agent and event.get("with_code"):
                        event["text"] = chat.with_code(ctx.secret_key, number, event["text"])
                        event["with_code"] = False
                    yield ServerSentEventMessage(event="line", data=json.dumps(event))
                elif kind == "state":
                    pending = False
                    yield ServerSentEventMessage(event="state", data=str(event.get("state")))
                elif kind == "assigned" and event.get("item_id") == state.item_id:
                    pending = False
                    yield ServerSentEventMessage(event="state", data="joined")
                elif kind == "done" and event.get("item_id") == state.item_id:
                    yield ServerSentEventMessage(event="state", data="ended")
        finally:
            task.cancel()


@get("/stream")
async def chat_stream(request: Req) -> Response[Any]:
    ctx = _ctx(request)
    state = await _current(request)
    if state is None:
        return Response("", status_code=404)
    given = request.query_params.get("after", "0") or "0"
    if not (given.isascii() and given.isdigit() and len(given) < 19):
        raise ClientException("after: the number of the last line seen")
    after = int(given)
    channels = request.app.plugins.get(ChannelsPlugin)
    return ServerSentEvent(events_for(ctx, channels, state.number, after, agent=False))


def chat_router(ctx: AppContext) -> Router:
    return Router(
        path="/chat",
        route_handlers=[chat_page, chat_start, chat_say, chat_new, chat_stream],
        middleware=portal_middleware(
            ctx, store="webchat", posts_per_minute=ctx.settings.webchat_posts_per_minute
        ),
        include_in_schema=False,
    )
