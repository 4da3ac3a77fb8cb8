"""Live web chat on the portal: the citizen writes at /chat, the conversation enters the AXD
queue as a chat and is offered to an agent, and the two exchange lines live (server-sent
events over the app's channels backend); the transcript is the case's interactions. With no
agent on shift, or outside office hours, the chat says so and the first message is kept as a
message case answered later (in the chat, and at the phone or e-mail the citizen gave).

Hooks only; ``conversation`` holds the logic, ``routes`` the citizen's pages, ``console`` the
agent's."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router
from sqlalchemy import select

from hotline.core.cases.replies import OutboundMessage
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind, Direction
from hotline.core.storage.models.cases import Interaction

from . import conversation as chat
from .console import CONSOLE_ROUTES
from .routes import chat_router

STATIC = Path(__file__).parent / "static"


@hookimpl
def register_routes(ctx: AppContext) -> Sequence[Any]:
    static = create_static_files_router(
        path="/static/chat", directories=[STATIC], include_in_schema=False
    )
    return [chat_router(ctx), static]


@hookimpl
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    return CONSOLE_ROUTES


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.channels.chat.webchat"]


async def _answer_to(ctx: AppContext, case_id: int) -> tuple[str, str] | None:
    """The phone or e-mail the citizen gave when the chat began without an agent."""
    async with ctx.db.session() as session:
        meta = await session.scalar(
            select(Interaction.meta)
            .where(Interaction.case_id == case_id, Interaction.direction == Direction.IN)
            .order_by(Interaction.id)
            .limit(1)
        )
    given = (meta or {}).get("answer_to")
    if not given or (meta or {}).get("live"):
        return None
    return str(given[0]), str(given[1])


async def _show(ctx: AppContext, message: OutboundMessage) -> str:
    async with ctx.db.session() as session:
        row = await session.get(Interaction, message.interaction_id)
    # the stored text: an agent watching the chat sees no lookup code; the citizen's page does
    line = (
        chat.line_of(row)
        if row is not None
        else chat.Line(message.interaction_id, "hotline", message.text, chat.utcnow())
    )
    chat.publish_line(ctx, message.case_id, line)
    done = "shown in the chat"
    elsewhere = await _answer_to(ctx, message.case_id)
    if elsewhere is not None:
        kind, value = elsewhere
        forwarded = replace(message, contact_kind=kind, contact_value=value)
        answer = ctx.pm.hook.send_reply(ctx=ctx, message=forwarded)
        answer = await answer if inspect.isawaitable(answer) else answer
        done += f"; {kind}: {answer or 'no channel'}"
    return done


@hookimpl
def send_reply(ctx: AppContext, message: OutboundMessage) -> Awaitable[str] | None:
    """A message to a chat is kept in its transcript and shown live if the citizen is there;
    a chat left as a message also sends it to the phone or e-mail the citizen gave."""
    if message.contact_kind != ContactKind.WEBCHAT:
        return None
    return _show(ctx, message)
