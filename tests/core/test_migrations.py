"""The same Alembic scripts run on SQLite and PostgreSQL, both ways, and match the models."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from hotline.core.storage import migrate
from hotline.core.storage.db import Database
from hotline.core.storage.models.base import Base
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


# SQLite's FTS5 tables for case search and their shadow tables: made by DDL, not by a model
FTS_PREFIXES = ("case_texts_fts", "case_grams_fts")


def _tables(conn: Connection) -> set[str]:
    names = set(inspect(conn).get_table_names()) - {"alembic_version"}
    return {n for n in names if not n.startswith(FTS_PREFIXES)}


def _not_fts(obj: object, name: str | None, type_: str, *_: object) -> bool:
    return not (type_ == "table" and (name or "").startswith(FTS_PREFIXES))


# Alembic cannot reflect an index with a descending column on every database, so it always
# reports this one as changed; ``_queue_index`` checks it instead.
EXPRESSION_INDEXES = {"ix_queue_items_waiting"}
# PostgreSQL-only partial indexes: absent on SQLite by design (``ddl_if``)
POSTGRES_ONLY = {
    "ix_assignments_open_reply",
    "ix_assignments_open_sign",
    "ix_case_texts_trgm",
    "ix_case_texts_grams",
}


def _diff(conn: Connection) -> list[object]:
    return [
        change
        for change in compare_metadata(
            MigrationContext.configure(conn, opts={"include_object": _not_fts}), Base.metadata
        )
        if not (
            isinstance(change, tuple)
            and change[0] in ("add_index", "remove_index")
            and (
                change[1].name in EXPRESSION_INDEXES
                or (conn.dialect.name == "sqlite" and change[1].name in POSTGRES_ONLY)
            )
        )
    ]


def _queue_index(conn: Connection) -> str:
    """The queue order index's definition, as the database has it."""
    if conn.dialect.name == "sqlite":
        return str(
            conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_queue_items_waiting'"
            ).scalar()
        )
    return str(
        conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_queue_items_waiting'"
        ).scalar()
    )


async def _inspect(url: str) -> tuple[set[str], list[object], bool, str]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            diff = await conn.run_sync(_diff)
            index = await conn.run_sync(_queue_index)
        current = await migrate.is_current(db)
    finally:
        await db.dispose()
    return tables, diff, current, index


def test_upgrade_downgrade_upgrade(empty_db: str) -> None:
    migrate.upgrade(empty_db)
    tables, diff, current, index = asyncio.run(_inspect(empty_db))
    assert re.search(r"\(state, priority DESC, waiting_since\)", index.replace('"', "")), index
    assert {"cases", "citizens", "interactions", "queue_items", "case_events"} <= tables
    assert current
    assert diff == [], f"models and migrations differ: {diff}"

    migrate.downgrade(empty_db, "base")
    tables, _, current, _ = asyncio.run(_inspect(empty_db))
    assert tables == set() and not current

    migrate.upgrade(empty_db)
    tables, diff, current, _ = asyncio.run(_inspect(empty_db))
    assert "cases" in tables and current and diff == []
