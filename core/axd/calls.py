"""Calls waiting in the AXD queue: where a waiting caller stands (position, expected wait), how
a caller leaves the queue (hung up, or chose a voicemail or a call back: ``outcome``), and the
call-back item that follows. An offer being made to an agent when the caller leaves is
withdrawn at once: the item closes and the agents' screens are told to refresh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hotline.core.axd import offers
from hotline.core.axd.desk_phones import is_extension
from hotline.core.axd.state import count_miss, held_by, tell_if_set_away
from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.storage.enums import Media, QueueOutcome, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem, QueueOffer
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, ContactPoint, Interaction
from hotline.core.storage.models.people import User

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

DEFAULT_SECONDS_PER_CALLER = 60  # the estimate before any call of the queue was answered
RECENT = 20  # answered calls the estimate is drawn from


@dataclass(frozen=True)
class Standing:
    """Where a waiting item is: its state, the agent it is offered or assigned to, its place in
    line among the waiting calls of its queue (1: next), and the expected wait in seconds."""

    state: str
    agent_id: int | None
    position: int
    expected_seconds: int


@dataclass(frozen=True)
class Left:
    """A contact that left the queue: how long it waited, and the agent whose offer was
    withdrawn (None when none was being offered)."""

    waited_seconds: float
    withdrawn_from: int | None


def standing(session: Session, item_id: int, now: datetime | None = None) -> Standing | None:
    """Read unit: the item's state and, while it waits, its place among the waiting items of
    the same medium and first skill that are ahead of it (higher priority, or as high and
    waiting longer), and the expected wait from the recent answered calls of that queue."""
    item = session.get(QueueItem, item_id)
    if item is None:
        return None
    queue = item.skills[0] if item.skills else ""
    ahead = 0
    waits: list[float] = []
    for skills, priority, since, state, assigned in session.execute(
        select(
            QueueItem.skills,
            QueueItem.priority,
            QueueItem.waiting_since,
            QueueItem.state,
            QueueItem.assigned_at,
        ).where(
            QueueItem.media == item.media,
            QueueItem.id != item.id,
            or_(
                QueueItem.state.in_([QueueState.WAITING, QueueState.OFFERED]),
                QueueItem.assigned_at >= (now or utcnow()) - timedelta(hours=2),
            ),
        )
    ):
        if (skills[0] if skills else "") != queue:
            continue
        if state in (QueueState.WAITING, QueueState.OFFERED):
            if priority > item.priority or (
                priority == item.priority and since < item.waiting_since
            ):
                ahead += 1
        elif assigned is not None:
            waits.append((assigned - since).total_seconds())
    recent = sorted(waits)[-RECENT:]
    per_caller = sum(recent) / len(recent) if recent else DEFAULT_SECONDS_PER_CALLER
    position = ahead + 1
    return Standing(item.state, item.agent_id, position, round(position * per_caller))


async def leave(ctx: AppContext, item_id: int, outcome: QueueOutcome) -> Left | None:
    """The contact leaves the queue before an agent took it: the item closes with ``outcome``.
    None when an agent took it meanwhile (or it is gone)."""
    now = utcnow()

    def write(session: Session) -> Left | None:
        item = session.scalar(
            select(QueueItem)
            .where(
                QueueItem.id == item_id,
                QueueItem.state.in_([QueueState.WAITING, QueueState.OFFERED]),
            )
            .with_for_update()
        )
        if item is None:
            return None
        offered_to = item.agent_id if item.state == QueueState.OFFERED else None
        offers.closed(session, item_id, offers.OfferEnd.WITHDRAWN, now)
        item.state, item.outcome, item.done_at, item.updated_at = (
            QueueState.DONE,
            outcome,
            now,
            now,
        )
        item.offered_at = item.offer_expires_at = None
        return Left((now - item.waiting_since).total_seconds(), offered_to)

    left = await ctx.db.run(write, write=True)
    if left is not None:
        # the agents' screens refresh from this; the one that was offered the call drops it
        ctx.events.publish(
            {
                "type": "queue_changed",
                "item_id": item_id,
                "withdrawn": left.withdrawn_from is not None,
                "agent_id": left.withdrawn_from,
            },
            [QUEUE_CHANNEL],
        )
    return left


async def answered(ctx: AppContext, item_id: int, outcome: QueueOutcome) -> int | None:
    """An agent took the call item: it closes with ``outcome`` (the agent's own queue work goes
    on in the call-back item that replaces it). Returns the agent, or None."""
    now = utcnow()

    def write(session: Session) -> int | None:
        item = session.scalar(
            select(QueueItem)
            .where(QueueItem.id == item_id, QueueItem.state == QueueState.ASSIGNED)
            .with_for_update()
        )
        if item is None:
            return None
        item.state, item.outcome, item.done_at, item.updated_at = (
            QueueState.DONE,
            outcome,
            now,
            now,
        )
        return item.agent_id

    return await ctx.db.run(write, write=True)


async def returned(ctx: AppContext, item_id: int, agent_id: int, *, missed: bool = True) -> bool:
    """The agent's phone did not take a call put through to it (declined, no answer within the
    ring time, gone), or lost it mid-call (``missed`` False: the agent's browser went): the
    call waits again in its place (its ``waiting_since`` is kept, so it is next in its queue)
    and is not offered to that agent again; a ring not taken counts as a missed offer (the
    missed-in-a-row limit may set them away, as for any unanswered offer). False when the item
    is no longer that agent's call (finished meanwhile)."""
    now = utcnow()

    def write(session: Session) -> bool | str:
        item = held_by(session, item_id, agent_id)
        if item is None or item.media != Media.VOICE:
            return False
        if not missed:  # answered, then lost: the offer stays accepted
            wait_again(item, agent_id, now)
            return True
        offer = session.scalar(
            select(QueueOffer)
            .where(
                QueueOffer.item_id == item_id,
                QueueOffer.agent_id == agent_id,
                QueueOffer.outcome == offers.OfferEnd.ACCEPTED,
            )
            .order_by(QueueOffer.id.desc())
            .limit(1)
        )
        if offer is None:  # picked from the queue, never offered: its ring is an offer too
            offer = QueueOffer(item_id=item_id, agent_id=agent_id, offered_at=item.assigned_at)
            session.add(offer)
        offer.ended_at, offer.outcome = now, offers.OfferEnd.MISSED
        wait_again(item, agent_id, now)
        return count_miss(session, agent_id, ctx.settings.axd_missed_before_away)

    result = await ctx.db.run(write, write=True)
    if not result:
        return False
    ctx.events.publish(
        {"type": "queue_changed", "item_id": item_id, "withdrawn": True, "agent_id": agent_id},
        [QUEUE_CHANNEL],
    )
    tell_if_set_away(ctx, agent_id, result)
    return True


def wait_again(item: QueueItem, agent_id: int, now: datetime) -> None:
    """The call item leaves ``agent_id`` and waits again (its ``waiting_since`` kept: first in
    its queue), never offered to them again."""
    item.state, item.agent_id, item.outcome = QueueState.WAITING, None, None
    item.assigned_at = item.offered_at = item.offer_expires_at = None
    item.declined_by = [*item.declined_by, str(agent_id)]
    item.updated_at = now


@dataclass(frozen=True)
class LiveCall:
    """A call in the AXD queue now: waiting, offered to an agent (ringing on their screen), or
    with an agent; ``since``: when it started waiting, or when the agent took it."""

    item_id: int
    state: str
    queue: str
    caller: str  # "" when withheld
    since: datetime
    tracking_number: str
    agent: str | None
    desk_phone: str | None
    agent_id: int | None = None


def live_calls(session: Session) -> list[LiveCall]:
    """Read unit: the calls waiting or with agents, longest first (sealed letters are never
    calls). A call put through to a desk phone counts until its agent finishes it."""
    rows = session.execute(
        select(
            QueueItem,
            Case.tracking_number,
            ContactPoint.value,
            User.display_name,
            AgentPresence.desk_phone,
        )
        .join(Case, Case.id == QueueItem.case_id)
        .join(Interaction, Interaction.id == QueueItem.interaction_id)
        .outerjoin(ContactPoint, ContactPoint.id == Interaction.contact_point_id)
        .outerjoin(User, User.id == QueueItem.agent_id)
        .outerjoin(AgentPresence, AgentPresence.user_id == QueueItem.agent_id)
        .where(
            QueueItem.media == Media.VOICE,
            QueueItem.state.in_([QueueState.WAITING, QueueState.OFFERED, QueueState.ASSIGNED]),
        )
        .order_by(QueueItem.waiting_since)
    )
    return [
        LiveCall(
            item.id,
            str(item.state),
            item.skills[0] if item.skills else "",
            caller or "",
            item.assigned_at
            if item.state == QueueState.ASSIGNED and item.assigned_at
            else item.waiting_since,
            number,
            agent,
            phone if item.state == QueueState.ASSIGNED else None,
            item.agent_id,
        )
        for item, number, caller, agent, phone in rows
    ]


async def put_through(
    ctx: AppContext, item_id: int, address: str | None = None
) -> tuple[int, str] | None:
    """An agent took the call item and has a phone (``address``, their softphone, or else the
    desk phone on their profile): the call is answered (``outcome``) and the item stays the
    agent's, taking them whole, until they finish it in the console (then wrap-up, as for
    every medium). Returns (agent, phone), or None: no phone, or the item is not taken."""

    def write(session: Session) -> tuple[int, str] | None:
        item = session.scalar(
            select(QueueItem)
            .where(QueueItem.id == item_id, QueueItem.state == QueueState.ASSIGNED)
            .with_for_update()
        )
        if item is None or item.agent_id is None:
            return None
        phone = address or session.scalar(
            select(AgentPresence.desk_phone).where(AgentPresence.user_id == item.agent_id)
        )
        if not phone or is_extension(phone):  # an extension is reached by its registrar only
            return None
        item.outcome, item.updated_at = QueueOutcome.ANSWERED, utcnow()
        return item.agent_id, phone

    return await ctx.db.run(write, write=True)


async def add_callback(ctx: AppContext, item_id: int, agent_id: int | None = None) -> int | None:
    """A call-back request on the same case as the call item ``item_id``, in the same queue and
    language: waiting for any agent, or assigned to ``agent_id`` at once. Returns its id."""
    now = utcnow()

    def write(session: Session) -> int | None:
        call = session.get(QueueItem, item_id)
        if call is None:
            return None
        item = QueueItem(
            case_id=call.case_id,
            interaction_id=call.interaction_id,
            media=Media.CALLBACK,
            priority=call.priority,
            skills=list(call.skills),
            language=call.language,
            state=QueueState.ASSIGNED if agent_id else QueueState.WAITING,
            agent_id=agent_id,
            assigned_at=now if agent_id else None,
            waiting_since=now,
            updated_at=now,
        )
        session.add(item)
        session.flush()
        return item.id

    made = await ctx.db.run(write, write=True)
    if made is not None:
        ctx.events.publish({"type": "queue_changed", "item_id": made}, [QUEUE_CHANNEL])
        if agent_id is not None:
            ctx.events.publish(
                {"type": "assigned", "item_id": made, "agent_id": agent_id}, [QUEUE_CHANNEL]
            )
    return made
