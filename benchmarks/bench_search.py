"""Case search and the queue page's list query at 1,000,000 cases, on SQLite and PostgreSQL.

Loads ``--cases`` cases (default 1,000,000; ``run.py --quick``: 20,000) into a migrated SQLite
database (and a scratch PostgreSQL one when reachable) the way ``bench_lookup.py`` does, gives
each its search text (``case_texts``: a street, a problem, an English phrase, and its ``grams``;
``search_data.py`` loads them in bulk and builds the indexes after the rows) and puts
``--waiting`` contacts (default 10,000) in the AXD queue. Then, one query at a time after an
untimed warm-up:

* ``case_search``: the kernel's search path, ``core/cases/search.py``'s statement paged by
  ``core/storage/paging.py`` (the total counted up to 1,000, 50 rows, the snippets made) through
  ``Database.session()``, for every query of ``QUERIES``; then ``case_search_short`` (words of 1
  or 2 characters: 路灯, 井盖, 坑, the grams index), ``case_search_long`` (a street, two words,
  English words: the trigram indexes) and ``case_search_filtered`` (words and a status filter)
  each alone. The audit row a staff search also writes is not part of the figure.
* ``console_queue_page``: the queue page's list query (``admin/queue.py``: waiting items with
  their tracking numbers, priority then waiting time, 200 rows) through ``Database.session()``.

Each against its raw baseline in the same run: the same SQL, written by hand, through the plain
driver (``sqlite3`` / ``asyncpg``) on one open connection. Prints ``name value unit`` lines;
``*_p99_ratio`` is raw p99 / app p99 (1.0 = the app is as fast as raw).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_lookup import load_postgres, load_sqlite, make_cases
from bench_portal import percentile
from search_data import load_texts_postgres, load_texts_sqlite

from benchmarks.common import DEFAULT_PG_URL, pg_admin, pg_urls, ratio, scratch_postgres
from hotline.core.cases.search import (
    COUNT_CAP,
    CaseFilters,
    search_statement,
    snippet,
    terms_of,
)
from hotline.core.storage import migrate
from hotline.core.storage.case_text import is_gram
from hotline.core.storage.db import Database
from hotline.core.storage.enums import QueueState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.paging import keyset_page

# (words, status filter), in three groups, each a figure of its own; ``case_search`` is them all
QUERIES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "short": (("路灯", None), ("井盖", None), ("坑", None)),  # 1 or 2 characters: the grams index
    "long": (("人民东路", None), ("和平北路 井盖", None), ("manhole", None), ("streetlight", None)),
    "filtered": (("中山西路", "closed"), ("路灯", "closed"), ("streetlight 建设南路", "closed")),
}
MIX = tuple(q for group in QUERIES.values() for q in group)
QUEUE_LIMIT = 200


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _sqlite_index(term: str) -> tuple[str, str] | None:
    word = term.lower()
    if is_gram(word):
        return "case_grams_fts", '"' + word + '"'
    if len(term) >= 3:
        return "case_texts_fts", '"' + term.replace('"', '""') + '"'
    return None


def raw_search_sql(
    dialect: str, terms: list[str], status: str | None
) -> tuple[str, list[Any], str]:
    """The search by hand: (FROM … WHERE …, its parameters, the column pages are ordered by).
    On SQLite each FTS5 table gets one MATCH for its words, and the table of the longest word is
    joined and drives (search_statement)."""
    join, order = "", "c.id"
    where, params = ["c.sealed = " + ("0" if dialect == "sqlite" else "false")], []
    rest = list(terms)
    if dialect == "sqlite":
        groups: dict[str, list[str]] = {}
        for term in sorted(terms, key=len, reverse=True):
            found = _sqlite_index(term)
            if found:
                groups.setdefault(found[0], []).append(found[1])
                rest.remove(term)
        for n, (table, phrases) in enumerate(groups.items()):
            if n == 0:
                join, order = f" JOIN {table} h ON h.rowid = c.id", "h.rowid"
                where.append(f"h.{table} MATCH ?")
            else:
                where.append(f"c.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)")
            params.append(" AND ".join(phrases))
    for term in rest:
        word = term.lower()
        if is_gram(word) and dialect != "sqlite":
            where.append(f"t.grams @> ARRAY[${len(params) + 1}::text]")
            params.append(word)
        elif dialect == "sqlite":
            where.append("lower(t.body) LIKE lower(?) ESCAPE '\\'")
            params.append(_like(term))
        else:
            like = "LIKE" if term.lower() == term.upper() else "ILIKE"
            where.append(f"t.body {like} ${len(params) + 1} ESCAPE '\\'")
            params.append(_like(term))
    if status:
        where.append("c.status = " + ("?" if dialect == "sqlite" else f"${len(params) + 1}"))
        params.append(status)
    return FROM + join + " WHERE " + " AND ".join(where), params, order


FROM = "FROM cases c JOIN case_texts t ON t.case_id = c.id"
COUNT = "SELECT count(*) FROM (SELECT 1 {sql} LIMIT " + str(COUNT_CAP + 1) + ") s"
PAGE = "SELECT c.*, t.body {sql} ORDER BY {order} DESC LIMIT 51"
QUEUE_SQL = (
    "SELECT q.id, q.case_id, q.media, q.priority, q.skills, q.waiting_since, c.tracking_number "
    "FROM queue_items q JOIN cases c ON c.id = q.case_id WHERE q.state = {p} AND c.sealed = {f} "
    "ORDER BY q.priority DESC, q.waiting_since LIMIT 200"
)


async def app_search(db: Database, query: str, status: str | None) -> int:
    terms = terms_of(query)
    statement, order = search_statement(db.dialect, terms, CaseFilters(status=status), UTC)
    async with db.session() as session:
        page = await keyset_page(session, statement, order, size=50, cap=COUNT_CAP)
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


Run = Callable[[int], Awaitable[Any]]


def figures(
    app: Callable[[str, str | None], Awaitable[Any]],
    raw: Callable[[str, str | None], Awaitable[Any]],
) -> list[tuple[str, Run, Run]]:
    """(figure name, app run, raw run): the mix of every query, then each group alone."""
    made: list[tuple[str, Run, Run]] = []
    for name, queries in (("", MIX), *((f"_{g}", q) for g, q in QUERIES.items())):

        def run_app(i: int, q: Any = queries) -> Awaitable[Any]:
            return app(*q[i % len(q)])

        def run_raw(i: int, q: Any = queries) -> Awaitable[Any]:
            return raw(*q[i % len(q)])

        made.append((f"case_search{name}", run_app, run_raw))
    return made


def measure_sqlite(path: Path, args: argparse.Namespace) -> None:
    loop = asyncio.new_event_loop()
    db = Database(f"sqlite+aiosqlite:///{path}")
    raw = sqlite3.connect(path)
    try:

        async def app_s(words: str, status: str | None) -> Any:
            return await app_search(db, words, status)

        async def raw_s(words: str, status: str | None) -> Any:
            sql, params, order = raw_search_sql("sqlite", terms_of(words), status)
            total = raw.execute(COUNT.format(sql=sql), params).fetchone()
            rows = raw.execute(PAGE.format(sql=sql, order=order), params).fetchall()
            return total, rows

        async def raw_q(i: int) -> Any:
            return raw.execute(QUEUE_SQL.format(p="'waiting'", f="0")).fetchall()

        async def app_q(i: int) -> Any:
            return await app_queue(db)

        runs: list[tuple[str, Run, Run]] = [("console_queue_page", app_q, raw_q)]
        for label, app, base in figures(app_s, raw_s) + runs:
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

        async def app_s(words: str, status: str | None) -> Any:
            return await app_search(db, words, status)

        async def raw_s(words: str, status: str | None) -> Any:
            sql, params, order = raw_search_sql("postgresql", terms_of(words), status)
            total = await raw.fetchval(COUNT.format(sql=sql), *params)
            rows = await raw.fetch(PAGE.format(sql=sql, order=order), *params)
            return total, rows

        async def raw_q(i: int) -> Any:
            return await raw.fetch(QUEUE_SQL.format(p="'waiting'", f="false"))

        async def app_q(i: int) -> Any:
            return await app_queue(db)

        runs: list[tuple[str, Run, Run]] = [("console_queue_page", app_q, raw_q)]
        for label, app, base in figures(app_s, raw_s) + runs:
            a = timed(app, args.requests, args.warmup, loop)
            b = timed(base, args.requests, args.warmup, loop)
            report("postgres_", label, a, b)
    finally:
        loop.run_until_complete(raw.close())
        loop.run_until_complete(db.dispose())
        loop.close()


class _Skip(Exception):
    """--skip-sqlite: straight to PostgreSQL."""


def run_sqlite(path: Path, args: argparse.Namespace, cases: list[Any]) -> None:
    if not path.exists():  # else: kept from an earlier run (--keep-sqlite), loaded already
        migrate.upgrade(f"sqlite+aiosqlite:///{path}")
        start = time.perf_counter()
        load_sqlite(path, cases)
        load_texts_sqlite(path, args)
        print(f"# sqlite loaded in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"# sqlite file {path.stat().st_size / 2**20:.0f} MB", flush=True)
    if not args.load_only:
        measure_sqlite(path, args)


def run_postgres(url: str, dsn: str, args: argparse.Namespace, cases: list[Any] | None) -> None:
    """``cases`` None: a database kept from an earlier run (--keep-postgres), loaded already."""
    if cases is not None:
        migrate.upgrade(url)
        start = time.perf_counter()
        asyncio.run(load_postgres(dsn, cases))
        sizes = asyncio.run(load_texts_postgres(dsn, args))
        print(f"# postgresql loaded in {time.perf_counter() - start:.0f} s", flush=True)
        print("# postgresql " + " ".join(f"{k} {v / 2**20:.0f} MB" for k, v in sizes.items()))
    if not args.load_only:
        measure_postgres(url, dsn, args)


def kept_postgres(name: str) -> tuple[str, str, bool]:
    """(url, dsn, made now) of the database ``name`` on HOTLINE_BENCH_PG_URL's server."""
    base = os.environ.get("HOTLINE_BENCH_PG_URL", DEFAULT_PG_URL)
    url, dsn = pg_urls(base, name)
    try:
        asyncio.run(pg_admin(base, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # there already: reused as it is
        if "already exists" not in str(exc):
            raise
        return url, dsn, False
    return url, dsn, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300, help="timed queries per figure")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--keep-sqlite", type=Path, help="load into this file and keep it; reuse it when there"
    )
    parser.add_argument(
        "--keep-postgres", help="load into this database and keep it; reuse it when there"
    )
    parser.add_argument("--load-only", action="store_true", help="load (and keep), no figures")
    args = parser.parse_args(argv)
    args.waiting = min(args.waiting, args.cases)
    print(f"# cases {args.cases} waiting {args.waiting} requests {args.requests}", flush=True)
    cases = make_cases(args.cases, args.seed)
    if not args.skip_sqlite:
        if args.keep_sqlite:
            run_sqlite(args.keep_sqlite, args, cases)
        else:
            work = Path(tempfile.mkdtemp(prefix="bench_search_"))
            try:
                run_sqlite(work / "hotline.db", args, cases)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    if args.skip_postgres:
        return 0
    if args.keep_postgres:
        url, dsn, fresh = kept_postgres(args.keep_postgres)
        run_postgres(url, dsn, args, cases if fresh else None)
        return 0
    with scratch_postgres() as pg:
        if pg is None:
            return 0
        run_postgres(*pg, args, cases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
