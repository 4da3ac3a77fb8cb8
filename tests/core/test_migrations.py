"""The same Alembic scripts run on SQLite and PostgreSQL, both ways, and match the models."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from hotline.core import migrate
from hotline.core.db import Database
from hotline.core.models import Base
from tests.conftest import _pg_execute


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
        return
    request.getfixturevalue("pg_database")  # skips or fails when PostgreSQL is missing
    name = f"hotline_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    asyncio.run(_pg_execute(f'DROP DATABASE "{name}" WITH (FORCE)'))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


def _diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


async def _inspect(url: str) -> tuple[set[str], list[object], bool]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            diff = await conn.run_sync(_diff)
        current = await migrate.is_current(db)
    finally:
        await db.dispose()
    return tables, diff, current


def test_upgrade_downgrade_upgrade(empty_db: str) -> None:
    migrate.upgrade(empty_db)
    tables, diff, current = asyncio.run(_inspect(empty_db))
    assert {"cases", "citizens", "interactions", "queue_items", "case_events"} <= tables
    assert current
    assert diff == [], f"models and migrations differ: {diff}"

    migrate.downgrade(empty_db, "base")
    tables, _, current = asyncio.run(_inspect(empty_db))
    assert tables == set() and not current

    migrate.upgrade(empty_db)
    tables, diff, current = asyncio.run(_inspect(empty_db))
    assert "cases" in tables and current and diff == []
