"""``hotline jobs``: the job outbox as an operator sees it, and the line ``hotline check``
prints when follow-up work gave up (an acknowledgement, a reply, notices that were never sent).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from hotline.core.foundation.settings import Settings


def _run(settings: Settings, work: Any) -> Any:
    from hotline.core.shell.context import open_context

    async def run() -> Any:
        async with open_context(settings) as ctx:
            return await work(ctx)

    return asyncio.run(run())


def dead_line(settings: Settings) -> str | None:
    """A problem line when follow-up jobs are dead; None when none are (or no database yet).
    Reads only: no key, no job store, no database file is made here."""
    from pathlib import Path

    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from hotline.core.storage.db import Database
    from hotline.core.storage.models.delivery import OutboxJob
    from hotline.core.storage.outbox import DEAD

    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return None

    async def count() -> int:
        db = Database(settings.db_url)
        try:
            async with db.session() as session:
                found = await session.scalar(
                    select(func.count()).select_from(OutboxJob).where(OutboxJob.state == DEAD)
                )
                return int(found or 0)
        finally:
            await db.dispose()

    try:
        dead = asyncio.run(count())
    except Exception:  # unreachable, or not migrated yet: nothing to say about jobs
        return None
    if not dead:
        return None
    return (
        f"jobs: {dead} follow-up jobs failed after their last try"
        " (acknowledgements, replies, notices not sent); `hotline jobs` lists them,"
        " `hotline jobs retry` tries them again"
    )


def cmd_jobs(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.core.delivery import followups

    if args.action == "retry":
        print(f"{_run(settings, followups.retry_dead)} follow-up jobs will be tried again")
        return 0
    counts = _run(settings, followups.counts)
    print(" ".join(f"{state} {n}" for state, n in counts.items()))
    for row, number in _run(settings, followups.dead_rows):
        # the job, its case, when, and why (the channel's error: no message text)
        print(
            f"dead {row.job} case {number or '-'} tries {row.attempts}"
            f" at {row.finished_at:%Y-%m-%d %H:%M} {row.last_error or ''}".rstrip()
        )
    return 1 if counts.get("dead") else 0


def add_parser(sub: Any) -> argparse.ArgumentParser:
    jobs = sub.add_parser("jobs", help="follow-up work: counts, what failed; retry it")
    jobs.add_argument(
        "action",
        nargs="?",
        choices=["list", "retry"],
        default="list",
        help="list: counts and failures (default); retry: run what failed again",
    )
    return jobs  # type: ignore[no-any-return]
