"""Answers by SMS when Kannel cannot take them: the outbox job tries again, and when the last
try fails the case says the message was not delivered, with the reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.core.cases.replies import MAX_ATTEMPTS, deliver, queue_reply
from hotline.core.intake.receive import receive
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import DeliveryStatus
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint, Interaction
from tests.factories import submission
from tests.processes import free_port


async def test_a_send_kannel_refuses_is_retried_then_shown_failed_on_the_case(
    ctx: AppContext, city: dict[str, int]
) -> None:
    ctx.settings.sms_sendsms_url = f"http://u:p@127.0.0.1:{free_port()}/cgi-bin/sendsms"
    result = await receive(
        ctx, submission(channel="sms", contacts=[{"kind": "phone", "value": "+8613800138000"}])
    )
    async with ctx.db.transaction() as s:
        case = await s.scalar(select(Case).where(Case.tracking_number == result.tracking_number))
        contact = await s.scalar(select(ContactPoint))
        reply = await queue_reply(s, case, contact, "路灯已修复。", purpose="answer")
        reply_id = reply.id
    for attempt in range(1, MAX_ATTEMPTS):
        with pytest.raises(Exception, match="sendsms unreachable"):
            await deliver(ctx, reply_id)
        async with ctx.db.session() as s:
            row = await s.get(Interaction, reply_id)
            assert row.delivery_status == DeliveryStatus.PENDING and row.attempts == attempt
    assert await deliver(ctx, reply_id) == "failed"
    async with ctx.db.session() as s:
        row = await s.get(Interaction, reply_id)
        events = list(await s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id)))
    assert row.delivery_status == DeliveryStatus.FAILED
    assert "sendsms unreachable" in (row.delivery_detail or "")
    assert events.count("reply_failed") == 1
