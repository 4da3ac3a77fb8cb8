"""Traces of messages that made no case of their own: mail no person wrote to the hotline
(auto-replies, bulk and list mail, delivery reports, bounces, our own mail coming back) and
second copies of a message already taken. Each is kept whole (its bytes in the file store),
listed for staff with the reason for ``HOTLINE_MAIL_TRACE_DAYS``, and then purged; a person
may make a case of one that was wrongly ignored. Nothing a citizen sent disappears silently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import delete, select

from hotline.core.people.audit import audit
from hotline.core.storage.actors import SYSTEM, Actor
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Attachment, Interaction
from hotline.core.storage.models.intake import HeldMessage, MessageTrace

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Trace:
    """What a channel knows of a message it did not make a case of."""

    channel: str
    source: str
    reason: str  # auto_reply|bulk|list|report|bounce|loop|duplicate
    detail: str = ""
    sender: str = ""
    subject: str = ""
    message_id: str | None = None
    case_id: int | None = None  # a duplicate: the case that has the message already


async def record_trace(ctx: AppContext, trace: Trace, raw: bytes) -> int:
    """Keep ``raw`` with its reason; the same bytes for the same reason again only count."""
    digest = await anyio.to_thread.run_sync(ctx.files.put, raw)
    now = utcnow()
    async with ctx.db.transaction() as session:
        known = await session.scalar(
            select(MessageTrace)
            .where(
                MessageTrace.sha256 == digest,
                MessageTrace.channel == trace.channel,
                MessageTrace.source == trace.source,
                MessageTrace.reason == trace.reason,
                MessageTrace.state == "kept",
            )
            .with_for_update()
        )
        if known is not None:
            known.times += 1
            known.last_seen_at = now
            return known.id
        row = MessageTrace(
            channel=trace.channel,
            source=trace.source[:64],
            reason=trace.reason[:32],
            detail=trace.detail[:500],
            sender=trace.sender[:320],
            subject=trace.subject[:300],
            message_id=trace.message_id[:255] if trace.message_id else None,
            sha256=digest,
            size=len(raw),
            case_id=trace.case_id,
            created_at=now,
            last_seen_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


async def made_case(ctx: AppContext, trace_id: int, case_id: int, actor: Actor) -> bool:
    """A person made a case of a traced message: noted on the trace and in the audit trail.
    False when someone did it already."""
    async with ctx.db.transaction() as session:
        row = await session.get(MessageTrace, trace_id, with_for_update=True)
        if row is None or row.state != "kept":
            return False
        row.state, row.case_id = "case", case_id
        row.resolved_at, row.resolved_by = utcnow(), actor.label[:100]
        audit(session, actor, "trace_made_case", None, trace=trace_id, case=case_id)
        return True


async def purge_traces(ctx: AppContext) -> int:
    """Job: traces older than the site's keeping time go, and their bytes with them unless a
    case, a held message or another trace still has the same bytes."""
    started = time.time()
    before = utcnow() - timedelta(days=ctx.settings.mail_trace_days)
    async with ctx.db.transaction() as session:
        old = list(
            await session.execute(
                select(MessageTrace.id, MessageTrace.sha256).where(
                    MessageTrace.last_seen_at < before
                )
            )
        )
        if not old:
            return 0
        await session.execute(delete(MessageTrace).where(MessageTrace.id.in_([i for i, _ in old])))
        audit(session, SYSTEM, "traces_purged", None, count=len(old), before=before.isoformat())
        digests = {d for _, d in old}
        still = set(
            await session.scalars(
                select(MessageTrace.sha256).where(MessageTrace.sha256.in_(digests))
            )
        )
        for column in (Interaction.raw_sha256, Attachment.sha256, HeldMessage.sha256):
            still |= set(await session.scalars(select(column).where(column.in_(digests - still))))
    for digest in digests - still:
        await anyio.to_thread.run_sync(ctx.files.discard, digest, started)
    return len(old)
