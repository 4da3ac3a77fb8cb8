"""The cases' search texts and the AXD queue for ``bench_search.py``, loaded in bulk the way a
restore would: the rows first, the search indexes built once after them (FTS5 ``rebuild`` on
SQLite, ``CREATE INDEX`` on PostgreSQL), so that 1,000,000 cases load in minutes, not hours."""

from __future__ import annotations

import argparse
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hotline.core.storage.case_text import grams_of
from hotline.core.storage.enums import QueueState
from hotline.core.storage.models.search import (
    SQLITE_FTS,
    SQLITE_FTS_DROP,
    SQLITE_GRAMS,
    SQLITE_GRAMS_DROP,
)

NAMES = ("人民", "解放", "建设", "中山", "和平", "长江", "黄河", "新华", "胜利", "光明")
STREETS = [f"{a}{b}路" for a in NAMES for b in "东西南北中"]  # 50 streets: 人民东路 …
PROBLEMS = (
    "路灯坏了，晚上很黑",
    "有一个大坑，车辆经过很危险",
    "施工噪音太大，晚上还在打桩",
    "公交站台的座椅坏了",
    "占道经营，行人无法通行",
    "垃圾没有清运，气味很大",
    "下水道堵塞，污水外溢",
    "井盖丢失，存在安全隐患",
    "树枝断裂挡住人行道",
    "违章停车堵住消防通道",
)
ENGLISH = (
    "broken streetlight",
    "pothole near the school",
    "noise after midnight",
    "bus shelter damaged",
    "garbage not collected",
    "blocked drain overflowing",
    "missing manhole cover",
    "fallen branch on the pavement",
)
QUEUE_COLUMNS = (
    "case_id",
    "media",
    "priority",
    "skills",
    "language",
    "state",
    "declined_by",
    "waiting_since",
    "updated_at",
)


def body(i: int, rng: random.Random) -> str:
    street, problem = STREETS[rng.randrange(len(STREETS))], PROBLEMS[rng.randrange(len(PROBLEMS))]
    english = ENGLISH[rng.randrange(len(ENGLISH))] if rng.random() < 0.3 else ""
    return f"{street}{problem}。{english} #{i}"


def texts(count: int, seed: int) -> Iterator[tuple[int, str, str]]:
    """(case id, body, grams) as ``storage/case_text.py`` writes them."""
    rng = random.Random(seed + 1)
    for i in range(1, count + 1):
        text = body(i, rng)
        yield i, text, grams_of(text)


def queue_rows(count: int, waiting: int, seed: int, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed + 2)
    now = datetime.now(UTC)
    for _ in range(waiting):
        at = now - timedelta(seconds=rng.randrange(86_400 * 3))
        stamp: Any = at.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else at
        yield (
            rng.randrange(1, count + 1),
            "phone",
            rng.choice((0, 1, 1, 1, 2)),
            "[]",
            "zh_CN",
            str(QueueState.WAITING),
            "[]",
            stamp,
            stamp,
        )


def load_texts_sqlite(path: Path, args: argparse.Namespace) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        # the FTS5 tables are made again after the rows, each indexed once ('rebuild')
        for statement in SQLITE_FTS_DROP + SQLITE_GRAMS_DROP:
            conn.execute(statement)
        conn.executemany(
            "INSERT INTO case_texts (case_id, body, grams) VALUES (?, ?, ?)",
            texts(args.cases, args.seed),
        )
        for statement in SQLITE_FTS + SQLITE_GRAMS:
            conn.execute(statement)
        conn.execute("INSERT INTO case_texts_fts(case_texts_fts) VALUES ('rebuild')")
        conn.execute("INSERT INTO case_grams_fts(case_grams_fts) VALUES ('rebuild')")
        conn.executemany(
            f"INSERT INTO queue_items ({', '.join(QUEUE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in QUEUE_COLUMNS)})",
            queue_rows(args.cases, args.waiting, args.seed, sqlite=True),
        )
        conn.execute("COMMIT")
        conn.execute("INSERT INTO case_texts_fts(case_texts_fts) VALUES ('optimize')")
        conn.execute("INSERT INTO case_grams_fts(case_grams_fts) VALUES ('optimize')")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def load_texts_postgres(dsn: str, args: argparse.Namespace) -> dict[str, int]:
    """Loads the rows, builds the indexes after them; returns the search indexes' sizes."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP INDEX ix_case_texts_trgm")
        await conn.execute("DROP INDEX ix_case_texts_grams")
        await conn.copy_records_to_table(
            "case_texts",
            records=((i, text, grams.split()) for i, text, grams in texts(args.cases, args.seed)),
            columns=["case_id", "body", "grams"],
        )
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute(
            "CREATE INDEX ix_case_texts_trgm ON case_texts USING gin (body gin_trgm_ops)"
        )
        await conn.execute("CREATE INDEX ix_case_texts_grams ON case_texts USING gin (grams)")
        await conn.copy_records_to_table(
            "queue_items",
            records=queue_rows(args.cases, args.waiting, args.seed, sqlite=False),
            columns=list(QUEUE_COLUMNS),
        )
        await conn.execute("VACUUM ANALYZE")
        sizes = {}
        for name in ("case_texts", "ix_case_texts_trgm", "ix_case_texts_grams"):
            sizes[name] = int(await conn.fetchval("SELECT pg_relation_size($1::regclass)", name))
        return sizes
    finally:
        await conn.close()
