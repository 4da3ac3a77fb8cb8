"""The AXD queue's state changes: offers, accepts and declines, expiry, finishing and wrap-up,
agents' profiles and presence. An offer is accepted by exactly one agent: the state change is
a conditional UPDATE, so two accepts race safely on any number of app processes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.storage.enums import AgentState, QueueState
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.base import utcnow

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext
from hotline.core.axd import offers, presence_log
from hotline.core.axd.selection import NOT_SEALED, Offer, _pool, choose, rules_for

MISSED = "missed_offers"  # the away reason the queue sets; no agent chooses it
SET_AWAY = "set_away"
# An agent's profile until a team leader sets one: a generalist (no skills: every queue) who
# takes one call, or a few contacts of each other medium, at once, in both languages.
GENERAL_CAPACITY = {
    "voice": 1,
    "chat": 3,
    "email": 5,
    "sms": 5,
    "web_form": 5,
    "telegram": 3,
    "voicemail": 2,
    "fax": 2,
    "callback": 1,
}
GENERAL_LANGUAGES = ("zh_CN", "en")


async def offer_next(ctx: AppContext, item_id: int) -> int | None:
    """Offer a waiting item to the agent the strategy chooses; returns that agent, or None."""
    made = await offer(ctx, item_id)
    return made.agent_id if made else None


async def offer(ctx: AppContext, item_id: int) -> Offer | None:
    """Offer a waiting item to the agent its queue's strategy chooses, for its offer time."""
    now = utcnow()
    pool = await ctx.db.run(lambda session: _pool(session, item_id, now, ctx.settings), write=False)
    if pool is None:
        return None
    item, found, where = pool
    agent = await choose(ctx, item, found, where)
    if agent is None:
        return None
    seconds = where.rules.offer_seconds

    def claim(session: Session) -> bool:
        done = session.execute(
            update(QueueItem)
            .where(QueueItem.id == item_id, QueueItem.state == QueueState.WAITING, NOT_SEALED)
            .values(
                state=QueueState.OFFERED,
                agent_id=agent,
                offered_at=now,
                offer_expires_at=now + timedelta(seconds=seconds),
                updated_at=now,
            )
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return False
        offers.opened(session, item_id, agent, now)
        return True

    if not await ctx.db.run(claim, write=True):
        return None  # another process offered it first
    ctx.events.publish(
        {
            "type": "offer",
            "item_id": item_id,
            "agent_id": agent,
            "media": item.media,
            "case": item.case.tracking_number,
        },
        [QUEUE_CHANNEL],
    )
    return Offer(agent, seconds)


async def accept(ctx: AppContext, item_id: int, agent_id: int) -> bool:
    """The agent takes the item: an offer made to them, or a waiting item they pick.
    Exactly one of several agents accepting at once wins."""
    now = utcnow()

    def take(session: Session) -> bool:
        done = session.execute(
            update(QueueItem)
            .where(
                QueueItem.id == item_id,
                ((QueueItem.state == QueueState.OFFERED) & (QueueItem.agent_id == agent_id))
                | (QueueItem.state == QueueState.WAITING),
                NOT_SEALED,
            )
            .values(state=QueueState.ASSIGNED, agent_id=agent_id, assigned_at=now, updated_at=now)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            return False
        offers.closed(session, item_id, offers.OfferEnd.ACCEPTED, now)
        session.execute(
            update(AgentPresence)
            .where(AgentPresence.user_id == agent_id)
            .values(last_assigned_at=now, missed_in_row=0)
        )
        return True

    won = await ctx.db.run(take, write=True)
    if won:
        ctx.events.publish(
            {"type": "assigned", "item_id": item_id, "agent_id": agent_id}, [QUEUE_CHANNEL]
        )
    return won


async def decline(ctx: AppContext, item_id: int, agent_id: int, *, missed: bool = False) -> bool:
    """The agent says no (or let the offer time run out): the item waits again, and will not be
    offered to them again; a timeout counts as a miss."""

    def give_back(session: Session) -> bool | str:
        item = session.scalar(
            select(QueueItem)
            .where(
                QueueItem.id == item_id,
                QueueItem.state == QueueState.OFFERED,
                QueueItem.agent_id == agent_id,
            )
            .with_for_update()
        )
        if item is None:
            return False
        item.state = QueueState.WAITING
        item.agent_id = None
        item.offered_at = item.offer_expires_at = None
        item.declined_by = [*item.declined_by, str(agent_id)]
        end = offers.OfferEnd.MISSED if missed else offers.OfferEnd.DECLINED
        offers.closed(session, item_id, end, utcnow())
        if missed:
            return count_miss(session, agent_id, ctx.settings.axd_missed_before_away)
        return True

    result = await ctx.db.run(give_back, write=True)
    tell_if_set_away(ctx, agent_id, result)
    return bool(result)


def tell_if_set_away(ctx: AppContext, agent_id: int, missed: bool | str) -> None:
    """After ``count_miss``'s transaction: the screens learn that it set the agent away."""
    if missed == SET_AWAY:
        ctx.events.publish(
            {"type": "agent_state", "agent_id": agent_id, "state": str(AgentState.AWAY)},
            [QUEUE_CHANNEL],
        )


def count_miss(session: Session, agent_id: int, limit: int) -> bool | str:
    """One more offer missed; the ``limit``-th in a row sets an available agent away
    (``MISSED``), so a caller is not offered again and again to an empty chair."""
    presence = session.get(AgentPresence, agent_id, with_for_update=True)
    if presence is None:
        return True
    presence.missed_offers += 1
    presence.missed_in_row += 1
    if limit and presence.missed_in_row >= limit and presence.state == AgentState.AVAILABLE:
        now = utcnow()
        presence_log.changed(
            session, agent_id, (presence.state, None), (AgentState.AWAY, MISSED), now
        )
        presence.state, presence.away_reason, presence.since = AgentState.AWAY, MISSED, now
        presence.missed_in_row = 0
        return SET_AWAY
    return True


async def expire_offers(ctx: AppContext) -> list[int]:
    """Offers nobody answered in time go back to the queue (and count as misses)."""
    now = utcnow()
    expired = await ctx.db.run(
        lambda s: list(
            s.execute(
                select(QueueItem.id, QueueItem.agent_id).where(
                    QueueItem.state == QueueState.OFFERED, QueueItem.offer_expires_at < now
                )
            )
        ),
        write=False,
    )
    back = []
    for item_id, agent_id in expired:
        if agent_id is not None and await decline(ctx, item_id, agent_id, missed=True):
            back.append(int(item_id))
    return back


def held_by(session: Session, item_id: int, agent_id: int) -> QueueItem | None:
    """Write unit: the item, locked, while it is assigned to ``agent_id``."""
    return session.scalar(
        select(QueueItem)
        .where(
            QueueItem.id == item_id,
            QueueItem.state == QueueState.ASSIGNED,
            QueueItem.agent_id == agent_id,
        )
        .with_for_update()
    )


async def finish(ctx: AppContext, item_id: int, agent_id: int) -> int | None:
    """The agent is done with the contact: the item closes, and the agent wraps up (after-contact
    work) for the queue's wrap-up time before new offers. Returns those seconds (0: straight back
    to work), or None when the item is not the agent's."""
    now = utcnow()

    def write(session: Session) -> int | None:
        item = held_by(session, item_id, agent_id)
        if item is None:
            return None
        item.state, item.done_at, item.updated_at = QueueState.DONE, now, now
        seconds = rules_for(session, item, ctx.settings).wrap_up_seconds
        start_wrap_up(session, agent_id, seconds, now)
        return seconds

    seconds = await ctx.db.run(write, write=True)
    if seconds is not None:
        ctx.events.publish(
            {"type": "agent_state", "agent_id": agent_id, "state": "wrap_up" if seconds else ""},
            [QUEUE_CHANNEL],
        )
        ctx.events.publish({"type": "done", "item_id": item_id}, [QUEUE_CHANNEL])
    return seconds


def start_wrap_up(session: Session, agent_id: int, seconds: int, now: datetime) -> None:
    """Write unit: an available agent done with a contact wraps up for ``seconds``."""
    presence = session.get(AgentPresence, agent_id)
    if seconds and presence is not None and presence.state == AgentState.AVAILABLE:
        presence_log.changed(
            session, agent_id, (presence.state, None), (AgentState.WRAP_UP, None), now
        )
        presence.state, presence.since = AgentState.WRAP_UP, now
        presence.wrap_up_until = now + timedelta(seconds=seconds)


async def end_wrap_ups(ctx: AppContext) -> list[int]:
    """Agents whose wrap-up time is over are available again; returns who."""
    return await presence_log.release(
        ctx, AgentPresence.state == AgentState.WRAP_UP, AgentPresence.wrap_up_until <= utcnow()
    )


async def set_profile(
    ctx: AppContext,
    user_id: int,
    *,
    capacity: dict[str, int],
    skills: dict[str, int],
    languages: list[str],
    desk_phone: str | None = None,
    desk_ha1: str | None = None,
) -> None:
    """What an agent can take: contacts at once per medium, skill levels (1 best), languages,
    and the desk phone calls are put through to (a SIP address or an extension with its
    password's HA1, ``desk_phones``; None: none). Their state is left as it is."""

    def write(session: Session) -> None:
        presence = session.get(AgentPresence, user_id) or AgentPresence(
            user_id=user_id, state=AgentState.SIGNED_OUT, since=utcnow()
        )
        presence.capacity, presence.skills, presence.languages = capacity, skills, languages
        presence.desk_phone, presence.desk_ha1 = desk_phone, desk_ha1
        session.add(presence)

    await ctx.db.run(write, write=True)
    ctx.events.publish({"type": "queue_changed"}, [QUEUE_CHANNEL])


async def set_state(
    ctx: AppContext,
    user_id: int,
    state: AgentState,
    *,
    reason: str | None = None,
    capacity: dict[str, int] | None = None,
    skills: dict[str, int] | None = None,
    languages: list[str] | None = None,
) -> None:
    """Sign in, become available, go away (with a reason), wrap up, sign out. An agent seen for
    the first time gets the general profile unless one is given."""
    now = utcnow()

    def write(session: Session) -> None:
        presence = session.get(AgentPresence, user_id) or AgentPresence(
            user_id=user_id,
            capacity=dict(GENERAL_CAPACITY),
            skills={},
            languages=list(GENERAL_LANGUAGES),
        )
        before = (presence.state, presence.away_reason)
        presence.state = state
        presence.away_reason = reason if state == AgentState.AWAY else None
        presence_log.changed(session, user_id, before, (state, presence.away_reason), now)
        presence.since = now
        if state == AgentState.AVAILABLE:
            presence.missed_in_row = 0
        if state != AgentState.WRAP_UP:
            presence.wrap_up_until = None
        if capacity is not None:
            presence.capacity = capacity
        if skills is not None:
            presence.skills = skills
        if languages is not None:
            presence.languages = languages
        session.add(presence)

    await ctx.db.run(write, write=True)
    ctx.events.publish(
        {"type": "agent_state", "agent_id": user_id, "state": str(state)}, [QUEUE_CHANNEL]
    )


async def sign_out(ctx: AppContext, agent_id: int) -> None:
    """The agent leaves the queue (a team leader's doing): signed out, and what was being
    offered to them goes back to wait for others, its offers ended as recalled."""
    await set_state(ctx, agent_id, AgentState.SIGNED_OUT)
    now = utcnow()

    def write(session: Session) -> None:
        session.execute(
            update(QueueItem)
            .where(QueueItem.agent_id == agent_id, QueueItem.state == QueueState.OFFERED)
            .values(state=QueueState.WAITING, agent_id=None, offered_at=None, offer_expires_at=None)
        )
        offers.recalled_from(session, agent_id, now)

    await ctx.db.run(write, write=True)


async def move(ctx: AppContext, item_id: int, agent_id: int) -> bool:
    """Give a contact to ``agent_id`` at once (a team leader's doing); an offer ringing for
    someone else ends as recalled. False when the contact is no longer in the queue."""
    now = utcnow()

    def write(session: Session) -> bool:
        moved = session.execute(
            update(QueueItem)
            .where(
                QueueItem.id == item_id,
                QueueItem.state.in_([QueueState.WAITING, QueueState.OFFERED, QueueState.ASSIGNED]),
            )
            .values(
                state=QueueState.ASSIGNED,
                agent_id=agent_id,
                assigned_at=func.coalesce(QueueItem.assigned_at, now),
                updated_at=now,
            )
        )
        if not moved.rowcount:  # type: ignore[attr-defined]
            return False
        offers.closed(session, item_id, offers.OfferEnd.RECALLED, now)
        return True

    if not await ctx.db.run(write, write=True):
        return False
    ctx.events.publish(
        {"type": "assigned", "item_id": item_id, "agent_id": agent_id}, [QUEUE_CHANNEL]
    )
    return True
