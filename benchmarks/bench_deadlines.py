"""The deadline scan (the timers job) over 1,000,000 open and closed cases.

Loads ``--cases`` cases (default 1,000,000, as ``bench_lookup.py`` makes them) with one
department assignment each: four in five closed long ago, one in ten with the department
(dispatched) and one in ten being handled (accepted), sign-for deadlines one day and reply
deadlines five days after the case came in; the open ones past their deadline are already marked
overdue except ``--due`` of them (default 5,000), which the scan has to find and mark.

* ``deadline_scan_busy``: one pass of ``core.workflow.timers.scan_deadlines`` while overdue work waits
  (each pass marks a batch: the overdue flags, a case event and two notices per assignment);
  repeated until nothing is left, the mean per pass and the assignments marked per second.
* ``deadline_scan_idle``: one pass when nothing is due, the every-minute cost, p50 and p99;
  against the raw baseline: the same five SELECTs (sign-for and reply, overdue and near; and the
  answered cases past their evaluation days) run with the plain driver, no SQLAlchemy, in the
  same run on the same database. ``*_ratio`` is raw / app (1.0 = as fast as raw SQL).

SQLite and, when ``HOTLINE_BENCH_PG_URL`` (default the local ``test`` server) is reachable,
PostgreSQL. Prints ``name value unit`` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_lookup import load_postgres, load_sqlite, make_cases, percentile

from benchmarks.common import ratio, scratch_postgres
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import Kernel, open_context
from hotline.core.storage import migrate
from hotline.core.workflow.timers import BATCH, scan_deadlines

DEPARTMENT = (
    "INSERT INTO departments (id, code, name_zh, name_en, active) VALUES"
    " (1, 'roads', '交通运输局', 'Transport Bureau', {true})"
)
# one assignment per case: open for every fifth case, done for the others
ASSIGNMENTS_SQLITE = """
INSERT INTO assignments (case_id, department_id, lead, state, instructions, dispatched_at,
    sign_deadline, reply_deadline, reply_text, reason, sent_back, urged, extension_reason,
    overdue)
SELECT id, 1, 1,
    CASE WHEN id % 10 = 0 THEN 'dispatched' WHEN id % 5 = 0 THEN 'accepted' ELSE 'done' END,
    '', created_at,
    strftime('%Y-%m-%d %H:%M:%S', created_at, '+1 day') || '.000000',
    strftime('%Y-%m-%d %H:%M:%S', created_at, '+5 days') || '.000000',
    '', '', 0, 0, '', 0
FROM cases
"""
ASSIGNMENTS_PG = """
INSERT INTO assignments (case_id, department_id, lead, state, instructions, dispatched_at,
    sign_deadline, reply_deadline, reply_text, reason, sent_back, urged, extension_reason,
    overdue)
SELECT id, 1, true,
    CASE WHEN id % 10 = 0 THEN 'dispatched' WHEN id % 5 = 0 THEN 'accepted' ELSE 'done' END,
    '', created_at, created_at + interval '1 day', created_at + interval '5 days',
    '', '', 0, 0, '', false
FROM cases
"""
STATUS = (
    "UPDATE cases SET status = CASE WHEN id % 10 = 0 THEN 'dispatched'"
    " WHEN id % 5 = 0 THEN 'accepted' ELSE 'closed' END, department_id = 1"
)
# every open assignment past its deadline is marked already, but for ``due`` of them
MARK_OVERDUE = (
    "UPDATE assignments SET overdue = {true} WHERE state IN ('dispatched', 'accepted')"
    " AND reply_deadline < {now} AND id NOT IN (SELECT id FROM assignments"
    " WHERE state IN ('dispatched', 'accepted') AND reply_deadline < {now}"
    " ORDER BY id LIMIT {due})"
)

RAW_QUERIES = (
    "SELECT * FROM assignments WHERE state = 'dispatched' AND overdue = {false}"
    " AND sign_deadline < {now} ORDER BY sign_deadline LIMIT {batch}",
    "SELECT * FROM assignments WHERE state IN ('dispatched', 'accepted')"
    " AND overdue = {false} AND reply_deadline < {now} ORDER BY reply_deadline LIMIT {batch}",
    "SELECT * FROM assignments WHERE state = 'dispatched' AND overdue = {false}"
    " AND sign_deadline < {bound} AND warned_at IS NULL ORDER BY sign_deadline LIMIT {batch}",
    "SELECT * FROM assignments WHERE state IN ('dispatched', 'accepted')"
    " AND overdue = {false} AND reply_deadline < {bound} AND warned_at IS NULL"
    " ORDER BY reply_deadline LIMIT {batch}",
    "SELECT * FROM cases WHERE status = 'answered' AND answered_at < {closing} LIMIT {batch}",
)


def settings_for(url: str, data: Path) -> Settings:
    return Settings(
        database_url=url,
        data_dir=data,
        jobs_in_process=False,
        secret_key="bench-secret-key-0123456789abcdef",
        log_level="WARNING",
    )


async def app_scans(
    url: str, data: Path, now: datetime, idle_runs: int
) -> tuple[list[float], int, list[float]]:
    """Busy passes until nothing is left (ms each, assignments marked), then idle passes."""
    settings = settings_for(url, data)
    busy: list[float] = []
    marked = 0
    async with open_context(settings, Kernel(settings)) as ctx:
        while True:
            start = time.perf_counter()
            result = await scan_deadlines(ctx, now)
            elapsed = (time.perf_counter() - start) * 1000
            done = result.overdue + result.warned + result.closed
            if not done:
                break
            busy.append(elapsed)
            marked += done
        idle = []
        for _ in range(idle_runs):
            start = time.perf_counter()
            result = await scan_deadlines(ctx, now)
            idle.append((time.perf_counter() - start) * 1000)
            assert result.overdue + result.warned + result.closed == 0
    return busy, marked, sorted(idle)


def timed(run: Callable[[], Any], times: int) -> list[float]:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        out.append((time.perf_counter() - start) * 1000)
    return sorted(out)


async def timed_async(run: Callable[[], Awaitable[Any]], times: int) -> list[float]:
    out = []
    for _ in range(times):
        start = time.perf_counter()
        await run()
        out.append((time.perf_counter() - start) * 1000)
    return sorted(out)


def report(label: str, busy: list[float], marked: int, idle: list[float], raw: list[float]) -> None:
    if busy:
        mean = sum(busy) / len(busy)
        print(f"deadline_scan_{label}_busy {mean:.1f} ms per pass ({len(busy)} passes)")
        print(f"deadline_scan_{label}_busy_rate {marked / (sum(busy) / 1000):.0f} marked/s")
    for q, name in ((0.5, "p50"), (0.99, "p99")):
        app, base = percentile(idle, q), percentile(raw, q)
        print(f"deadline_scan_{label}_idle_{name} {app:.2f} ms")
        print(f"deadline_scan_{label}_raw_{name} {base:.2f} ms")
        print(f"deadline_scan_{label}_idle_{name}_ratio {ratio(base / app)}", flush=True)


def bounds(now: datetime) -> dict[str, datetime]:
    # the warning bound as the app computes it is at most a few working hours on: a day covers it
    return {"now": now, "bound": now + timedelta(days=1), "closing": now - timedelta(days=7)}


def run_sqlite(args: argparse.Namespace, root: Path, cases: list[Any], now: datetime) -> None:
    path = root / "hotline.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url)
    start = time.perf_counter()
    load_sqlite(path, cases)
    conn = sqlite3.connect(path, isolation_level=None)
    stamp = now.replace(tzinfo=None).isoformat(" ", "microseconds")
    conn.execute("BEGIN")
    conn.execute(DEPARTMENT.format(true=1))
    conn.execute(ASSIGNMENTS_SQLITE)
    conn.execute(STATUS)
    conn.execute(MARK_OVERDUE.format(true=1, now=f"'{stamp}'", due=args.due))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    print(f"# sqlite: loaded in {time.perf_counter() - start:.0f} s", flush=True)
    busy, marked, idle = asyncio.run(app_scans(url, root, now, args.runs))
    params = {
        k: f"'{v.replace(tzinfo=None).isoformat(' ', 'microseconds')}'"
        for k, v in bounds(now).items()
    }
    queries = [q.format(false=0, batch=BATCH, **params) for q in RAW_QUERIES]
    raw = timed(lambda: [conn.execute(q).fetchall() for q in queries], args.runs)
    conn.close()
    report("sqlite", busy, marked, idle, raw)


async def raw_postgres(dsn: str, now: datetime, runs: int) -> list[float]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    values = bounds(now)
    queries = [
        q.format(false="false", batch=BATCH, now="$1", bound="$1", closing="$1")
        for q in RAW_QUERIES
    ]
    args = [values["now"], values["now"], values["bound"], values["bound"], values["closing"]]

    async def run() -> None:
        async with conn.transaction():
            for query, value in zip(queries, args, strict=True):
                await conn.fetch(query, value)

    try:
        return await timed_async(run, runs)
    finally:
        await conn.close()


def run_postgres(args: argparse.Namespace, root: Path, cases: list[Any], now: datetime) -> None:
    import asyncpg

    with scratch_postgres() as database:
        if database is None:
            return
        url, dsn = database
        migrate.upgrade(url)
        start = time.perf_counter()
        asyncio.run(load_postgres(dsn, cases))

        async def prepare() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(DEPARTMENT.format(true="true"))
                await conn.execute(ASSIGNMENTS_PG)
                await conn.execute(STATUS)
                await conn.execute(MARK_OVERDUE.format(true="true", now="$1", due=args.due), now)
                await conn.execute("VACUUM ANALYZE")
            finally:
                await conn.close()

        asyncio.run(prepare())
        print(f"# postgresql: loaded in {time.perf_counter() - start:.0f} s", flush=True)
        busy, marked, idle = asyncio.run(app_scans(url, root, now, args.runs))
        raw = asyncio.run(raw_postgres(dsn, now, args.runs))
        report("postgresql", busy, marked, idle, raw)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=5_000, help="overdue assignments to find")
    parser.add_argument("--runs", type=int, default=50, help="timed idle passes")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    cases = make_cases(args.cases, args.seed)
    now = datetime.now(UTC)
    print(f"# {args.cases} cases, one assignment each; {args.due} overdue to find", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-deadlines-") as tmp:
        run_sqlite(args, Path(tmp), cases, now)
    if not args.skip_postgres:
        with tempfile.TemporaryDirectory(prefix="bench-deadlines-pg-") as tmp:
            run_postgres(args, Path(tmp), cases, now)
    return 0


if __name__ == "__main__":
    sys.exit(main())
