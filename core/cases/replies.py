"""Replies to citizens: an outbound Interaction and the job that delivers it.

``queue_reply`` writes the message and its delivery job (a row of the job outbox,
``core/storage/outbox.py``) in the caller's transaction, so a reply exists, and will be sent, exactly
when the change that caused it committed. ``deliver`` claims the message before sending, so two
runs never both send; the ``send_reply`` hook picks the channel that owns the contact kind. A
crash mid-send leaves the message ``sending``: once its claim is older than the job lease the
next run sends it again with the same idempotency key (e-mail: the same Message-ID), so a
message is sent at least once and never twice unless the crash fell between the channel taking
it and our marking it sent. The reconciliation writes the job for any pending message without
one (messages from before the outbox, say).

A message may say where the lookup code goes (``LOOKUP_CODE_MASK`` in the text and
``meta['lookup_code']``): the stored text, which staff read, never holds the code; it is put in
only as the message leaves.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases.lookup import lookup_code
from hotline.core.delivery.events import CaseEventMessage
from hotline.core.delivery.followups import TryLater
from hotline.core.delivery.jobs import JobSpec, Missing
from hotline.core.foundation import crashpoints
from hotline.core.storage import outbox
from hotline.core.storage.enums import ActorKind, DeliveryStatus, Direction
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint, Interaction
from hotline.core.storage.models.delivery import OutboxJob

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.replies")

DELIVER_JOB = "hotline.deliver_reply"
MAX_ATTEMPTS = 6
REPORTED = (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)  # set by a delivery report
LOOKUP_CODE_MASK = "******"  # where the lookup code goes in a stored text (never the code)


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
    # the same for every attempt at this message: a peer that can deduplicate should use it
    idempotency_key: str = ""


def deliver_key(interaction_id: int) -> str:
    return f"{DELIVER_JOB}:{interaction_id}"


async def queue_reply(
    session: AsyncSession,
    case: Case,
    contact: ContactPoint,
    text: str,
    subject: str = "",
    purpose: str = "reply",
    *,
    with_lookup_code: bool = False,
) -> Interaction:
    """Add an outbound message to ``case`` and its delivery job, in the caller's transaction.
    ``with_lookup_code``: the text holds ``LOOKUP_CODE_MASK`` where the case's lookup code goes
    when it is sent."""
    status = DeliveryStatus.FAILED if contact.opted_out else DeliveryStatus.PENDING
    interaction = Interaction(
        case_id=case.id,
        direction=Direction.OUT,
        channel=contact.kind,
        contact_point_id=contact.id,
        text=text,
        delivery_status=status,
        delivery_detail="the citizen opted out" if contact.opted_out else None,
        meta={"subject": subject, "purpose": purpose, "lookup_code": with_lookup_code},
    )
    session.add(interaction)
    await session.flush()
    if status == DeliveryStatus.PENDING:
        outbox.add(
            session,
            DELIVER_JOB,
            key=deliver_key(interaction.id),
            args={"interaction_id": interaction.id},
            case_id=case.id,
        )
    return interaction


async def enqueue_delivery(ctx: AppContext, interaction_id: int) -> None:
    """Nudge a worker to deliver a message now (its job was written with it; the relay would
    hand it over anyway)."""
    await ctx.jobs.ahand_over([(deliver_key(interaction_id), 0.0)])


def as_sent(secret_key: str, tracking_number: str, row: Interaction) -> str:
    """An outbound message's text as its citizen gets it: the lookup code in its place. Only
    for the citizen's own eyes (the channel sending it, the citizen's own chat page)."""
    if (row.meta or {}).get("lookup_code"):
        return with_code(secret_key, tracking_number, row.text)
    return row.text


def with_code(secret_key: str, tracking_number: str, text: str) -> str:
    """``text`` with the case's lookup code where the mask stands."""
    return text.replace(LOOKUP_CODE_MASK, lookup_code(secret_key, tracking_number), 1)


async def _message(
    ctx: AppContext, session: AsyncSession, row: Interaction
) -> OutboundMessage | None:
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
    text = as_sent(ctx.secret_key, case.tracking_number, row)
    return OutboundMessage(
        interaction_id=row.id,
        case_id=case.id,
        tracking_number=case.tracking_number,
        language=case.language,
        contact_kind=contact.kind,
        contact_value=contact.value,
        subject=str(row.meta.get("subject") or ""),
        text=text,
        in_reply_to=last_in,
        purpose=str(row.meta.get("purpose") or "reply"),
        idempotency_key=deliver_key(row.id),
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
    """Job: send one outbound message through the ``send_reply`` hook. A message another run
    claimed less than a job lease ago waits (``TryLater``); an older claim is a run that died,
    and this one sends again."""
    stale = utcnow() - timedelta(seconds=ctx.settings.job_lease_seconds)
    async with ctx.db.transaction() as session:
        claimed = await session.execute(
            update(Interaction)
            .where(
                Interaction.id == interaction_id,
                Interaction.direction == Direction.OUT,
                or_(
                    Interaction.delivery_status == DeliveryStatus.PENDING,
                    and_(
                        Interaction.delivery_status == DeliveryStatus.SENDING,
                        Interaction.claimed_at < stale,
                    ),
                ),
            )
            .values(
                delivery_status=DeliveryStatus.SENDING,
                claimed_at=utcnow(),
                attempts=Interaction.attempts + 1,
            )
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            row = await session.get(Interaction, interaction_id)
            if row is not None and row.delivery_status == DeliveryStatus.SENDING:
                raise TryLater(ctx.settings.job_lease_seconds, "another run is sending it")
            return "not pending"
        row = await session.get(Interaction, interaction_id)
        assert row is not None
        message = await _message(ctx, session, row)
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
    crashpoints.crash_point("reply.sent")
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


async def missing_deliveries(
    session: AsyncSession, _since: datetime, case_id: int | None
) -> list[Missing]:
    """Reconciliation: messages waiting to be sent (or cut off mid-send) with no live job."""
    query = select(Interaction.id, Interaction.case_id).where(
        Interaction.direction == Direction.OUT,
        Interaction.delivery_status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
        Interaction.attempts < MAX_ATTEMPTS,
    )
    if case_id is not None:
        query = query.where(Interaction.case_id == case_id)
    waiting = {deliver_key(i): (i, c) for i, c in await session.execute(query.limit(1000))}
    if not waiting:
        return []
    live = set(
        await session.scalars(
            select(OutboxJob.key).where(
                OutboxJob.key.in_(list(waiting)), OutboxJob.state.in_(outbox.LIVE)
            )
        )
    )
    return [
        Missing(key, case, {"interaction_id": row}, rearm=True)
        for key, (row, case) in waiting.items()
        if key not in live
    ]


def jobs() -> list[JobSpec]:
    return [
        JobSpec(
            DELIVER_JOB,
            deliver,
            retries=MAX_ATTEMPTS + 2,  # ``deliver`` gives up itself, visibly, after MAX_ATTEMPTS
            retry_delay=10,
            retry_backoff=2,
            reconcile=missing_deliveries,
        ),
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
