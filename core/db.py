"""The database: one async engine per process (per event loop), sessions, SQLite tuning.

``run`` executes a unit of plain (sync) ORM work in one transaction. On PostgreSQL it runs
through the async session (asyncpg); on SQLite it runs in a worker thread on the standard
``sqlite3`` driver, one thread hop for the whole unit instead of several per statement
(aiosqlite's cost), which is what makes intake fast on the embedded default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
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

T = TypeVar("T")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    # WAL lets readers go on while one writer commits; busy_timeout waits instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


class Database:
    """An engine and its session factory. Create inside the event loop that uses it."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._sync_sessions: sessionmaker[Session] | None = None
        if url.startswith("sqlite"):
            sync_engine = create_engine(make_url(url).set(drivername="sqlite+pysqlite"))
            event.listen(sync_engine, "connect", _sqlite_pragmas)
            self._sync_sessions = sessionmaker(sync_engine, expire_on_commit=False)

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
        async with self.sessions() as session, session.begin():
            yield session

    async def run(self, unit: Callable[[Session], T], *, write: bool) -> T:
        """Run ``unit(session)`` in one transaction, committed when ``write`` and it returns,
        rolled back whole when it raises."""
        if self._sync_sessions is not None:
            sessions = self._sync_sessions

            def in_thread() -> T:
                with sessions() as session:
                    if not write:
                        return unit(session)
                    with session.begin():
                        return unit(session)

            return await anyio.to_thread.run_sync(in_thread)
        async with self.sessions() as session:
            if not write:
                return await session.run_sync(unit)
            async with session.begin():
                return await session.run_sync(unit)

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._sync_sessions is not None:
            bind = self._sync_sessions.kw["bind"]
            await anyio.to_thread.run_sync(bind.dispose)
