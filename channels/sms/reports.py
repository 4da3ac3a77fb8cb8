"""Kannel's delivery reports: each part of an answer reports on its own (accepted by the SMSC,
delivered to the phone, or not); the message is delivered when every part is, failed as soon
as one part fails, and the case says which.
Reports for the parts of one message can arrive together, and before the send has finished:
each reads the row under its write lock (``lock_outbound``)."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.core.cases.replies import lock_outbound, settle
from hotline.core.delivery.events import CaseEventMessage
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import DeliveryStatus
from hotline.core.storage.models.cases import Case

# Kannel's report types (%d in the dlr-url)
KINDS = {1: "delivered", 2: "failed", 4: "buffered", 8: "accepted", 16: "refused"}
FAILED = ("failed", "refused")


@dataclass(frozen=True)
class Report:
    interaction_id: int
    part: int
    of: int
    kind: int
    answer: str  # the SMSC's own words, e.g. "ACK/" or "NACK/0x0000000b/Invalid Destination"

    def valid(self) -> bool:
        return self.kind in KINDS and 1 <= self.part <= self.of <= 20


def _outcome(parts: dict[str, str], of: int) -> DeliveryStatus | None:
    if any(state in FAILED for state in parts.values()):
        return DeliveryStatus.FAILED
    if len(parts) == of and all(state == "delivered" for state in parts.values()):
        return DeliveryStatus.DELIVERED
    return None


async def record(ctx: AppContext, report: Report) -> bool:
    """Note one part's report; False when there is no such outbound SMS."""
    messages: list[CaseEventMessage] = []
    async with ctx.db.transaction() as session:
        row = await lock_outbound(session, report.interaction_id)
        if row is None:
            return False
        parts = dict(row.meta.get("sms_parts") or {})
        before = _outcome(parts, report.of)
        if parts.get(str(report.part)) not in ("delivered", *FAILED):  # final states stay
            parts[str(report.part)] = KINDS[report.kind]
        row.meta = {**row.meta, "sms_parts": parts, "sms_answer": report.answer[:200]}
        after = _outcome(parts, report.of)
        if after is not None and after != before and row.delivery_status != DeliveryStatus.FAILED:
            case = await session.get(Case, row.case_id)
            assert case is not None
            if after == DeliveryStatus.FAILED:
                detail = f"SMS part {report.part} of {report.of} not delivered: {report.answer}"
                event = settle(session, case, row, after, detail[:500], "reply_failed")
            else:
                event = settle(session, case, row, after, "delivered", "reply_delivered")
            await session.flush()
            messages.append(CaseEventMessage.of(case, event))
    await ctx.events.deliver(ctx, messages)
    return True
