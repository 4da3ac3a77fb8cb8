"""The contact centre's figures, from the queue items (every medium, calls included, so a call
answered a minute ago counts before its record is written) and the phone line's call detail
records (what only they hold: how long an answered call lasted, and calls that never queued).

A contact is *offered* when it enters the queue in the period (its ``waiting_since``); the
call-back item the line makes for the agent who answered a call is the same contact and is not
counted again (it never waited: taken the instant it was made). Of the offered:

- *answered*: an agent took it (``assigned_at``); its *wait* is ``assigned_at - waiting_since``;
- *abandoned*: the caller hung up while waiting (``outcome``); *short* when they left sooner
  than the short-abandon limit, counted apart (misdials, callers who hang up at once);
- *diverted*: the caller left the queue for a voicemail or a call back instead;
- the rest still wait (or are offered to an agent now).

*ASA* (average speed of answer): the mean wait of the answered. *AHT* (average handling time):
for calls, the talk time of the answered calls the line recorded (answer to hang-up; a call put
through to an agent's desk phone, from the agent's taking it to finishing it); for every
other medium, taking the item to finishing it (``done_at - assigned_at``). The after-contact
work (wrap-up) is not recorded per contact, so it is not in AHT. *Service level*: answered
within N seconds, over the contacts that finished waiting (answered and abandoned) less the
short abandons; ``None`` when none did.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, case, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.enums import Media, QueueOutcome
from hotline.core.storage.models.axd import CallRecord, QueueItem

from .period import Period, dialect_of, seconds
from .scope import EVERYTHING, Scope

# SQLite measures time in fractional days (julianday): a wait of exactly N seconds comes out
# a few microseconds over N. A millisecond's grace keeps an answer at the limit within it.
EXACT = 0.001


@dataclass(frozen=True)
class ContactFigures:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0  # short abandons included
    short_abandoned: int = 0
    diverted: int = 0  # left for a voicemail or a call back
    answered_within: int = 0  # within the service-level seconds
    wait_seconds: float = 0.0  # the answered contacts' waits, summed
    handled: int = 0  # contacts with a recorded handling time
    handle_seconds: float = 0.0

    @property
    def asa(self) -> float | None:
        """Average speed of answer, in seconds."""
        return self.wait_seconds / self.answered if self.answered else None

    @property
    def aht(self) -> float | None:
        """Average handling time, in seconds."""
        return self.handle_seconds / self.handled if self.handled else None

    @property
    def service_level(self) -> float | None:
        """Answered within the target, as a fraction of those that finished waiting."""
        finished = self.answered + self.abandoned - self.short_abandoned
        return self.answered_within / finished if finished else None

    @property
    def abandon_rate(self) -> float | None:
        """Abandoned (short ones left out) over offered (short ones left out)."""
        counted = self.offered - self.short_abandoned
        return (self.abandoned - self.short_abandoned) / counted if counted else None

    def __add__(self, other: ContactFigures) -> ContactFigures:
        return ContactFigures(
            self.offered + other.offered,
            self.answered + other.answered,
            self.abandoned + other.abandoned,
            self.short_abandoned + other.short_abandoned,
            self.diverted + other.diverted,
            self.answered_within + other.answered_within,
            self.wait_seconds + other.wait_seconds,
            self.handled + other.handled,
            self.handle_seconds + other.handle_seconds,
        )


@dataclass(frozen=True)
class Breakdown:
    """The figures for the whole, and per medium or per queue."""

    total: ContactFigures
    parts: dict[str, ContactFigures] = field(default_factory=dict)


def _is_followup() -> Any:
    """The call-back item made for the agent who answered the call: the same contact."""
    return and_(QueueItem.media == Media.CALLBACK, QueueItem.assigned_at == QueueItem.waiting_since)


def queue_of() -> Any:
    """The queue an item belongs to: its first skill ("" for the site's default)."""
    return func.coalesce(QueueItem.skills[0].as_string(), "")


async def contacts(
    session: AsyncSession,
    period: Period,
    *,
    by: str = "media",
    service_seconds: int = 20,
    short_seconds: int = 5,
    scope: Scope = EVERYTHING,
) -> Breakdown:
    """The contact centre's figures for contacts offered in ``period``, per ``by`` (``media``
    or ``queue``)."""
    dialect = dialect_of(session)
    key = QueueItem.media if by == "media" else queue_of()
    waited = seconds(QueueItem.assigned_at, QueueItem.waiting_since, dialect)
    left_after = seconds(QueueItem.done_at, QueueItem.waiting_since, dialect)
    taken = QueueItem.assigned_at.is_not(None)
    abandoned = QueueItem.outcome == QueueOutcome.ABANDONED
    # calls' handling comes from their records; other media's from the item itself
    handled = and_(
        taken,
        QueueItem.done_at.is_not(None),
        QueueItem.outcome.is_(None),
        QueueItem.media != "voice",
    )

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def total(condition: Any, value: Any) -> Any:
        return func.coalesce(func.sum(case((condition, value), else_=0.0)), 0.0)

    rows = await session.execute(
        select(
            key,
            func.count(),
            count(taken),
            count(abandoned),
            count(and_(abandoned, left_after < short_seconds - EXACT)),
            count(QueueItem.outcome.in_([QueueOutcome.VOICEMAIL, QueueOutcome.CALLBACK])),
            count(and_(taken, waited <= service_seconds + EXACT)),
            total(taken, waited),
            count(handled),
            total(handled, seconds(QueueItem.done_at, QueueItem.assigned_at, dialect)),
        )
        .where(period.holds(QueueItem.waiting_since), not_(_is_followup()), scope.items())
        .group_by(key)
    )
    parts = {
        str(row[0]): ContactFigures(
            offered=int(row[1]),
            answered=int(row[2]),
            abandoned=int(row[3]),
            short_abandoned=int(row[4]),
            diverted=int(row[5]),
            answered_within=int(row[6]),
            wait_seconds=float(row[7]),
            handled=int(row[8]),
            handle_seconds=float(row[9]),
        )
        for row in rows
    }
    talk = await _talk(session, period, by, scope)
    for name, (n, secs) in talk.items():
        base = parts.get(name, ContactFigures())
        parts[name] = replace(
            base, handled=base.handled + n, handle_seconds=base.handle_seconds + secs
        )
    whole = sum(parts.values(), ContactFigures())
    return Breakdown(whole, dict(sorted(parts.items())))


async def _talk(
    session: AsyncSession, period: Period, by: str, scope: Scope = EVERYTHING
) -> dict[str, tuple[int, float]]:
    """Answered calls' talk time (answer to hang-up), from the call records, per medium or
    queue, for calls that entered the queue in ``period`` (a transfer's leg is the same
    item's, counted once). A call put through to an agent's desk
    phone left the line at the transfer: its handling is the agent's, from taking the call to
    finishing it in the console (not counted until finished)."""
    dialect = dialect_of(session)
    on_the_line = seconds(CallRecord.ended_at, CallRecord.queued_at, dialect) - func.coalesce(
        CallRecord.wait_seconds, 0.0
    )
    put_through = CallRecord.put_through_to.is_not(None)
    talk = case(
        (put_through, seconds(QueueItem.done_at, QueueItem.assigned_at, dialect)),
        else_=on_the_line,
    )
    key = func.coalesce(CallRecord.queue, "") if by == "queue" else None
    columns = [func.count(), func.coalesce(func.sum(talk), 0.0)]
    query = (
        select(*([key] if key is not None else []), *columns)
        .outerjoin(QueueItem, QueueItem.id == CallRecord.queue_item_id)
        .where(
            CallRecord.left_reason == QueueOutcome.ANSWERED,
            CallRecord.leg == "",  # a transfer's leg is the same item's handling
            period.holds(CallRecord.queued_at),
            not_(put_through) | QueueItem.done_at.is_not(None),
            scope.calls(),
        )
    )
    if key is not None:
        return {
            str(r[0]): (int(r[1]), float(r[2])) for r in await session.execute(query.group_by(key))
        }
    row = (await session.execute(query)).one()
    n, secs = row[0], row[1]
    return {str(Media.VOICE): (int(n), float(secs))} if n else {}


@dataclass(frozen=True)
class CallFigures:
    """The phone line's calls that arrived in the period, from their records (written when a
    call ends: a call still going on is not in them). A citizen's call counts once, by the
    leg that arrived at the line: an agent's transfer's new leg and an agent's own call to a
    citizen are not calls that arrived."""

    arrived: int = 0
    queued: int = 0  # asked for an agent
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    voicemail: int = 0
    callback: int = 0
    self_served: int = 0  # ended in the phone menu (a status question, a message, a hang-up)


async def calls(session: AsyncSession, period: Period, *, short_seconds: int = 5) -> CallFigures:
    reason = CallRecord.left_reason

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = (
        await session.execute(
            select(
                func.count(),
                count(CallRecord.queued_at.is_not(None)),
                count(reason == QueueOutcome.ANSWERED),
                count(reason == QueueOutcome.ABANDONED),
                count(
                    and_(
                        reason == QueueOutcome.ABANDONED,
                        func.coalesce(CallRecord.wait_seconds, 0.0) < short_seconds,
                    )
                ),
                count(reason == QueueOutcome.VOICEMAIL),
                count(reason == QueueOutcome.CALLBACK),
                count(CallRecord.queued_at.is_(None)),
            ).where(period.holds(CallRecord.arrived_at), CallRecord.leg == "")
        )
    ).one()
    return CallFigures(*(int(v) for v in row))
