"""Built-in: keep the AXD queue moving. New contacts are offered as soon as they arrive, an
unanswered offer goes to the next agent when its time runs out (each queue sets that time), an
agent's wrap-up ends on time, and a sweep every minute offers what still waits (agents become
available, capacity frees up, skill tiers and regions widen)."""

from __future__ import annotations

import logging

from huey import crontab
from sqlalchemy import select

from hotline.core.axd import selection as axd_selection
from hotline.core.axd import state as axd_state
from hotline.core.delivery.events import CaseEventMessage
from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import QueueState
from hotline.core.storage.models.axd import QueueItem

log = logging.getLogger(__name__)

OFFER_JOB = "axd.offer_waiting"
TIMEOUT_JOB = "axd.offer_timeout"
SWEEP_JOB = "axd.sweep"
WRAP_UP_JOB = "axd.wrap_up_end"


async def _offer(ctx: AppContext, item_ids: list[int]) -> int:
    offered = 0
    for item_id in item_ids:
        made = await axd_state.offer(ctx, item_id)
        if made is not None:
            offered += 1
            await ctx.jobs.aenqueue(
                TIMEOUT_JOB, delay=made.seconds, item_id=item_id, agent_id=made.agent_id
            )
    return offered


async def finish_contact(ctx: AppContext, item_id: int, agent_id: int) -> bool:
    """The agent is done with a contact: wrap-up starts, and its end is a job; with no wrap-up
    the agent's freed capacity goes to what waits at once."""
    seconds = await axd_state.finish(ctx, item_id, agent_id)
    if seconds is None:
        return False
    if seconds:
        await ctx.jobs.aenqueue(WRAP_UP_JOB, delay=seconds)
    else:
        await ctx.jobs.aenqueue(SWEEP_JOB)
    return True


async def wrap_up_end(ctx: AppContext) -> int:
    """Job: wrap-ups whose time is over end, and what waits is offered."""
    if not await axd_state.end_wrap_ups(ctx):
        return 0
    return await _offer(ctx, await ctx.db.run(axd_selection.offerable, write=False))


async def _waiting(ctx: AppContext, case_id: int) -> list[int]:
    async with ctx.db.session() as session:
        return list(
            await session.scalars(
                select(QueueItem.id)
                .where(QueueItem.state == QueueState.WAITING, QueueItem.case_id == case_id)
                .order_by(QueueItem.priority.desc(), QueueItem.waiting_since)
            )
        )


async def offer_waiting(ctx: AppContext, case_id: int) -> int:
    """Job: offer the case's waiting contacts."""
    return await _offer(ctx, await _waiting(ctx, case_id))


async def offer_timeout(ctx: AppContext, item_id: int, agent_id: int) -> bool:
    """Job: the offer's time ran out unanswered: a miss, and the next agent."""
    if not await axd_state.decline(ctx, item_id, agent_id, missed=True):
        return False  # accepted or declined in time
    await _offer(ctx, [item_id])
    return True


async def sweep(ctx: AppContext) -> int:
    """Periodic job: expired offers back, then every waiting item offered if someone can take it."""
    await axd_state.expire_offers(ctx)
    await axd_state.end_wrap_ups(ctx)
    return await _offer(ctx, await ctx.db.run(axd_selection.offerable, write=False))


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [
        JobSpec(OFFER_JOB, offer_waiting),
        JobSpec(TIMEOUT_JOB, offer_timeout, retries=2),
        JobSpec(SWEEP_JOB, sweep, periodic=crontab(minute="*")),
        JobSpec(WRAP_UP_JOB, wrap_up_end),
    ]


@hookimpl(tryfirst=True)  # before acknowledgements and others: an agent is waiting
async def case_event(ctx: AppContext, event: CaseEventMessage) -> None:
    """A new contact is offered at once, in the process that received it: a job would wait for
    a worker to look (up to ``job_poll_seconds``). If that fails, the job tries again."""
    if event.action in ("received", "information_added", "reopen_requested"):
        try:
            await offer_waiting(ctx, event.case_id)
        except Exception:
            log.warning("offering case %s at once failed; the job will retry", event.case_id)
            await ctx.jobs.aenqueue(OFFER_JOB, case_id=event.case_id)
