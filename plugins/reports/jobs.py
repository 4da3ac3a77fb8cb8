"""The export job (a long export, written in a worker while the console shows its progress) and
the hourly removal of exports older than a day."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from huey import crontab

from hotline.core.delivery.jobs import JobSpec

from . import store
from .export import run

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.reports")
EXPORT_JOB = "reports.export"
REMOVE_JOB = "reports.remove_old_exports"


async def export_job(ctx: AppContext, export_id: str) -> None:
    """Write one export, saying how far it got after every chunk. Run again (a crash, a retry)
    it starts over and writes the same file."""
    data = ctx.settings.data_dir
    export = store.load(data, export_id)
    if export is None or export.state == store.READY:
        return
    export.state, export.done = store.RUNNING, 0
    store.save(data, export)

    async def progress(done: int) -> None:
        export.done = done
        store.save(data, export)

    try:
        rows = await run(ctx, export, notice=True, progress=progress)
    except Exception:
        export.state = store.FAILED
        store.save(data, export)
        log.exception("export failed", extra={"export_list": export.list_name})
        return
    export.state, export.done, export.finished = store.READY, rows, time.time()
    export.total = max(export.total, rows)
    store.save(data, export)
    log.info("export written", extra={"export_list": export.list_name, "rows": rows})


async def remove_old(ctx: AppContext) -> int:
    removed = store.remove_old(ctx.settings.data_dir)
    if removed:
        log.info("old exports removed", extra={"count": removed})
    return removed


def jobs() -> list[JobSpec]:
    return [
        JobSpec(EXPORT_JOB, export_job, retries=0, lease_seconds=3600),
        JobSpec(REMOVE_JOB, remove_old, periodic=crontab(minute="23"), retries=0),
    ]
