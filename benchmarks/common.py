"""What both benchmarks share: a scratch PostgreSQL database and the ratio format."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def ratio(value: float) -> str:
    """Two decimals, three below 0.1 so that small ratios still say something."""
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def pg_urls(base: str, database: str) -> tuple[str, str]:
    """(SQLAlchemy URL, asyncpg DSN) for ``database`` on the server of ``base``."""
    url = make_url(base).set(database=database)
    dsn = url.set(drivername="postgresql")
    return (
        url.render_as_string(hide_password=False),
        dsn.render_as_string(hide_password=False),
    )


async def pg_admin(base: str, sql: str) -> None:
    import asyncpg

    _, dsn = pg_urls(base, "postgres")
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_postgres() -> Iterator[tuple[str, str] | None]:
    """A fresh ``bench_<random>`` database on ``HOTLINE_BENCH_PG_URL``'s server, dropped after;
    None (with a ``# postgresql skipped`` line) when it cannot be made."""
    base = os.environ.get("HOTLINE_BENCH_PG_URL", DEFAULT_PG_URL)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(pg_admin(base, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable, refused, no rights: say so and go on
        print(f"# postgresql skipped: {type(exc).__name__}: {exc}", flush=True)
        yield None
        return
    try:
        yield pg_urls(base, name)
    finally:
        asyncio.run(pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
