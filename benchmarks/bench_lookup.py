"""Tracking-number lookup at scale: the app's ORM path against a raw indexed SELECT.

Loads ``--cases`` cases (default 1,000,000) with valid tracking numbers spread over three years
into a migrated SQLite database (and PostgreSQL when reachable), then times single lookups of
random existing numbers:

* app: ``hotline.core.cases.lookup.find_case``, what the API and the channels use to find a case:
  ``tracking.clean``, ``tracking.is_valid``, then ``select(Case)`` by number in one
  ``Database.run`` read unit (a worker thread on the sqlite3 driver on SQLite, the async
  session on PostgreSQL);
* raw: the same columns by the same index through the plain driver (``sqlite3`` / ``asyncpg``),
  one open connection.

App and raw lookups alternate in blocks (ABBA) with different numbers. Prints ``name value
unit`` lines; ``*_ratio`` is raw latency / app latency (1.0 = the app is as fast as raw).
"""

from __future__ import annotations

import argparse
import asyncio
import math
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
from benchmarks.common import ratio, scratch_postgres
from hotline.core.cases import tracking
from hotline.core.cases.lookup import find_case
from hotline.core.storage import migrate
from hotline.core.storage.db import Database
from hotline.core.storage.enums import CaseKind, CaseStatus, Channel
from hotline.core.storage.models.cases import Case

DAYS = 3 * 365
BLOCK = 100

COLUMNS = (
    "tracking_number",
    "kind",
    "status",
    "priority",
    "language",
    "first_channel",
    "subject",
    "description",
    "sealed",
    "created_at",
    "updated_at",
)
SELECT_COLUMNS = ", ".join(column.name for column in Case.__table__.columns)
KINDS = tuple(str(kind) for kind in CaseKind if kind is not CaseKind.DIRECTOR_MAILBOX)
STATUSES = tuple(str(status) for status in CaseStatus)
CHANNELS = (Channel.PHONE, Channel.PHONE, Channel.WEB, Channel.SMS, Channel.EMAIL)
TEXTS = (
    "人民路与解放路交叉口有一个大坑，车辆经过很危险。",
    "小区楼下的路灯坏了一个星期，晚上很黑。",
    "建设路施工噪音太大，晚上十一点还在打桩。",
    "公交站台的座椅坏了，请尽快维修。",
    "菜市场门口占道经营，行人无法通行。",
    "自来水发黄，已经持续三天了，请相关部门处理。",
)


# --------------------------------------------------------------------------- data


def make_cases(count: int, seed: int) -> list[tuple[str, datetime]]:
    """``count`` distinct (tracking number, created_at), sorted by number, over ``DAYS`` days."""
    rng = random.Random(seed)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    per_day, extra = divmod(count, DAYS)
    seen: set[str] = set()
    cases: list[tuple[str, datetime]] = []
    for offset in range(DAYS):
        day = today - timedelta(days=offset)
        want = per_day + (1 if offset < extra else 0)
        while want:
            number = tracking.new_tracking_number(day)
            if number in seen:  # a clash within one day: draw again, as intake does
                continue
            seen.add(number)
            cases.append((number, day + timedelta(seconds=rng.randrange(86_400))))
            want -= 1
    # In key order, the unique index is appended to, not split at random: a COPY-like load.
    cases.sort()
    return cases


def rows(cases: list[tuple[str, datetime]], sqlite: bool) -> Iterator[tuple[Any, ...]]:
    for i, (number, created) in enumerate(cases):
        # SQLite: the naive UTC text SQLAlchemy writes for a UTCDateTime.
        at: Any = created.replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else created
        yield (
            number,
            KINDS[i % len(KINDS)],
            STATUSES[i % len(STATUSES)],
            "normal",
            "zh_CN",
            CHANNELS[i % len(CHANNELS)],
            "",
            TEXTS[i % len(TEXTS)],
            0 if sqlite else False,
            at,
            at,
        )


def load_sqlite(path: Path, cases: list[tuple[str, datetime]]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB while loading
        conn.execute("BEGIN")
        placeholders = ", ".join("?" for _ in COLUMNS)
        conn.executemany(
            f"INSERT INTO cases ({', '.join(COLUMNS)}) VALUES ({placeholders})",
            rows(cases, sqlite=True),
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def load_postgres(dsn: str, cases: list[tuple[str, datetime]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.copy_records_to_table(
            "cases", records=rows(cases, sqlite=False), columns=list(COLUMNS)
        )
        await conn.execute("VACUUM ANALYZE cases")
    finally:
        await conn.close()


# --------------------------------------------------------------------------- timing


def percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(sorted_ms) - 1, math.ceil(q * len(sorted_ms)) - 1))
    return sorted_ms[index]


Lookup = Callable[[str], Awaitable[None]]


async def compare(
    paths: dict[str, Lookup], numbers: list[str], warmup: int
) -> dict[str, list[float]]:
    """Latencies (ms, ascending) of each path, each on its own share of ``numbers``.

    Paths take turns in blocks of ``BLOCK`` lookups, the order reversed every other block,
    so none is favoured by a warmer cache or a quieter moment.
    """
    for number in numbers[:warmup]:
        for fn in paths.values():
            await fn(number)
    numbers = numbers[warmup:]
    share = len(numbers) // len(paths)
    samples = {name: numbers[i * share : (i + 1) * share] for i, name in enumerate(paths)}
    timings: dict[str, list[float]] = {name: [] for name in paths}
    for block, start in enumerate(range(0, share, BLOCK)):
        order = list(paths) if block % 2 == 0 else list(reversed(paths))
        for name in order:
            fn, out = paths[name], timings[name]
            for number in samples[name][start : start + BLOCK]:
                t0 = time.perf_counter_ns()
                await fn(number)
                out.append((time.perf_counter_ns() - t0) / 1e6)
    return {name: sorted(values) for name, values in timings.items()}


def app_lookup(db: Database) -> Callable[[str], Awaitable[None]]:
    async def lookup(number: str) -> None:
        if await find_case(db, number) is None:
            raise LookupError(number)

    return lookup


def report(label: str, timings: dict[str, list[float]]) -> None:
    """``lookup_<label>_<p>`` for the app, ``lookup_<label>_<path>_<p>`` for the others."""
    for q, tag in ((0.50, "p50"), (0.99, "p99")):
        app = percentile(timings["app"], q)
        print(f"lookup_{label}_{tag} {app:.3f} ms", flush=True)
        for name, values in timings.items():
            if name != "app":
                print(f"lookup_{label}_{name}_{tag} {percentile(values, q):.3f} ms", flush=True)
        raw = percentile(timings["raw"], q)
        print(f"lookup_{label}_{tag}_ratio {ratio(raw / app)}", flush=True)


# --------------------------------------------------------------------------- backends


async def measure_sqlite(path: Path, numbers: list[str], warmup: int) -> None:
    import aiosqlite

    db = Database(f"sqlite+aiosqlite:///{path}")
    conn = sqlite3.connect(path)
    aconn = await aiosqlite.connect(path)
    sql = f"SELECT {SELECT_COLUMNS} FROM cases WHERE tracking_number = ?"

    async def raw(number: str) -> None:
        if conn.execute(sql, (number,)).fetchone() is None:
            raise LookupError(number)

    async def raw_async(number: str) -> None:
        """The same SELECT through the app's driver, without SQLAlchemy: the async floor."""
        async with aconn.execute(sql, (number,)) as cur:
            if await cur.fetchone() is None:
                raise LookupError(number)

    paths = {"app": app_lookup(db), "raw": raw, "aiosqlite": raw_async}
    try:
        timings = await compare(paths, numbers, warmup)
    finally:
        conn.close()
        await aconn.close()
        await db.dispose()
    report("sqlite", timings)


async def measure_postgres(url: str, dsn: str, numbers: list[str], warmup: int) -> None:
    import asyncpg

    db = Database(url)
    conn = await asyncpg.connect(dsn)
    sql = f"SELECT {SELECT_COLUMNS} FROM cases WHERE tracking_number = $1"

    async def raw(number: str) -> None:
        if await conn.fetchrow(sql, number) is None:
            raise LookupError(number)

    try:
        timings = await compare({"app": app_lookup(db), "raw": raw}, numbers, warmup)
    finally:
        await conn.close()
        await db.dispose()
    report("postgresql", timings)


def run_sqlite(args: argparse.Namespace, root: Path, cases: list[tuple[str, datetime]]) -> None:
    path = root / "hotline.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    start = time.perf_counter()
    load_sqlite(path, cases)
    elapsed = time.perf_counter() - start
    print(f"lookup_sqlite_load {elapsed:.1f} s", flush=True)
    print(f"lookup_sqlite_load_rate {len(cases) / elapsed:.0f} rows/s", flush=True)
    print(f"# sqlite: {len(cases)} cases, {path.stat().st_size / 2**20:.0f} MiB", flush=True)
    numbers = sample(cases, args)
    asyncio.run(measure_sqlite(path, numbers, args.warmup))


def run_postgres(args: argparse.Namespace, cases: list[tuple[str, datetime]]) -> None:
    with scratch_postgres() as database:
        if database is None:
            return
        url, dsn = database
        migrate.upgrade(url)
        start = time.perf_counter()
        asyncio.run(load_postgres(dsn, cases))
        elapsed = time.perf_counter() - start
        print(f"lookup_postgresql_load {elapsed:.1f} s", flush=True)
        print(f"lookup_postgresql_load_rate {len(cases) / elapsed:.0f} rows/s", flush=True)
        numbers = sample(cases, args)
        asyncio.run(measure_postgres(url, dsn, numbers, args.warmup))


def sample(cases: list[tuple[str, datetime]], args: argparse.Namespace) -> list[str]:
    rng = random.Random(args.seed + 1)
    want = min(len(cases), args.warmup + 3 * args.lookups)  # at most three paths
    return [cases[i][0] for i in rng.sample(range(len(cases)), want)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases to load")
    parser.add_argument("--lookups", type=int, default=2000, help="timed lookups per path")
    parser.add_argument("--warmup", type=int, default=200, help="untimed lookups per path")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    cases = make_cases(args.cases, args.seed)
    print(f"lookup_generate {time.perf_counter() - start:.1f} s", flush=True)
    root = Path(tempfile.mkdtemp(prefix="hotline-bench-lookup-"))
    try:
        if not args.skip_sqlite:
            run_sqlite(args, root, cases)
        if args.skip_postgres:
            print("# postgresql skipped: --skip-postgres", flush=True)
        else:
            run_postgres(args, cases)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
