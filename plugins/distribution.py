"""Built-in: keep the AXD queue moving. New contacts are offered as soon as they arrive, an
unanswered offer goes to the next agent when its time runs out, and a sweep every minute offers
what still waits (agents become available, capacity frees up)."""

from __future__ import annotations

from huey import crontab
from sqlalchemy import select

from hotline.core import axd
from hotline.core.context import AppContext
from hotline.core.enums import QueueState
from hotline.core.events import CaseEventMessage
from hotline.core.jobs import JobSpec
from hotline.core.models import QueueItem
from hotline.plugins.manager import hookimpl

OFFER_JOB = "axd.offer_waiting"
TIMEOUT_JOB = "axd.offer_timeout"
SWEEP_JOB = "axd.sweep"


async def _offer(ctx: AppContext, item_ids: list[int]) -> int:
    offered = 0
    for item_id in item_ids:
        agent = await axd.offer_next(ctx, item_id)
        if agent is not None:
            offered += 1
            await ctx.jobs.aenqueue(
                TIMEOUT_JOB, delay=axd.OFFER_SECONDS, item_id=item_id, agent_id=agent
            )
    return offered


async def _waiting(ctx: AppContext, case_id: int | None = None) -> list[int]:
    query = select(QueueItem.id).where(QueueItem.state == QueueState.WAITING)
    if case_id is not None:
        query = query.where(QueueItem.case_id == case_id)
    async with ctx.db.session() as session:
        return list(
            await session.scalars(
                query.order_by(QueueItem.priority.desc(), QueueItem.waiting_since)
            )
        )


async def offer_waiting(ctx: AppContext, case_id: int) -> int:
    """Job: offer the case's waiting contacts."""
    return await _offer(ctx, await _waiting(ctx, case_id))


async def offer_timeout(ctx: AppContext, item_id: int, agent_id: int) -> bool:
    """Job: the offer's time ran out unanswered: a miss, and the next agent."""
    if not await axd.decline(ctx, item_id, agent_id, missed=True):
        return False  # accepted or declined in time
    await _offer(ctx, [item_id])
    return True


async def sweep(ctx: AppContext) -> int:
    """Periodic job: expired offers back, then every waiting item offered if someone can take it."""
    await axd.expire_offers(ctx)
    return await _offer(ctx, await _waiting(ctx))


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [
        JobSpec(OFFER_JOB, offer_waiting),
        JobSpec(TIMEOUT_JOB, offer_timeout, retries=2),
        JobSpec(SWEEP_JOB, sweep, periodic=crontab(minute="*")),
    ]


@hookimpl
async def case_event(ctx: AppContext, event: CaseEventMessage) -> None:
    if event.action in ("received", "information_added", "reopen_requested"):
        await ctx.jobs.aenqueue(OFFER_JOB, case_id=event.case_id)
