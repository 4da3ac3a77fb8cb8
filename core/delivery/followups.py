"""The job outbox, running side: at least once, removed only when done.

``run`` (huey's ``hotline.follow_up`` task) claims a row with a lease, runs its job while
renewing the lease, and marks the row done only when the job finished. A failure backs off
(``JobSpec.retry_delay`` and ``retry_backoff``) and after ``retries`` the row is dead: a line on
the case (``follow_up_failed``), a count in ``hotline check`` and ``hotline jobs``. A process
killed mid-run leaves its row ``running`` with a lease that is no longer renewed.

``relay`` (every ``HOTLINE_JOB_RELAY_SECONDS`` where workers run, and at their start) hands
again every row whose lease ran out: never handed over (a crash between the commit and the
hand-over; the job store locked, the disk full), taken by a worker that died, or lost by huey.
``reconcile`` (every ``HOTLINE_JOB_RECONCILE_SECONDS``, at start, and for a case when a
de-duplicated retry of its submission arrives) asks each job what work should exist and does
not (a case from a contact point with no acknowledgement and no row for one) and writes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.delivery.events import CaseEventMessage
from hotline.core.delivery.jobs import JobSpec
from hotline.core.foundation import crashpoints
from hotline.core.storage.enums import ActorKind
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent
from hotline.core.storage.models.delivery import OutboxJob
from hotline.core.storage.outbox import DEAD, DONE, LIVE, PENDING, RUNNING, add, remember

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.followups")  # failures: one line a minute per kind
counted = logging.getLogger("hotline.reconcile")  # what the reconciliation wrote, each time

RECONCILE_DAYS = 7  # how far back the reconciliation looks for cases lacking their follow-up
KEEP_DONE_DAYS = 30  # done rows are deleted after this
RELAY_BATCH = 500


class TryLater(Exception):
    """The job cannot go on now (another run holds what it needs): the row waits ``seconds``
    and runs again, and this does not count as a failed attempt."""

    def __init__(self, seconds: float, why: str = "") -> None:
        super().__init__(why or f"try again in {seconds:.0f} s")
        self.seconds = seconds


@dataclass(frozen=True)
class Claimed:
    key: str
    token: str
    job: str
    args: dict[str, Any]
    attempts: int
    case_id: int | None
    lease: float


def _lease(ctx: AppContext, spec: JobSpec | None) -> float:
    if spec is not None and spec.lease_seconds:
        return spec.lease_seconds
    return ctx.settings.job_lease_seconds


async def _claim(ctx: AppContext, key: str) -> Claimed | None:
    """Take the row if it is due (or its runner's lease ran out), for one lease: one
    statement (``UPDATE ... RETURNING``); a job with a lease of its own gets it after."""
    token = uuid.uuid4().hex
    lease = ctx.settings.job_lease_seconds
    now = utcnow()
    async with ctx.db.transaction() as session:
        taken = (
            await session.execute(
                update(OutboxJob)
                .where(
                    OutboxJob.key == key,
                    or_(
                        and_(OutboxJob.state == PENDING, OutboxJob.next_try_at <= now),
                        and_(OutboxJob.state == RUNNING, OutboxJob.lease_until < now),
                    ),
                )
                .values(
                    state=RUNNING,
                    claim=token,
                    attempts=OutboxJob.attempts + 1,
                    lease_until=now + timedelta(seconds=lease),
                )
                .returning(OutboxJob.job, OutboxJob.args, OutboxJob.attempts, OutboxJob.case_id)
                .execution_options(synchronize_session=False)
            )
        ).first()
        if taken is None:
            return None
        own = _lease(ctx, ctx.jobs.specs.get(taken.job))
        if own != lease:
            await session.execute(
                update(OutboxJob)
                .where(OutboxJob.key == key, OutboxJob.claim == token)
                .values(lease_until=now + timedelta(seconds=own))
            )
    args = dict(taken.args or {})
    return Claimed(key, token, taken.job, args, taken.attempts, taken.case_id, own)


def _mine(claimed: Claimed) -> Any:
    return and_(OutboxJob.key == claimed.key, OutboxJob.claim == claimed.token)


async def _renew(ctx: AppContext, claimed: Claimed) -> None:
    async with ctx.db.transaction() as session:
        renewed = await session.execute(
            update(OutboxJob)
            .where(_mine(claimed), OutboxJob.state == RUNNING)
            .values(lease_until=utcnow() + timedelta(seconds=claimed.lease))
        )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]
        log.warning("a follow-up job lost its lease while running", extra={"job": claimed.job})


async def _with_lease(ctx: AppContext, claimed: Claimed, work: Awaitable[Any]) -> Any:
    """Run ``work``, renewing the lease every third of it while it runs."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=claimed.lease / 3)
            if done:
                return task.result()
            try:
                await _renew(ctx, claimed)
            except Exception:  # the database is unreachable: the job goes on, the lease may lapse
                log.warning("a follow-up job's lease not renewed", extra={"job": claimed.job})
    finally:
        if not task.done():
            task.cancel()


async def run(ctx: AppContext, key: str) -> str:
    """Job runner for one outbox row (huey's ``hotline.follow_up``)."""
    claimed = await _claim(ctx, key)
    if claimed is None:
        return "not due"  # done, dead, not yet due, or another runner holds it
    crashpoints.crash_point("outbox.claimed")
    spec = ctx.jobs.specs.get(claimed.job)
    try:
        if spec is None:
            raise LookupError(f"no job {claimed.job} in this process")
        outcome = await _with_lease(ctx, claimed, spec.func(ctx, **claimed.args))
    except TryLater as later:
        await _again(ctx, claimed, later.seconds, str(later), count=False)
        return "later"
    except Exception as exc:
        return await _failed(ctx, claimed, spec, exc)
    crashpoints.crash_point("outbox.before_done")
    async with ctx.db.transaction() as session:
        await session.execute(
            update(OutboxJob)
            .where(_mine(claimed))
            .values(state=DONE, finished_at=utcnow(), lease_until=None, claim=None)
        )
    return str(outcome)


async def _again(
    ctx: AppContext, claimed: Claimed, seconds: float, reason: str, *, count: bool = True
) -> None:
    due = utcnow() + timedelta(seconds=seconds)
    async with ctx.db.transaction() as session:
        await session.execute(
            update(OutboxJob)
            .where(_mine(claimed))
            .values(
                state=PENDING,
                claim=None,
                next_try_at=due,
                lease_until=due + timedelta(seconds=ctx.settings.job_lease_seconds),
                last_error=reason[:500],
                attempts=OutboxJob.attempts if count else OutboxJob.attempts - 1,
            )
        )
    await ctx.jobs.ahand_over([(claimed.key, seconds)])


async def _failed(ctx: AppContext, claimed: Claimed, spec: JobSpec | None, exc: Exception) -> str:
    reason = f"{type(exc).__name__}: {exc}"[:500]  # kept for staff; the log has the type only
    extra = {"job": claimed.job, "attempts": claimed.attempts, "error": type(exc).__name__}
    retries = spec.retries if spec is not None else 6
    if claimed.attempts <= retries:
        delay = (spec.retry_delay * spec.retry_backoff ** (claimed.attempts - 1)) if spec else 60
        log.warning("follow-up job failed, will retry", extra=extra)
        await _again(ctx, claimed, delay, reason)
        return "retry"
    log.error("follow-up job failed for good", extra=extra)
    messages = []
    async with ctx.db.transaction() as session:
        await session.execute(
            update(OutboxJob)
            .where(_mine(claimed))
            .values(
                state=DEAD, finished_at=utcnow(), lease_until=None, claim=None, last_error=reason
            )
        )
        case = await session.get(Case, claimed.case_id) if claimed.case_id else None
        if case is not None:
            event = CaseEvent(
                case_id=case.id,
                action="follow_up_failed",
                actor_kind=ActorKind.SYSTEM,
                public=False,
                detail={"job": claimed.job, "attempts": claimed.attempts, "reason": reason},
            )
            session.add(event)
            await session.flush()
            messages.append(CaseEventMessage.of(case, event))
    await ctx.events.deliver(ctx, messages)
    return "dead"


async def relay(ctx: AppContext) -> int:
    """Hand again every live row whose lease ran out. Returns how many."""
    now = utcnow()
    lapsed = and_(
        OutboxJob.state.in_(LIVE),
        or_(OutboxJob.lease_until.is_(None), OutboxJob.lease_until < now),
    )
    async with ctx.db.transaction() as session:
        keys = list(
            await session.scalars(
                select(OutboxJob.key).where(lapsed).order_by(OutboxJob.id).limit(RELAY_BATCH)
            )
        )
        if not keys:
            return 0
        taken = list(
            await session.scalars(
                update(OutboxJob)
                .where(OutboxJob.key.in_(keys), lapsed)
                .values(
                    state=PENDING,
                    claim=None,
                    next_try_at=now,
                    lease_until=now + timedelta(seconds=ctx.settings.job_lease_seconds),
                )
                .returning(OutboxJob.key)
                .execution_options(synchronize_session=False)
            )
        )
    await ctx.jobs.ahand_over([(key, 0.0) for key in taken], force=True)
    if taken:
        log.info("follow-up work handed again", extra={"count": len(taken)})
    return len(taken)


async def reconcile(ctx: AppContext, case_id: int | None = None) -> int:
    """Write the follow-up work that should exist and does not (for one case, or every case of
    the last ``RECONCILE_DAYS``). Logged with a count per job, nothing personal."""
    since = utcnow() - timedelta(days=RECONCILE_DAYS)
    written = 0
    for spec in list(ctx.jobs.specs.values()):
        if spec.reconcile is None:
            continue
        made = 0
        try:
            async with ctx.db.transaction() as session:
                missing = await spec.reconcile(session, since, case_id)
                keys = [m.key for m in missing]
                known: dict[str, str] = {}
                if keys:
                    found = await session.execute(
                        select(OutboxJob.key, OutboxJob.state).where(OutboxJob.key.in_(keys))
                    )
                    known = {key: state for key, state in found}
                for item in missing:
                    if item.key not in known:
                        add(session, spec.name, key=item.key, args=item.args, case_id=item.case_id)
                        known[item.key] = PENDING
                        made += 1
                    elif item.rearm and known[item.key] == DONE:
                        await _rearm(ctx, session, item.key)
                        known[item.key] = PENDING
                        made += 1
        except IntegrityError:  # another worker wrote the same at the same moment
            counted.info("reconciliation raced another worker", extra={"job": spec.name})
            continue
        if made:
            counted.warning(
                "reconciliation wrote missing follow-up work",
                extra={"job": spec.name, "count": made},
            )
        written += made
    if case_id is None:
        async with ctx.db.transaction() as session:
            await session.execute(
                delete(OutboxJob).where(
                    OutboxJob.state == DONE,
                    OutboxJob.finished_at < utcnow() - timedelta(days=KEEP_DONE_DAYS),
                )
            )
    return written


async def _rearm(ctx: AppContext, session: AsyncSession, key: str) -> None:
    now = utcnow()
    await session.execute(
        update(OutboxJob)
        .where(OutboxJob.key == key, OutboxJob.state == DONE)
        .values(
            state=PENDING,
            attempts=0,
            next_try_at=now,
            finished_at=None,
            lease_until=now + timedelta(seconds=ctx.settings.job_lease_seconds),
        )
    )
    remember(session.sync_session, key, 0)


async def relay_loop(ctx: AppContext, stop: asyncio.Event) -> None:
    """Listener where job workers run: the relay often, the reconciliation now and then."""
    next_reconcile = 0.0
    while not stop.is_set():
        try:
            await relay(ctx)
        except Exception:
            log.warning("the relay could not look at the outbox", exc_info=True)
        if time.monotonic() >= next_reconcile:
            try:
                await reconcile(ctx)
                next_reconcile = time.monotonic() + ctx.settings.job_reconcile_seconds
            except Exception:
                log.warning("the reconciliation could not run", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ctx.settings.job_relay_seconds)


async def counts(ctx: AppContext) -> dict[str, int]:
    """Rows per state (pending, running, done, dead)."""
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(OutboxJob.state, func.count()).group_by(OutboxJob.state)
        )
        found = {state: 0 for state in (PENDING, RUNNING, DONE, DEAD)}
        found.update({str(state): int(n) for state, n in rows})
        return found


async def dead_rows(ctx: AppContext, limit: int = 100) -> list[tuple[OutboxJob, str | None]]:
    """The rows that gave up, newest first, each with its case's tracking number."""
    async with ctx.db.session() as session:
        rows = await session.execute(
            select(OutboxJob, Case.tracking_number)
            .outerjoin(Case, Case.id == OutboxJob.case_id)
            .where(OutboxJob.state == DEAD)
            .order_by(OutboxJob.finished_at.desc())
            .limit(limit)
        )
        return [(row, number) for row, number in rows]


async def retry_dead(ctx: AppContext) -> int:
    """Give every dead row a new round of attempts (after the cause was fixed)."""
    now = utcnow()
    async with ctx.db.transaction() as session:
        keys = list(
            await session.scalars(
                update(OutboxJob)
                .where(OutboxJob.state == DEAD)
                .values(
                    state=PENDING,
                    attempts=0,
                    next_try_at=now,
                    finished_at=None,
                    lease_until=now + timedelta(seconds=ctx.settings.job_lease_seconds),
                )
                .returning(OutboxJob.key)
                .execution_options(synchronize_session=False)
            )
        )
    await ctx.jobs.ahand_over([(key, 0.0) for key in keys])
    return len(keys)
