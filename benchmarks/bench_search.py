"""Case search and the queue page's list query at 1,000,000 cases, on SQLite and PostgreSQL.

Loads ``--cases`` cases (default 1,000,000; ``run.py --quick``: 20,000) into a migrated SQLite
database (and a scratch PostgreSQL one when reachable) the way ``bench_lookup.py`` does, gives
each its search text (``case_texts``: a street, a problem, an English phrase; indexed by the FTS5
trigram table on SQLite, by the pg_trgm GIN index on PostgreSQL) and puts ``--waiting`` contacts
(default 10,000) in the AXD queue. Then, one query at a time after an untimed warm-up:

* ``case_search``: the kernel's search path, ``core/cases/search.py``'s statement paged by
  ``core/storage/paging.py`` (the total counted, 50 rows, the snippets made) through
  ``Database.session()``, for a mix of queries: a street (3 characters), a 2-character word
  (路灯: no trigram, the LIKE fallback), an English word, two words, and a word with a status
  filter. The audit row a staff search also writes is not part of the figure.
* ``console_queue_page``: the queue page's list query (``admin/queue.py``: waiting items with
  their tracking numbers, priority then waiting time, 200 rows) through ``Database.session()``.

Each against its raw baseline in the same run: the same SQL, written by hand, through the plain
driver (``sqlite3`` / ``asyncpg``) on one open connection. Prints ``name value unit`` lines;
``*_p99_ratio`` is raw p99 / app p99 (1.0 = the app is as fast as raw).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import load_postgres, load_sqlite, make_cases
from bench_portal import percentile

from benchmarks.common import ratio, scratch_postgres
from hotline.core.cases.search import CaseFilters, snippet, statement_for, terms_of
from hotline.core.storage import migrate
from hotline.core.storage.db import Database
from hotline.core.storage.enums import QueueState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.paging import Sort, keyset_page

STREETS = [f"{a}{b}路" for a in "人民解放建设中山和平" for b in "东西南北中"]  # 50 streets
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
# (words, status filter): a mix of selectivities, each a separate figure row in the mix
QUERIES: tuple[tuple[str, str | None], ...] = (
    ("人民东路", None),
    ("和平北路 井盖", None),
    ("路灯", None),
    ("manhole", None),
    ("streetlight 建设南路", None),
    ("中山西路", "closed"),
)
SORT = Sort(Case.id, Case.id)
QUEUE_LIMIT = 200


def body(i: int, rng: random.Random) -> str:
    street, problem = STREETS[rng.randrange(len(STREETS))], PROBLEMS[rng.randrange(len(PROBLEMS))]
    english = ENGLISH[rng.randrange(len(ENGLISH))] if rng.random() < 0.3 else ""
    return f"{street}{problem}。{english} #{i}"


def texts(count: int, seed: int) -> Iterator[tuple[int, str]]:
    rng = random.Random(seed + 1)
    for i in range(1, count + 1):
        yield i, body(i, rng)


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


def load_texts_sqlite(path: Path, args: argparse.Namespace) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO case_texts (case_id, body) VALUES (?, ?)", texts(args.cases, args.seed)
        )
        conn.executemany(
            f"INSERT INTO queue_items ({', '.join(QUEUE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in QUEUE_COLUMNS)})",
            queue_rows(args.cases, args.waiting, args.seed, sqlite=True),
        )
        conn.execute("COMMIT")
        conn.execute("INSERT INTO case_texts_fts(case_texts_fts) VALUES ('optimize')")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def load_texts_postgres(dsn: str, args: argparse.Namespace) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        # a bulk load builds the GIN index once, after the rows (as a restore would)
        await conn.execute("DROP INDEX ix_case_texts_trgm")
        await conn.copy_records_to_table(
            "case_texts", records=texts(args.cases, args.seed), columns=["case_id", "body"]
        )
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute(
            "CREATE INDEX ix_case_texts_trgm ON case_texts USING gin (body gin_trgm_ops)"
        )
        await conn.copy_records_to_table(
            "queue_items",
            records=queue_rows(args.cases, args.waiting, args.seed, sqlite=False),
            columns=list(QUEUE_COLUMNS),
        )
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def raw_search_sql(dialect: str, terms: list[str], status: str | None) -> tuple[str, list[Any]]:
    """The search by hand: (count SQL ; page SQL) share one WHERE clause."""
    where, params = ["c.sealed = " + ("0" if dialect == "sqlite" else "false")], []
    for term in terms:
        if dialect == "sqlite" and len(term) >= 3:
            where.append("c.id IN (SELECT rowid FROM case_texts_fts WHERE case_texts_fts MATCH ?)")
            params.append('"' + term.replace('"', '""') + '"')
        elif dialect == "sqlite":
            where.append("lower(t.body) LIKE lower(?) ESCAPE '\\'")
            params.append(_like(term))
        else:
            where.append(f"t.body ILIKE ${len(params) + 1} ESCAPE '\\'")
            params.append(_like(term))
    if status:
        where.append("c.status = " + ("?" if dialect == "sqlite" else f"${len(params) + 1}"))
        params.append(status)
    return " AND ".join(where), params


FROM = "FROM cases c JOIN case_texts t ON t.case_id = c.id WHERE "
QUEUE_SQL = (
    "SELECT q.id, q.case_id, q.media, q.priority, q.skills, q.waiting_since, c.tracking_number "
    "FROM queue_items q JOIN cases c ON c.id = q.case_id WHERE q.state = {p} AND c.sealed = {f} "
    "ORDER BY q.priority DESC, q.waiting_since LIMIT 200"
)


async def app_search(db: Database, query: str, status: str | None) -> int:
    terms = terms_of(query)
    statement = statement_for(db.dialect, terms, CaseFilters(status=status), UTC)
    async with db.session() as session:
        page = await keyset_page(session, statement, SORT, size=50)
    hits = [(case.tracking_number, snippet(text, terms[0])) for case, text in page.rows]
    return page.total + len(hits) * 0


async def app_queue(db: Database) -> int:
    from sqlalchemy import select

    async with db.session() as session:
        rows = list(
            await session.execute(
                select(QueueItem, Case.tracking_number)
                .join(Case, Case.id == QueueItem.case_id)
                .where(QueueItem.state == QueueState.WAITING, Case.sealed.is_(False))
                .order_by(QueueItem.priority.desc(), QueueItem.waiting_since)
                .limit(QUEUE_LIMIT)
            )
        )
    return len(rows)


def timed(
    run: Callable[[int], Awaitable[Any]], n: int, warmup: int, loop: asyncio.AbstractEventLoop
) -> list[float]:
    for i in range(warmup):
        loop.run_until_complete(run(i))
    times = []
    for i in range(n):
        start = time.perf_counter()
        loop.run_until_complete(run(i))
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def report(prefix: str, name: str, app: list[float], raw: list[float]) -> None:
    p99_app, p99_raw = percentile(app, 0.99), percentile(raw, 0.99)
    print(f"{prefix}{name}_p50_ms {percentile(app, 0.5):.2f} ms")
    print(f"{prefix}{name}_p99_ms {p99_app:.2f} ms")
    print(f"{prefix}{name}_raw_p99_ms {p99_raw:.2f} ms")
    print(f"{prefix}{name}_p99_ratio {ratio(p99_raw / p99_app)} x", flush=True)


def measure_sqlite(path: Path, args: argparse.Namespace) -> None:
    loop = asyncio.new_event_loop()
    db = Database(f"sqlite+aiosqlite:///{path}")
    raw = sqlite3.connect(path)
    try:

        async def app_s(i: int) -> Any:
            return await app_search(db, *QUERIES[i % len(QUERIES)])

        async def raw_s(i: int) -> Any:
            words, status = QUERIES[i % len(QUERIES)]
            where, params = raw_search_sql("sqlite", terms_of(words), status)
            total = raw.execute("SELECT count(*) " + FROM + where, params).fetchone()
            rows = raw.execute(
                "SELECT c.*, t.body " + FROM + where + " ORDER BY c.id DESC LIMIT 51", params
            ).fetchall()
            return total, rows

        async def raw_q(i: int) -> Any:
            return raw.execute(QUEUE_SQL.format(p="'waiting'", f="0")).fetchall()

        for label, app, base in (
            ("case_search", app_s, raw_s),
            ("console_queue_page", lambda i: app_queue(db), raw_q),
        ):
            a = timed(app, args.requests, args.warmup, loop)
            b = timed(base, args.requests, args.warmup, loop)
            report("", label, a, b)
    finally:
        raw.close()
        loop.run_until_complete(db.dispose())
        loop.close()


def measure_postgres(url: str, dsn: str, args: argparse.Namespace) -> None:
    import asyncpg

    loop = asyncio.new_event_loop()
    db = Database(url)
    raw = loop.run_until_complete(asyncpg.connect(dsn))
    try:

        async def app_s(i: int) -> Any:
            return await app_search(db, *QUERIES[i % len(QUERIES)])

        async def raw_s(i: int) -> Any:
            words, status = QUERIES[i % len(QUERIES)]
            where, params = raw_search_sql("postgresql", terms_of(words), status)
            total = await raw.fetchval("SELECT count(*) " + FROM + where, *params)
            rows = await raw.fetch(
                "SELECT c.*, t.body " + FROM + where + " ORDER BY c.id DESC LIMIT 51", *params
            )
            return total, rows

        async def raw_q(i: int) -> Any:
            return await raw.fetch(QUEUE_SQL.format(p="'waiting'", f="false"))

        for label, app, base in (
            ("case_search", app_s, raw_s),
            ("console_queue_page", lambda i: app_queue(db), raw_q),
        ):
            a = timed(app, args.requests, args.warmup, loop)
            b = timed(base, args.requests, args.warmup, loop)
            report("postgres_", label, a, b)
    finally:
        loop.run_until_complete(raw.close())
        loop.run_until_complete(db.dispose())
        loop.close()


class _Skip(Exception):
    """--skip-sqlite: straight to PostgreSQL."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="timed queries per figure")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)
    args.waiting = min(args.waiting, args.cases)
    print(f"# cases {args.cases} waiting {args.waiting} requests {args.requests}", flush=True)
    cases = make_cases(args.cases, args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench_search_"))
    try:
        if args.skip_sqlite:
            raise _Skip
        path = work / "hotline.db"
        migrate.upgrade(f"sqlite+aiosqlite:///{path}")
        start = time.perf_counter()
        load_sqlite(path, cases)
        load_texts_sqlite(path, args)
        print(f"# sqlite loaded in {time.perf_counter() - start:.0f} s", flush=True)
        measure_sqlite(path, args)
    except _Skip:
        pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.skip_postgres:
        return 0
    with scratch_postgres() as pg:
        if pg is None:
            return 0
        url, dsn = pg
        migrate.upgrade(url)
        start = time.perf_counter()
        asyncio.run(load_postgres(dsn, cases))
        asyncio.run(load_texts_postgres(dsn, args))
        print(f"# postgresql loaded in {time.perf_counter() - start:.0f} s", flush=True)
        measure_postgres(url, dsn, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
