"""Replies leave through the outbox: sent once, retried on failure, failed visibly at the end;
a send cut off by a crash is sent again (same idempotency key) once its claim is stale."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from hotline.core.cases import replies
from hotline.core.cases.replies import OutboundMessage, deliver, deliver_key, queue_reply
from hotline.core.delivery.followups import TryLater, reconcile
from hotline.core.intake.receive import receive
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext, Kernel
from hotline.core.storage.enums import DeliveryStatus
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint, Interaction
from hotline.core.storage.models.delivery import OutboxJob
from tests.conftest import seed_city
from tests.factories import submission


class FlakyMail:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OutboundMessage] = []

    @hookimpl
    async def send_reply(self, message: OutboundMessage) -> str | None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("SMTP server down")
        self.sent.append(message)
        return "queued as 4F2A"


async def outbox_row(ctx: AppContext, text: str = "您反映的问题已处理") -> int:
    await seed_city(ctx)
    result = await receive(ctx, submission(contacts=[{"kind": "email", "value": "w@example.cn"}]))
    async with ctx.db.transaction() as s:
        case = await s.get(Case, result.case_id)
        contact = await s.scalar(select(ContactPoint))
        assert case is not None and contact is not None
        row = await queue_reply(s, case, contact, text, subject="答复")
        return row.id


async def test_a_failing_channel_is_retried_then_succeeds(ctx: AppContext, kernel: Kernel) -> None:
    mail = FlakyMail(failures=2)
    kernel.pm.register(mail)
    row_id = await outbox_row(ctx)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await deliver(ctx, row_id)
    assert await deliver(ctx, row_id) == "sent"
    assert await deliver(ctx, row_id) == "not pending"  # a late retry sends nothing twice
    assert len(mail.sent) == 1 and mail.sent[0].text == "您反映的问题已处理"
    async with ctx.db.session() as s:
        row = await s.get(Interaction, row_id)
    assert row is not None and (row.delivery_status, row.attempts) == (DeliveryStatus.SENT, 3)


async def test_after_the_last_attempt_the_case_shows_the_failure(
    ctx: AppContext, kernel: Kernel
) -> None:
    kernel.pm.register(FlakyMail(failures=100))
    row_id = await outbox_row(ctx)
    for _ in range(replies.MAX_ATTEMPTS - 1):
        with pytest.raises(ConnectionError):
            await deliver(ctx, row_id)
    assert await deliver(ctx, row_id) == "failed"
    async with ctx.db.session() as s:
        row = await s.get(Interaction, row_id)
        events = list(
            await s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == row.case_id))
        )
    assert row.delivery_status == DeliveryStatus.FAILED and "SMTP server down" in (
        row.delivery_detail or ""
    )
    assert "reply_failed" in events


async def test_two_deliveries_at_once_send_once(ctx: AppContext, kernel: Kernel) -> None:
    mail = FlakyMail(failures=0)
    kernel.pm.register(mail)
    row_id = await outbox_row(ctx)
    outcomes = await asyncio.gather(
        *(deliver(ctx, row_id) for _ in range(4)), return_exceptions=True
    )
    assert outcomes.count("sent") == 1 and len(mail.sent) == 1
    # the others found it sending (wait, then see it sent) or already sent
    assert all(o == "sent" or o == "not pending" or isinstance(o, TryLater) for o in outcomes)


async def test_a_send_cut_off_by_a_crash_is_sent_again_with_the_same_key(
    ctx: AppContext, kernel: Kernel
) -> None:
    mail = FlakyMail(failures=0)
    kernel.pm.register(mail)
    row_id = await outbox_row(ctx)
    just_now = utcnow()
    async with ctx.db.transaction() as s:  # as a process killed mid-send leaves it
        await s.execute(
            update(Interaction)
            .where(Interaction.id == row_id)
            .values(delivery_status=DeliveryStatus.SENDING, claimed_at=just_now, attempts=1)
        )
    with pytest.raises(TryLater):  # a fresh claim: another run may be sending it right now
        await deliver(ctx, row_id)
    assert mail.sent == []
    long_ago = utcnow() - timedelta(seconds=ctx.settings.job_lease_seconds + 1)
    async with ctx.db.transaction() as s:
        await s.execute(
            update(Interaction).where(Interaction.id == row_id).values(claimed_at=long_ago)
        )
    assert await deliver(ctx, row_id) == "sent" and len(mail.sent) == 1
    assert mail.sent[0].idempotency_key == deliver_key(row_id)


async def test_a_waiting_reply_without_its_job_gets_one(ctx: AppContext, kernel: Kernel) -> None:
    """Replies written before the outbox existed (or whose job row went missing) are found by
    the reconciliation and delivered."""
    mail = FlakyMail(failures=0)
    kernel.pm.register(mail)
    row_id = await outbox_row(ctx)
    async with ctx.db.transaction() as s:
        await s.execute(delete(OutboxJob))
    assert await reconcile(ctx) >= 1
    async with ctx.db.session() as s:
        job = await s.scalar(select(OutboxJob).where(OutboxJob.key == deliver_key(row_id)))
    assert job is not None and job.state == "pending"
    assert await reconcile(ctx) == 0  # once


async def test_opted_out_contacts_get_nothing(ctx: AppContext, kernel: Kernel) -> None:
    mail = FlakyMail(failures=0)
    kernel.pm.register(mail)
    await seed_city(ctx)
    await receive(ctx, submission(contacts=[{"kind": "email", "value": "stop@example.cn"}]))
    async with ctx.db.transaction() as s:
        contact = await s.scalar(select(ContactPoint))
        assert contact is not None
        contact.opted_out = True
        case = await s.scalar(select(Case))
        assert case is not None
        row = await queue_reply(s, case, contact, "答复")
    assert await deliver(ctx, row.id) == "not pending" and mail.sent == []
