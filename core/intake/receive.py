"""The one intake: every channel turns its input into a ``Submission`` and calls ``receive``.

``receive`` checks everything first (``checks.check_submission``: every problem, nothing
stored), then stores attachment bytes, asks the routing plugins, then writes (``write``)
citizen, case, interaction, queue item and events in one transaction, with the follow-up work
they call for (the jobs that follow its events, such as the acknowledgement; a transcription:
``core/storage/outbox.py``), then tells plugins and screens after commit. It is idempotent on
``(channel, external_id)``: a re-poll, a gateway retry or a double click returns the first
result, and writes any follow-up work the first one lacks (``followups.reconcile``).

The database work is plain ORM code run as two units through ``Database.run`` (one read, one
write), so SQLite does it in two thread hops rather than two per statement.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import anyio
from sqlalchemy.exc import IntegrityError

from hotline.core.cases.actions import ActionRefused
from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.delivery.followups import reconcile
from hotline.core.intake.routing import Route, route_case
from hotline.core.intake.submission import IntakeRefused, Submission
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.base import utcnow
from hotline.core.workflow.dispatch import do_dispatch

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext
from hotline.core.intake.checks import TRACKING_ATTEMPTS, _existing, check_submission
from hotline.core.intake.write import _open_case, _write

if TYPE_CHECKING:
    from hotline.core.intake.checks import IntakeResult

log = logging.getLogger("hotline.intake")


async def receive(ctx: AppContext, sub: Submission) -> IntakeResult:
    """Store one submission as a new case or as an addition to an open one. See module doc."""
    duplicate, problems, checked = await check_submission(ctx, sub)
    if duplicate is not None:
        # a retry: whatever should have followed the first (its acknowledgement) exists
        await reconcile(ctx, case_id=duplicate.case_id)
        return duplicate
    if problems:
        raise IntakeRefused(problems)

    def store_files() -> tuple[list[str], str | None]:
        digests = [ctx.files.put(att.data) for att in sub.attachments]
        return digests, ctx.files.put(sub.raw) if sub.raw is not None else None

    if sub.attachments or sub.raw is not None:
        digests, raw_digest = await anyio.to_thread.run_sync(store_files)
    else:
        digests, raw_digest = [], None

    route = None
    if checked.target is None or not CaseStatus(checked.target.status).is_open:
        draft = _open_case(
            ctx,
            sub,
            checked,
            None,
            sub.language or ctx.settings.default_language,
            sub.received_at or utcnow(),
        )
        route = await route_case(ctx, draft, checked.category, sub)

    for attempt in range(TRACKING_ATTEMPTS):
        try:
            result, messages = await ctx.db.run(
                lambda session: _write(session, ctx, sub, checked, route, digests, raw_digest),
                write=True,
            )
            break
        except IntegrityError:
            # Another process stored the same (channel, external_id) first, or took the same
            # new contact point or tracking number: the first wins; we read or draw again.
            found = await ctx.db.run(lambda session: _existing(session, sub), write=False)
            if found is not None:
                await reconcile(ctx, case_id=found.case_id)
                return found
            if attempt == TRACKING_ATTEMPTS - 1:
                raise
    await ctx.events.deliver(ctx, messages)
    ctx.events.publish({"type": "queue_changed", "case_id": result.case_id}, [QUEUE_CHANNEL])
    if result.created and route is not None and checked.category is not None:
        if checked.category.auto_dispatch:
            await _dispatch_automatically(ctx, result, route)
    return result


async def _dispatch_automatically(ctx: AppContext, result: IntakeResult, route: Route) -> None:
    """The administrator chose automatic dispatch for the category: the suggestion goes out.
    A refusal (the department was switched off meanwhile) leaves the case for an agent."""
    try:
        await do_dispatch(ctx, result.case_id, route.department, SYSTEM)
    except ActionRefused as exc:
        log.warning("automatic dispatch refused", extra={"reason": str(exc)})
