"""The wallboard (``/console/wallboard``): the centre's figures on a wall screen, for team
leaders, supervisors and administrators. Counts only, no names: the same board is shown on a
kiosk link (``kiosk.py``). It updates live: its stream says "refresh" whenever the queue or a
case changes, and the page fetches the board again (``static/wallboard.js``)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response, get
from litestar.channels import ChannelsPlugin
from litestar.response import ServerSentEvent, ServerSentEventMessage
from sqlalchemy import select

from hotline.admin.guards import ctx_of, requires
from hotline.core.axd.queue_names import queue_names
from hotline.core.delivery.events import CASES_CHANNEL, QUEUE_CHANNEL
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render, request_language
from hotline.core.storage.models.axd import AwayReason

from .board import THRESHOLDS, snapshot

Req = Request[Any, Any, Any]
STREAM_HEADERS = {"Cache-Control": "no-store"}


def _since(request: Req) -> float:
    try:
        return float(request.query_params.get("since", "0"))
    except ValueError:
        return 0.0


async def _names(request: Req) -> tuple[dict[str, str], dict[str, str]]:
    """The queues' and the away reasons' names in the page's language."""
    english = request_language(request) == "en"
    async with ctx_of(request).db.session() as session:
        queues = await queue_names(session, not english)
        away = {
            code: en if english else zh
            for code, zh, en in await session.execute(
                select(AwayReason.code, AwayReason.name_zh, AwayReason.name_en)
            )
        }
    return queues, away


async def show_board(request: Req, *, refresh: str, stream: str, kiosk: bool) -> Response[str]:
    """The whole page, or the board alone when the page asks again (``HX-Request``)."""
    board = await snapshot(ctx_of(request), _since(request))
    queues, away = await _names(request)
    lang = request_language(request)
    return render(
        request,
        "reports/wallboard.html",
        block="board",
        board=board,
        queue_names=queues,
        away_names=away,
        figures=THRESHOLDS,
        kiosk=kiosk,
        refresh_url=f"{refresh}?lang={lang}",
        stream_url=stream,
        at=board.at.astimezone(ctx_of(request).tz),
    )


@get("/console/wallboard", guards=[requires(Permission.WALLBOARD)])
async def wallboard(request: Req) -> Response[str]:
    return await show_board(
        request, refresh="/console/wallboard", stream="/console/wallboard/stream", kiosk=False
    )


def changes(request: Req) -> ServerSentEvent:
    """Server-sent events: ``refresh`` with the server's time whenever the queue or a case
    changed (the page asks for a board computed after that time); nothing else is sent."""
    channels = request.app.plugins.get(ChannelsPlugin)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        yield ServerSentEventMessage(event="hello", data="{}")
        async with channels.start_subscription([QUEUE_CHANNEL, CASES_CHANNEL]) as subscriber:
            async for _raw in subscriber.iter_events():
                yield ServerSentEventMessage(event="refresh", data=json.dumps({"at": time.time()}))

    return ServerSentEvent(events(), headers=STREAM_HEADERS)


@get("/console/wallboard/stream", guards=[requires(Permission.WALLBOARD)])
async def wallboard_stream(request: Req) -> ServerSentEvent:
    return changes(request)


def handlers() -> list[Any]:
    return [wallboard, wallboard_stream]
