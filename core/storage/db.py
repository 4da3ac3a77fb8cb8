"""The database: one async engine per process (per event loop), sessions, SQLite tuning.

``run`` executes a unit of plain (sync) ORM work in one transaction. On PostgreSQL it runs
through the async session (asyncpg); on SQLite it runs in a worker thread on the standard
``sqlite3`` driver, one thread hop for the whole unit instead of several per statement
(aiosqlite's cost), which is what makes intake fast on the embedded default.

A transaction that wrote follow-up work (``core.storage.outbox``) hands it to the job queue once it
committed (``on_commit``, set by the kernel); a failure there is logged and left to the relay.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.foundation import crashpoints
from hotline.core.storage import case_text  # noqa: F401  (keeps case search in step)
from hotline.core.storage.outbox import CONFIG, OutboxConfig, new_rows

T = TypeVar("T")
log = logging.getLogger("hotline.db")
HandOver = Callable[[list[tuple[str, float]]], Awaitable[Any]]


DEFAULT_LOCK_TIMEOUT = 10.0


def sqlite_pragmas(lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> Callable[[Any, Any], None]:
    def pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        # WAL lets readers go on while one writer commits; busy_timeout waits for a lock
        # instead of failing at once, and fails (503) when it is held longer.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # reads through a memory map of the file (up to 1 GiB), not a copy per page read: case
        # search at a million cases reads ~20,000 scattered pages for a capped count
        cursor.execute("PRAGMA mmap_size=1073741824")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")
        cursor.close()

    return pragmas


def make_engine(url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas(lock_timeout))
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    # A request waits this long for a row lock, a connection or a pooled connection, then
    # fails (503 with Retry-After) rather than hanging on a server that does not answer.
    kwargs.setdefault("pool_timeout", lock_timeout)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("timeout", lock_timeout)
    connect_args.setdefault("server_settings", {}).setdefault(
        "lock_timeout", str(int(lock_timeout * 1000))
    )
    return create_async_engine(url, **kwargs)


class Database:
    """An engine and its session factory. Create inside the event loop that uses it."""

    def __init__(
        self, url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT, **engine_kwargs: Any
    ) -> None:
        self.url = url
        self.engine = make_engine(url, lock_timeout, **engine_kwargs)
        # the job outbox: which jobs follow which case event; who takes rows after a commit
        self.outbox = OutboxConfig()
        self.on_commit: HandOver | None = None
        info = {CONFIG: self.outbox}
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, info=info)
        self._sync_sessions: sessionmaker[Session] | None = None
        if url.startswith("sqlite"):
            sync_engine = create_engine(make_url(url).set(drivername="sqlite+pysqlite"))
            event.listen(sync_engine, "connect", sqlite_pragmas(lock_timeout))
            self._sync_sessions = sessionmaker(sync_engine, expire_on_commit=False, info=info)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits at the end, rolls back whole on any error."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            rows = new_rows(session.sync_session)
        await self._hand_over(rows)

    async def _hand_over(self, rows: list[tuple[str, float]]) -> None:
        """Follow-up work of a committed transaction to the job queue (the fast path)."""
        if not rows or self.on_commit is None:
            return
        crashpoints.crash_point("outbox.before_handover")
        try:
            await self.on_commit(rows)
        except Exception:  # committed all the same: the relay hands the rows later
            log.warning("follow-up work not handed over; the relay will", exc_info=True)

    async def run(self, unit: Callable[[Session], T], *, write: bool) -> T:
        """Run ``unit(session)`` in one transaction, committed when ``write`` and it returns,
        rolled back whole when it raises."""
        if self._sync_sessions is not None:
            sessions = self._sync_sessions

            def in_thread() -> tuple[T, list[tuple[str, float]]]:
                with sessions() as session:
                    if not write:
                        return unit(session), []
                    with session.begin():
                        result = unit(session)
                    return result, new_rows(session)

            result, rows = await anyio.to_thread.run_sync(in_thread)
            await self._hand_over(rows)
            return result
        async with self.sessions() as session:
            if not write:
                return await session.run_sync(unit)
            async with session.begin():
                result = await session.run_sync(unit)
            rows = new_rows(session.sync_session)
        await self._hand_over(rows)
        return result

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._sync_sessions is not None:
            bind = self._sync_sessions.kw["bind"]
            await anyio.to_thread.run_sync(bind.dispose)
