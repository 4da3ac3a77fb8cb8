"""Replies to citizens: an outbound Interaction (the outbox row) and a job that delivers it.

The row is written in the caller's transaction, so a reply exists exactly when the change that
caused it committed. ``deliver`` claims the row before sending, so two runs never both send;
the ``send_reply`` hook picks the channel that owns the contact kind. A crash mid-send leaves
the row ``sending``; the sweep job puts it back after ``STALE_CLAIM`` (at-least-once then).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.context import AppContext
from hotline.core.enums import ActorKind, DeliveryStatus, Direction
from hotline.core.events import CaseEventMessage
from hotline.core.jobs import JobSpec
from hotline.core.models import Case, CaseEvent, ContactPoint, Interaction, utcnow

log = logging.getLogger("hotline.replies")

DELIVER_JOB = "hotline.deliver_reply"
SWEEP_JOB = "hotline.sweep_outbox"
MAX_ATTEMPTS = 6
STALE_CLAIM = timedelta(minutes=15)
REPORTED = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)  # set by a delivery report


@dataclass(frozen=True)
class OutboundMessage:
    """What a channel needs to send one message."""

    interaction_id: int
    case_id: int
    tracking_number: str
    language: str
    contact_kind: str
    contact_value: str
    subject: str
    text: str
    in_reply_to: str | None  # the channel's id of the last inbound message on this case
    purpose: str = "reply"  # acknowledgement, reply (the answer after review), answer, ...


async def queue_reply(
    session: AsyncSession,
    case: Case,
    contact: ContactPoint,
    text: str,
    subject: str = "",
    purpose: str = "reply",
) -> Interaction:
    """Add an outbound message to ``case`` in the caller's transaction (the outbox row)."""
    status = DeliveryStatus.FAILED if contact.opted_out else DeliveryStatus.PENDING
    interaction = Interaction(
        case_id=case.id,
        direction=Direction.OUT,
        channel=contact.kind,
        contact_point_id=contact.id,
        text=text,
        delivery_status=status,
        delivery_detail="the citizen opted out" if contact.opted_out else None,
        meta={"subject": subject, "purpose": purpose},
    )
    session.add(interaction)
    await session.flush()
    return interaction


async def enqueue_delivery(ctx: AppContext, interaction_id: int) -> None:
    await ctx.jobs.aenqueue(DELIVER_JOB, interaction_id=interaction_id)


async def _message(session: AsyncSession, row: Interaction) -> OutboundMessage | None:
    case = await session.get(Case, row.case_id)
    contact = (
        await session.get(ContactPoint, row.contact_point_id) if row.contact_point_id else None
    )
    if case is None or contact is None:
        return None
    last_in = await session.scalar(
        select(Interaction.external_id)
        .where(
            Interaction.case_id == case.id,
            Interaction.direction == Direction.IN,
            Interaction.channel == row.channel,
            Interaction.external_id.is_not(None),
        )
        .order_by(Interaction.id.desc())
        .limit(1)
    )
    return OutboundMessage(
        interaction_id=row.id,
        case_id=case.id,
        tracking_number=case.tracking_number,
        language=case.language,
        contact_kind=contact.kind,
        contact_value=contact.value,
        subject=str(row.meta.get("subject") or ""),
        text=row.text,
        in_reply_to=last_in,
        purpose=str(row.meta.get("purpose") or "reply"),
    )


def settle(
    session: AsyncSession,
    case: Case,
    row: Interaction,
    status: DeliveryStatus,
    detail: str | None,
    action: str,
) -> CaseEvent:
    """Give an outbound message its delivery status, with an event on its case saying so.
    In the caller's transaction; the caller delivers the event's message after commit."""
    row.delivery_status = status
    row.delivery_detail = detail
    row.claimed_at = None
    event = CaseEvent(
        case_id=case.id,
        action=action,
        actor_kind=ActorKind.SYSTEM,
        public=False,
        detail={"interaction": row.id, "channel": row.channel, "status": str(status)},
    )
    session.add(event)
    return event


async def lock_outbound(session: AsyncSession, interaction_id: int) -> Interaction | None:
    """The outbound message, read after taking its row's write lock: a no-op update does that on
    PostgreSQL and on SQLite alike, so a delivery report and the end of a send never overwrite
    each other's status."""
    touched = await session.execute(
        update(Interaction)
        .where(Interaction.id == interaction_id, Interaction.direction == Direction.OUT)
        .values(attempts=Interaction.attempts)
    )
    if touched.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(Interaction, interaction_id)


async def _finish(
    ctx: AppContext, interaction_id: int, status: DeliveryStatus, detail: str | None, action: str
) -> None:
    async with ctx.db.transaction() as session:
        row = await lock_outbound(session, interaction_id)
        assert row is not None
        if status == DeliveryStatus.SENT and row.delivery_status in REPORTED:
            # a delivery report overtook the end of the send: keep what it said
            status, detail = DeliveryStatus(row.delivery_status), row.delivery_detail
        case = await session.get(Case, row.case_id)
        assert case is not None
        event = settle(session, case, row, status, detail, action)
        await session.flush()
        message = CaseEventMessage.of(case, event)
    await ctx.events.deliver(ctx, [message])


async def deliver(ctx: AppContext, interaction_id: int) -> str:
    """Job: send one pending outbound message through the ``send_reply`` hook."""
    async with ctx.db.transaction() as session:
        claimed = await session.execute(
            update(Interaction)
            .where(
                Interaction.id == interaction_id,
                Interaction.delivery_status == DeliveryStatus.PENDING,
            )
            .values(
                delivery_status=DeliveryStatus.SENDING,
                claimed_at=utcnow(),
                attempts=Interaction.attempts + 1,
            )
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return "not pending"
        row = await session.get(Interaction, interaction_id)
        assert row is not None
        message = await _message(session, row)
        attempts = row.attempts
    if message is None:
        await _finish(
            ctx, interaction_id, DeliveryStatus.FAILED, "no contact point", "reply_failed"
        )
        return "failed"
    try:
        answer = ctx.pm.hook.send_reply(ctx=ctx, message=message)
        if inspect.isawaitable(answer):
            answer = await answer
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        if attempts >= MAX_ATTEMPTS:
            await _finish(ctx, interaction_id, DeliveryStatus.FAILED, reason, "reply_failed")
            return "failed"
        async with ctx.db.transaction() as session:
            await session.execute(
                update(Interaction)
                .where(Interaction.id == interaction_id)
                .values(
                    delivery_status=DeliveryStatus.PENDING, delivery_detail=reason, claimed_at=None
                )
            )
        log.warning("reply not sent, will retry", extra={"interaction": interaction_id})
        raise
    if answer is None:
        await _finish(
            ctx,
            interaction_id,
            DeliveryStatus.NO_CHANNEL,
            f"no channel installed for {message.contact_kind}",
            "reply_undeliverable",
        )
        return "no channel"
    await _finish(ctx, interaction_id, DeliveryStatus.SENT, str(answer)[:500], "reply_sent")
    return "sent"


async def sweep_outbox(ctx: AppContext) -> int:
    """Periodic job: put stale claims back and enqueue what waits (after a crash, say)."""
    now = utcnow()
    async with ctx.db.transaction() as session:
        await session.execute(
            update(Interaction)
            .where(
                Interaction.delivery_status == DeliveryStatus.SENDING,
                Interaction.claimed_at < now - STALE_CLAIM,
            )
            .values(delivery_status=DeliveryStatus.PENDING, claimed_at=None)
        )
        waiting = list(
            await session.scalars(
                select(Interaction.id).where(
                    Interaction.delivery_status == DeliveryStatus.PENDING,
                    Interaction.direction == Direction.OUT,
                    Interaction.created_at < now - timedelta(minutes=2),
                    Interaction.attempts < MAX_ATTEMPTS,
                )
            )
        )
    for interaction_id in waiting:
        await enqueue_delivery(ctx, interaction_id)
    return len(waiting)


def jobs() -> list[JobSpec]:
    from huey import crontab

    return [
        JobSpec(DELIVER_JOB, deliver, retries=MAX_ATTEMPTS, retry_delay=10, retry_backoff=2),
        JobSpec(SWEEP_JOB, sweep_outbox, periodic=crontab(minute="*/5")),
    ]


async def mark_bounced(ctx: AppContext, interaction_id: int, reason: str) -> bool:
    """A message of ours came back undelivered (a bounce): it failed, and the case says so.
    False when there is no such outbound message or it was marked already."""
    async with ctx.db.session() as session:
        row = await session.get(Interaction, interaction_id)
        if row is None or row.direction != Direction.OUT:
            return False
        if row.delivery_status == DeliveryStatus.FAILED:
            return False
    await _finish(
        ctx, interaction_id, DeliveryStatus.FAILED, f"bounced: {reason}"[:500], "reply_bounced"
    )
    return True
