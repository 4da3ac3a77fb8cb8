"""The purge job for what strangers leave behind: expired staff sessions (files in the data
directory; Redis expires its own), counted wrong guesses and edge counts older than any limit
looks at.
Every hour, and safe to run at any time."""

from __future__ import annotations

import logging
from datetime import timedelta

from huey import crontab
from litestar.stores.file import FileStore

from hotline.core.delivery.jobs import JobSpec
from hotline.core.people import delays
from hotline.core.shell import edge_counts
from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.console.sessions")
PURGE_JOB = "purge_expired_sessions"
KEEP_ATTEMPTS = timedelta(days=2)  # the longest window a limit counts is a day


def session_store(ctx: AppContext) -> FileStore | None:
    """The session files of this data directory, or None when sessions live in Redis."""
    if ctx.settings.redis_url:
        return None
    return FileStore(ctx.settings.data_dir / "sessions", create_directories=True)


async def purge_expired(ctx: AppContext) -> dict[str, int]:
    """Delete expired session files and old wrong-guess rows; say how many of each."""
    sessions = 0
    store = session_store(ctx)
    if store is not None:
        folder = ctx.settings.data_dir / "sessions"
        before = sum(1 for _ in folder.iterdir())
        await store.delete_expired()
        sessions = before - sum(1 for _ in folder.iterdir())
    attempts = await ctx.db.run(lambda s: delays.purge(s, KEEP_ATTEMPTS), write=True)
    counts = await ctx.db.run(lambda s: edge_counts.purge(s, KEEP_ATTEMPTS), write=True)
    log.info("purged", extra={"sessions": sessions, "attempts": attempts, "counts": counts})
    return {"sessions": sessions, "attempts": attempts, "counts": counts}


def jobs() -> list[JobSpec]:
    return [JobSpec(PURGE_JOB, purge_expired, periodic=crontab(minute="17"), retries=0)]
