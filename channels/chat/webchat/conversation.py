"""A web chat conversation: a case whose first message came through intake (channel webchat,
medium chat, so the AXD queue offers it to an agent), then lines from the citizen and the agent
kept as the case's interactions, the transcript. Each conversation has a live channel,
``chat_<case id>``, on the app's channels backend (memory, Redis or PostgreSQL), so a line
reaches the other side whichever app process serves it.

The citizen's browser holds the conversation in a cookie: the tracking number and a MAC of it
under the site's secret key, so the same browser comes back to the same conversation and no
other can."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from hotline.core.cases.replies import with_code
from hotline.core.foundation import text as text_rules
from hotline.core.reference.calendar import in_office_hours
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import (
    AgentState,
    ContactKind,
    DeliveryStatus,
    Direction,
    Media,
    QueueState,
)
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, ContactPoint, Interaction

CHANNEL = "webchat"
MAX_TEXT = 2000
ON_SHIFT = (AgentState.AVAILABLE, AgentState.BUSY, AgentState.WRAP_UP)


def live_channel(case_id: int) -> str:
    return f"chat_{case_id}"


def _mac(secret: str, number: str) -> str:
    return hmac.new(secret.encode(), f"webchat:{number}".encode(), hashlib.sha256).hexdigest()[:32]


def cookie_value(secret: str, number: str) -> str:
    return f"{number}.{_mac(secret, number)}"


def number_from_cookie(secret: str, value: str | None) -> str | None:
    """The tracking number a chat cookie names, when its MAC is right; else None."""
    number, _, mac = (value or "").partition(".")
    if not number or not hmac.compare_digest(mac, _mac(secret, number)):
        return None
    return number


def new_token() -> str:
    """The conversation's contact point value: answers to it are shown in the chat."""
    return secrets.token_urlsafe(16)


class ChatRefused(ValueError):
    """A line that cannot be taken: empty, too long, or not text."""


def clean_line(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ChatRefused("empty")
    if len(text) > MAX_TEXT:
        raise ChatRefused("too_long")
    if text_rules.bad_text(text) or "\ufffd" in text:  # controls, surrogates, garbled bytes
        raise ChatRefused("not_text")
    return text


async def open_now(ctx: AppContext, now: datetime | None = None) -> bool:
    """Is live chat staffed now: office hours on a working day (unless the site chose always),
    and someone on shift who takes chats."""
    if ctx.settings.webchat_office_hours_only and not await in_office_hours(ctx, now):
        return False
    async with ctx.db.session() as session:
        shift = list(
            await session.scalars(select(AgentPresence).where(AgentPresence.state.in_(ON_SHIFT)))
        )
    return any((p.capacity or {}).get(Media.CHAT, 0) > 0 for p in shift)


@dataclass(frozen=True)
class Line:
    id: int
    who: str  # citizen, agent, hotline (acknowledgements, answers sent later)
    text: str
    at: datetime
    with_code: bool = False  # the text holds the lookup code's mask (its citizen sees the code)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "who": self.who,
            "text": self.text,
            "at": self.at.isoformat(),
            "with_code": self.with_code,
        }


def line_of(row: Interaction) -> Line:
    """A stored line as staff see it: an acknowledgement's lookup code stays masked."""
    meta = row.meta or {}
    if row.direction == Direction.IN:
        who = "citizen"
    else:
        who = "agent" if meta.get("purpose") == "chat" else "hotline"
    return Line(row.id, who, row.text, row.created_at, bool(meta.get("lookup_code")))


def for_citizen(ctx: AppContext, number: str, line: Line) -> Line:
    """The line as the chat's own citizen sees it: the lookup code in its place."""
    if not line.with_code:
        return line
    return replace(line, text=with_code(ctx.secret_key, number, line.text), with_code=False)


@dataclass(frozen=True)
class State:
    case_id: int
    number: str
    language: str
    queue: str | None  # the chat's queue item: waiting, offered, assigned, done
    item_id: int | None
    agent_id: int | None
    waited: float  # seconds since the conversation began
    live: bool  # a live conversation (not a message left while no one was there)
    sealed: bool = False  # a letter to the director: no agent ever opens it

    @property
    def ended(self) -> bool:
        return self.queue == QueueState.DONE


async def state_of(ctx: AppContext, number: str) -> State | None:
    async with ctx.db.session() as session:
        case = await session.scalar(select(Case).where(Case.tracking_number == number))
        if case is None or case.first_channel != CHANNEL:
            return None
        item = await session.scalar(
            select(QueueItem)
            .where(QueueItem.case_id == case.id, QueueItem.media == Media.CHAT)
            .order_by(QueueItem.id)
            .limit(1)
        )
    return State(
        case_id=case.id,
        number=case.tracking_number,
        language=case.language,
        queue=str(item.state) if item else None,
        item_id=item.id if item else None,
        agent_id=item.agent_id if item else None,
        waited=(utcnow() - case.created_at).total_seconds(),
        live=item is not None,
        sealed=case.sealed,
    )


async def transcript(
    ctx: AppContext, case_id: int, after: int = 0, *, citizen_number: str | None = None
) -> list[Line]:
    """The conversation's lines after ``after``. For the citizen's own page
    (``citizen_number``, the case's number) the acknowledgement shows the lookup code that the
    stored text, which staff read, never holds."""
    async with ctx.db.session() as session:
        rows = await session.scalars(
            select(Interaction)
            .where(
                Interaction.case_id == case_id,
                Interaction.id > after,
                Interaction.direction.in_([Direction.IN, Direction.OUT]),
            )
            .order_by(Interaction.id)
        )
        lines = [line_of(row) for row in rows]
    if citizen_number is None:
        return lines
    return [for_citizen(ctx, citizen_number, line) for line in lines]


async def say(ctx: AppContext, case_id: int, text: str, *, agent_id: int | None = None) -> Line:
    """One line of the conversation, kept on the case and sent live to the other side: from the
    agent when ``agent_id`` is given, else from the citizen."""
    async with ctx.db.transaction() as session:
        point_id = await session.scalar(
            select(Interaction.contact_point_id)
            .join(ContactPoint, ContactPoint.id == Interaction.contact_point_id)
            .where(Interaction.case_id == case_id, ContactPoint.kind == ContactKind.WEBCHAT)
            .limit(1)
        )
        row = Interaction(
            case_id=case_id,
            direction=Direction.IN if agent_id is None else Direction.OUT,
            channel=CHANNEL,
            contact_point_id=point_id,
            text=text,
            delivery_status=None if agent_id is None else DeliveryStatus.SENT,
            meta={} if agent_id is None else {"purpose": "chat", "agent": agent_id},
        )
        session.add(row)
        await session.flush()
        line = line_of(row)
    publish_line(ctx, case_id, line)
    return line


def publish_line(ctx: AppContext, case_id: int, line: Line) -> None:
    ctx.events.publish({"type": "line", **line.as_json()}, [live_channel(case_id)])


def publish_state(ctx: AppContext, case_id: int, state: str) -> None:
    ctx.events.publish({"type": "state", "state": state}, [live_channel(case_id)])


async def count_lines(ctx: AppContext, case_id: int) -> int:
    async with ctx.db.session() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Interaction).where(Interaction.case_id == case_id)
            )
            or 0
        )
