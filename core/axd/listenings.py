"""A supervisor's listening in to a call an agent takes on a desk phone, brokered through the
database between the console (any app process) and the phone line (the worker that runs the
media relay): the console ``ask``\\ s, the line finds the call and writes the relay's offer
(or says the call is on a softphone, listened to through the softphone, or refuses), the
console hands the offer to the supervisor's browser and writes its ``answer``, the line starts
the relay's copy; ``stop`` ends it, as does the call's end. Each row is also the record of one
listening: who, to whom, how, from when to when (the audit log has the ask)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from hotline.core.reference.labels import N_
from hotline.core.storage.models.axd import CallListening
from hotline.core.storage.models.base import utcnow

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

ASKED, SOFTPHONE, OFFERED, ANSWERED = "asked", "softphone", "offered", "answered"
LISTENING, STOPPING, ENDED, REFUSED = "listening", "stopping", "ended", "refused"
WAITING_FOR_THE_LINE = (ASKED, ANSWERED)  # the line's move next
FOR_THE_LINE = (ASKED, OFFERED, ANSWERED, LISTENING, STOPPING)  # what the line looks at
WAIT_SECONDS = 5.0  # how long the console waits for the line's move
NO_LINE = N_("Could not listen in: the phone line did not answer.")


@dataclass(frozen=True)
class Listening:
    """One listening as it stands."""

    id: int
    item_id: int
    supervisor_id: int
    mode: str
    state: str
    error: str | None
    call_id: str | None
    to_tag: str | None
    offer: str | None  # JSON: the relay's offers, one per party
    answer: str | None  # JSON: the browser's answers to them
    asked_at: datetime

    @property
    def offers(self) -> list[str]:
        return list(json.loads(self.offer)) if self.offer else []

    @classmethod
    def of(cls, row: CallListening) -> Listening:
        return cls(
            row.id,
            row.item_id,
            row.supervisor_id,
            row.mode,
            row.state,
            row.error,
            row.call_id,
            row.to_tag,
            row.offer,
            row.answer,
            row.asked_at,
        )


def ask(
    session: AsyncSession, supervisor_id: int, item_id: int, agent_id: int, mode: str
) -> CallListening:
    """Write unit (beside the audit of the same ask): the line is asked for the call."""
    row = CallListening(
        item_id=item_id, agent_id=agent_id, supervisor_id=supervisor_id, mode=mode, state=ASKED
    )
    session.add(row)
    return row


async def read(ctx: AppContext, listening_id: int) -> Listening | None:
    def unit(session: Session) -> Listening | None:
        row = session.get(CallListening, listening_id)
        return Listening.of(row) if row is not None else None

    return await ctx.db.run(unit, write=False)


async def moved(ctx: AppContext, listening_id: int, within: float | None = None) -> Listening:
    """The listening once the line has made its move; after ``within`` seconds (by default
    ``WAIT_SECONDS``) without one, refused (the line is not running; an answered one is
    stopped, for the line to end what it made), unless the line moves in that very moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (WAIT_SECONDS if within is None else within)
    while True:
        found = await read(ctx, listening_id)
        if found is None:
            raise LookupError(listening_id)
        if found.state not in WAITING_FOR_THE_LINE:
            return found
        if loop.time() > deadline:
            # an answered listening may have copies at the relay already: the line ends them
            given_up = {"state": STOPPING if found.state == ANSWERED else REFUSED, "error": NO_LINE}
            if await change(ctx, listening_id, (found.state,), **given_up):
                return (await read(ctx, listening_id)) or found
            continue  # the line moved meanwhile
        await asyncio.sleep(0.1)


async def change(
    ctx: AppContext, listening_id: int, states: tuple[str, ...], **values: Any
) -> bool:
    """Set ``values`` on the listening if it is in one of ``states`` now (whoever moves first
    wins: the console's give-up and the line's move, a stop and an answer); whether it was."""

    def unit(session: Session) -> bool:
        done = session.execute(
            update(CallListening)
            .where(CallListening.id == listening_id, CallListening.state.in_(states))
            .values(**values)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    return await ctx.db.run(unit, write=True)


async def answered(ctx: AppContext, listening_id: int, supervisor_id: int, sdps: list[str]) -> bool:
    """The supervisor's browser answered the relay's offers (one per party, in their order):
    the line starts the copies."""
    found = await read(ctx, listening_id)
    if found is None or found.supervisor_id != supervisor_id:
        return False
    return await change(ctx, listening_id, (OFFERED,), state=ANSWERED, answer=json.dumps(sdps))


async def stop(ctx: AppContext, listening_id: int, supervisor_id: int) -> bool:
    """The supervisor stops listening: the line ends the copy."""
    found = await read(ctx, listening_id)
    if found is None or found.supervisor_id != supervisor_id:
        return False
    return await change(ctx, listening_id, (OFFERED, ANSWERED, LISTENING), state=STOPPING)


async def for_the_line(ctx: AppContext) -> list[Listening]:
    """The listenings the line has to move or watch, oldest first."""

    def unit(session: Session) -> list[Listening]:
        query = select(CallListening).where(CallListening.state.in_(FOR_THE_LINE))
        return [Listening.of(row) for row in session.scalars(query.order_by(CallListening.id))]

    return await ctx.db.run(unit, write=False)


def ended_now() -> dict[str, Any]:
    return {"state": ENDED, "ended_at": utcnow()}
