"""Messages waiting for a person: what a channel could not turn into a case is kept whole
(its bytes in the file store), listed with the reason, and later retried, made a case of by
hand, or dismissed. Nothing a citizen sent is dropped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from sqlalchemy import select

from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.intake import HeldMessage

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

REASON_CHARS = 500


async def hold_message(
    ctx: AppContext,
    channel: str,
    raw: bytes,
    reason: str,
    *,
    source: str = "",
    external_id: str | None = None,
) -> int:
    """Keep ``raw`` for a person; the same message held twice is one entry, and one a person
    resolved already (made a case of, or dismissed) does not wait for them again when the
    same bytes come back (a mailbox read again)."""
    digest = await anyio.to_thread.run_sync(ctx.files.put, raw)
    async with ctx.db.transaction() as session:
        known = await session.scalar(
            select(HeldMessage.id)
            .where(HeldMessage.channel == channel, HeldMessage.sha256 == digest)
            .order_by(HeldMessage.id)
            .limit(1)
        )
        if known is not None:
            return known
        held = HeldMessage(
            channel=channel,
            source=source[:64],
            external_id=external_id[:255] if external_id else None,
            sha256=digest,
            size=len(raw),
            reason=reason[:REASON_CHARS],
        )
        session.add(held)
        await session.flush()
        return held.id


async def resolve(
    ctx: AppContext, held_id: int, state: str, by: str, *, case_id: int | None = None
) -> bool:
    """Mark a held message done: ``case`` (made a case of, or retried into one) or
    ``dismissed`` (spam). False when it was resolved already."""
    async with ctx.db.transaction() as session:
        held = await session.get(HeldMessage, held_id, with_for_update=True)
        if held is None or held.state != "waiting":
            return False
        held.state, held.case_id = state, case_id
        held.resolved_at, held.resolved_by = utcnow(), by[:100]
        return True
