"""An agent's transfer of the call they are on: to a queue (the caller waits there again,
first in line), to another agent (the call is theirs at once) or to an outside number (through
the site's trunk; the case stays the agent's to finish).

Two steps, because the caller moves by SIP, not by the database: ``ask`` (the console) checks
the target and writes the transfer; the agent's softphone then refers the caller to the line's
transfer number, and the line, when the caller arrives, ``take``\\ s it (the caller's number
names it, as for a call coming back: withheld numbers match each other, oldest first): only
then does the queue item move, so a caller whose phone refused the transfer is still the
agent's. The transferring agent wraps up as when they finish a contact.

Before handing a caller to another agent, the agent may talk to that agent first (``consult``:
checked as a transfer to them, written on the case; they are busy meanwhile,
``consultations``); the transfer that follows is ``attended``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from hotline.core.axd import consultations, offers
from hotline.core.axd.call_recordings import current_call
from hotline.core.axd.calls import wait_again
from hotline.core.axd.desk_phones import is_extension
from hotline.core.axd.selection import rules_for
from hotline.core.axd.state import start_wrap_up
from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.reference.labels import N_
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import AgentState, Media, QueueState
from hotline.core.storage.models.axd import (
    AgentPresence,
    CallRecord,
    CallTransfer,
    QueueItem,
    SkillGroup,
)
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import CaseEvent
from hotline.core.storage.models.people import User

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

KINDS = ("queue", "agent", "number")
TAKE_WITHIN = timedelta(minutes=2)  # a token the caller did not bring by then is void
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class TransferRefused(ValueError):
    """Why the transfer cannot be made (a catalog message)."""


@dataclass(frozen=True)
class Taken:
    """A transfer the line takes as the caller arrives: the item, its case, where to."""

    item_id: int
    case_id: int
    kind: str
    target: str
    from_agent_id: int
    language: str


def _check_target(
    session: Session, agent_id: int, kind: str, target: str, trunk: str, consulted: bool = False
) -> None:
    """Why the call cannot go there, raised. ``consulted``: the agent talked to the target agent
    first about this call, so the target is busy in that consultation, not away."""
    if kind == "queue":
        if session.get(SkillGroup, target) is None:
            raise TransferRefused(N_("There is no such queue."))
    elif kind == "agent":
        other = session.get(User, int(target)) if target.isdigit() else None
        presence = session.get(AgentPresence, other.id) if other is not None else None
        if other is None or other.id == agent_id or not other.active or presence is None:
            raise TransferRefused(N_("That is not another agent."))
        if presence.state != AgentState.AVAILABLE and not (
            consulted and consultations.in_consultation(presence)
        ):
            raise TransferRefused(N_("That agent is not available now."))
        if session.scalar(on_calls().where(QueueItem.agent_id == other.id).limit(1)):
            raise TransferRefused(N_("That agent is on a call."))
    elif kind == "number":
        if not trunk:
            raise TransferRefused(N_("No trunk is set up for outside numbers."))
        if not NUMBER.match(target):
            raise TransferRefused(N_("That is not a telephone number."))
    else:
        raise TransferRefused(N_("Choose where the call goes."))


def on_calls() -> Select[Any]:
    """The agents a call is ringing for or is with: no call is transferred to them, and they
    are not consulted."""
    return select(QueueItem.agent_id).where(
        QueueItem.media == Media.VOICE,
        QueueItem.state.in_([QueueState.OFFERED, QueueState.ASSIGNED]),
        QueueItem.agent_id.is_not(None),
    )


def _consulted_on(session: Session, item: QueueItem, target: str) -> bool:
    """Whether agent ``target`` was consulted about this call (``consult``)."""
    details = session.scalars(
        select(CaseEvent.detail).where(
            CaseEvent.case_id == item.case_id, CaseEvent.action == "call_consulted"
        )
    )
    return any(
        str(detail.get("agent")) == target and detail.get("item") == item.id
        for detail in details
        if detail
    )


def _call_in_progress(session: Session, agent_id: int) -> QueueItem:
    """The queue item of the call the agent is on, or why there is none."""
    record: CallRecord | None = session.scalar(current_call(agent_id))
    item = session.get(QueueItem, record.queue_item_id) if record is not None else None
    if (
        item is None
        or item.state != QueueState.ASSIGNED
        or item.agent_id != agent_id
        or item.media != Media.VOICE
    ):
        raise TransferRefused(N_("You have no call in progress to transfer."))
    return item


async def ask(
    ctx: AppContext, agent_id: int, kind: str, target: str, *, attended: bool = False
) -> int:
    """The transfer, written for the line to take when the caller arrives; its id.
    ``attended``: the agent talked to the target agent first (``consult``)."""
    target = target.strip().replace(" ", "").replace("-", "")
    if attended and kind != "agent":
        raise TransferRefused(N_("Only another agent can be consulted first."))

    def write(session: Session) -> int:
        item = _call_in_progress(session, agent_id)
        consulted = attended and _consulted_on(session, item, target)
        _check_target(session, agent_id, kind, target, ctx.settings.phone_trunk, consulted)
        transfer = CallTransfer(
            item_id=item.id,
            from_agent_id=agent_id,
            kind=kind,
            target=target,
            asked_at=utcnow(),
            attended=attended,
        )
        session.add(transfer)
        session.flush()
        return transfer.id

    return await ctx.db.run(write, write=True)


@dataclass(frozen=True)
class Consulted:
    """The agent an agent on a call may talk to first: who, and the call's case."""

    agent_id: int
    name: str
    case_id: int
    item_id: int
    extension: str  # their desk phone's, when it registers to the hotline ("" otherwise)
    address: str = ""  # their desk phone's SIP address, when it has one


async def consult(ctx: AppContext, actor: Actor, target: str) -> Consulted:
    """The agent on a call (``actor``) asks to talk to another agent first, the caller on hold:
    an attended transfer, or a three-way call, once that agent answers. Checked as a transfer
    to them is; written on the case (who was consulted)."""
    me = actor.id or 0  # staff always have an id

    def write(session: Session) -> Consulted:
        item = _call_in_progress(session, me)
        _check_target(session, me, "agent", target, ctx.settings.phone_trunk)
        other = session.get(User, int(target))
        assert other is not None  # checked above
        detail = {"agent": other.id, "item": item.id}
        session.add(CaseEvent.by(actor, item.case_id, "call_consulted", detail))
        presence = session.get(AgentPresence, other.id)
        assert presence is not None  # checked above
        consultations.engage(session, presence, utcnow())  # offered nothing while they talk
        desk = str(presence.desk_phone or "")
        extension, address = (desk, "") if is_extension(desk) else ("", desk)
        return Consulted(other.id, other.display_name, item.case_id, item.id, extension, address)

    return await ctx.db.run(write, write=True)


async def take(ctx: AppContext, number: str) -> Taken | None:
    """A caller from ``number`` ("" withheld) arrived at the line's transfer number: the oldest
    transfer of a call from that number, asked within ``TAKE_WITHIN``, happens (once). None: no
    such transfer (a stranger, one taken already or too late)."""
    now = utcnow()

    def write(session: Session) -> Taken | None:
        of_caller = select(CallRecord.queue_item_id).where(CallRecord.caller == number[:32])
        found = session.scalar(
            select(CallTransfer)
            .where(
                CallTransfer.taken_at.is_(None),
                CallTransfer.asked_at >= now - TAKE_WITHIN,
                CallTransfer.item_id.in_(of_caller),
            )
            .order_by(CallTransfer.asked_at)
            .limit(1)
            .with_for_update()
        )
        if found is None:
            return None
        item = session.get(QueueItem, found.item_id)
        if item is None or item.agent_id != found.from_agent_id:
            return None
        found.taken_at = now
        # the agent's part is over (they keep an outside transfer): the wrap-up of the queue
        # the call was in, as when they finish a contact
        wrap_up = rules_for(session, item, ctx.settings).wrap_up_seconds
        if found.kind == "queue":
            wait_again(item, found.from_agent_id, now)  # not offered back to them
            item.skills = [found.target]
        elif found.kind == "agent":
            item.agent_id, item.assigned_at = int(found.target), now
            offers.closed(session, item.id, offers.OfferEnd.RECALLED, now)
        item.updated_at = now
        if found.kind != "number":
            start_wrap_up(session, found.from_agent_id, wrap_up, now)
        meta = item.interaction.meta if item.interaction is not None else {}
        return Taken(
            item.id,
            item.case_id,
            found.kind,
            found.target,
            found.from_agent_id,
            str((meta or {}).get("speech_language") or ""),
        )

    taken = await ctx.db.run(write, write=True)
    if taken is not None:
        ctx.events.publish(
            {"type": "queue_changed", "item_id": taken.item_id, "agent_id": taken.from_agent_id},
            [QUEUE_CHANNEL],
        )
    return taken
