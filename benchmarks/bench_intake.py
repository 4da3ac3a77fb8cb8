"""Intake throughput: ``hotline.core.intake.receive.receive`` against plain SQL, on SQLite and PostgreSQL.

Each submission is a phone call: a category code, a phone number (about 30% of calls come from
numbers seen before), a short Chinese text. The app path is the whole of ``receive``: the
idempotency check, validation and phone normalisation, category lookup, citizen matching,
routing, the write of citizen, contact point, case, interaction, queue item and two events in
one transaction, then the plugins after commit (the acknowledgement plugin enqueues a huey job).

The raw baseline writes the same rows with the plain driver (aiosqlite / asyncpg, no
SQLAlchemy), one transaction per submission, on the same database in the same run. App and raw
run in alternating chunks (ABBA) so both see the same database size and the same machine state.

Prints ``name value unit`` lines; ratios are app throughput / raw throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks.common import ratio, scratch_postgres
from hotline.core.cases import tracking
from hotline.core.delivery.jobs import prepare_job_tables
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import ContactIn, Submission
from hotline.core.reference.deadlines import deadline
from hotline.core.shell.context import AppContext, open_context
from hotline.core.storage import migrate
from hotline.core.storage.enums import MEDIA_BY_CHANNEL, ContactKind, LimitUnit, Priority
from hotline.core.storage.models.reference import Department, ServiceCategory

CHANNEL = "phone"
CATEGORY = "road_damage"
DEPARTMENT = "roads"
REPLY_LIMIT = 5
REPLY_UNIT = LimitUnit.WORKING_DAYS
TRACKING_ATTEMPTS = 5

PREFIXES = ("135", "136", "138", "139", "150", "151", "158", "186", "187", "189")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
TEXTS = (
    "人民路与解放路交叉口有一个大坑，车辆经过很危险。",
    "小区楼下的路灯坏了一个星期，晚上很黑。",
    "建设路施工噪音太大，晚上十一点还在打桩。",
    "公交站台的座椅坏了，请尽快维修。",
    "菜市场门口占道经营，行人无法通行。",
    "河边有人倾倒建筑垃圾，气味很大。",
    "学校附近的红绿灯时间太短，孩子过马路不安全。",
    "自来水发黄，已经持续三天了，请相关部门处理。",
    "中山路人行道地砖松动，老人差点摔倒。",
    "井盖缺失，在幸福小区东门外，请尽快补上。",
)


# --------------------------------------------------------------------------- workload


@dataclass(frozen=True)
class Call:
    external_id: str
    phone: str  # as the caller's number arrives from the switch
    e164: str  # what intake stores after normalising
    name: str
    text: str


class Workload:
    """Calls in execution order; a repeat caller is never one first seen in the last ``window``
    new callers, so the concurrent batches never race to create the same contact point."""

    def __init__(self, seed: int, repeat: float, window: int) -> None:
        self.rng = random.Random(seed)
        self.repeat = repeat
        self.window = window
        self.callers: list[tuple[str, str, str]] = []
        self.seen: set[str] = set()
        self.count = 0
        self.repeats = 0
        self.tag = uuid.uuid4().hex[:8]

    def next(self) -> Call:
        rng = self.rng
        eligible = len(self.callers) - self.window
        if eligible > 0 and rng.random() < self.repeat:
            phone, e164, name = self.callers[rng.randrange(eligible)]
            self.repeats += 1
        else:
            while True:
                digits = rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}"
                if digits not in self.seen:
                    break
            self.seen.add(digits)
            phone = rng.choice((digits, f"{digits[:3]} {digits[3:7]} {digits[7:]}", "+86" + digits))
            e164 = "+86" + digits
            name = rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
            self.callers.append((phone, e164, name))
        self.count += 1
        return Call(
            external_id=f"call-{self.tag}-{self.count}",
            phone=phone,
            e164=e164,
            name=name,
            text=rng.choice(TEXTS),
        )

    def take(self, n: int) -> list[Call]:
        return [self.next() for _ in range(n)]


def to_submission(call: Call) -> Submission:
    return Submission(
        channel=CHANNEL,
        external_id=call.external_id,
        text=call.text,
        category=CATEGORY,
        language="zh_CN",
        citizen_name=call.name,
        contacts=[ContactIn(kind=ContactKind.PHONE, value=call.phone)],
    )


# --------------------------------------------------------------------------- raw baseline


@dataclass(frozen=True)
class Seed:
    category_id: int
    department_id: int
    tz: ZoneInfo


def _sqlite_time(value: datetime) -> str:
    """How SQLAlchemy stores a UTCDateTime on SQLite: naive UTC text."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


EVENT_RECEIVED = json.dumps({"channel": CHANNEL, "kind": "complaint"})
EVENT_ROUTED = json.dumps({"department": DEPARTMENT})
SKILLS = json.dumps([CATEGORY])
MEDIA = str(MEDIA_BY_CHANNEL[CHANNEL])
PRIORITY = str(Priority.NORMAL)
RANK = Priority.NORMAL.rank


class RawSqlite:
    """The same rows through aiosqlite, hand-written SQL, one BEGIN IMMEDIATE per submission.

    SQLite has one writer at a time. Concurrent tasks take an in-process lock before BEGIN
    (what a hand-written SQLite service does) rather than spin in SQLite's busy handler, whose
    sleeps of up to 100 ms would make the baseline slower than it needs to be.
    """

    def __init__(self, path: Path, seed: Seed, connections: int) -> None:
        self.path = path
        self.seed = seed
        self.size = connections
        self.pool: asyncio.Queue[Any] = asyncio.Queue()
        self.conns: list[Any] = []
        self.writer = asyncio.Lock()

    async def open(self) -> None:
        import aiosqlite

        self.writer = asyncio.Lock()

        for _ in range(self.size):
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            for pragma in (
                "PRAGMA journal_mode=WAL",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
                "PRAGMA busy_timeout=10000",
            ):
                await conn.execute(pragma)
            self.conns.append(conn)
            self.pool.put_nowait(conn)

    async def close(self) -> None:
        for conn in self.conns:
            await conn.close()

    async def intake(self, call: Call) -> None:
        conn = await self.pool.get()
        try:
            for attempt in range(TRACKING_ATTEMPTS):
                async with self.writer:
                    try:
                        await self._write(conn, call)
                        return
                    except sqlite3.IntegrityError:  # a tracking number clash: draw again
                        await conn.execute("ROLLBACK")
                        if attempt == TRACKING_ATTEMPTS - 1:
                            raise
        finally:
            self.pool.put_nowait(conn)

    async def _write(self, conn: Any, call: Call) -> None:
        seed = self.seed
        now = datetime.now(UTC)
        at = _sqlite_time(now)
        due = _sqlite_time(deadline(now, REPLY_LIMIT, REPLY_UNIT, seed.tz))
        await conn.execute("BEGIN IMMEDIATE")
        async with conn.execute(
            "SELECT id, citizen_id FROM contact_points WHERE kind = 'phone' AND value = ?",
            (call.e164,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            cur = await conn.execute(
                "INSERT INTO citizens (name, language, flags, created_at) VALUES (?, ?, '{}', ?)",
                (call.name, "zh_CN", at),
            )
            citizen_id = cur.lastrowid
            cur = await conn.execute(
                "INSERT INTO contact_points (citizen_id, kind, value, opted_out, created_at) "
                "VALUES (?, 'phone', ?, 0, ?)",
                (citizen_id, call.e164, at),
            )
            point_id = cur.lastrowid
        else:
            point_id, citizen_id = row
        cur = await conn.execute(
            "INSERT INTO cases (tracking_number, kind, category_id, department_id, status, "
            "priority, language, first_channel, citizen_id, subject, description, sealed, "
            "reply_deadline, created_at, updated_at) "
            "VALUES (?, 'complaint', ?, ?, 'received', ?, 'zh_CN', ?, ?, '', ?, 0, ?, ?, ?)",
            (
                tracking.new_tracking_number(now),
                seed.category_id,
                seed.department_id,
                PRIORITY,
                CHANNEL,
                citizen_id,
                call.text,
                due,
                at,
                at,
            ),
        )
        case_id = cur.lastrowid
        cur = await conn.execute(
            "INSERT INTO interactions (case_id, direction, channel, external_id, "
            "contact_point_id, text, attempts, meta, created_at) "
            "VALUES (?, 'in', ?, ?, ?, ?, 0, '{}', ?)",
            (case_id, CHANNEL, call.external_id, point_id, call.text, at),
        )
        interaction_id = cur.lastrowid
        await conn.execute(
            "INSERT INTO queue_items (case_id, interaction_id, media, priority, skills, "
            "language, state, waiting_since, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'zh_CN', 'waiting', ?, ?)",
            (case_id, interaction_id, MEDIA, RANK, SKILLS, at, at),
        )
        await conn.execute(
            "INSERT INTO case_events (case_id, at, action, actor_kind, actor_label, public, "
            "detail) VALUES (?, ?, 'received', 'citizen', '', 1, ?), "
            "(?, ?, 'routed', 'system', '', 0, ?)",
            (case_id, at, EVENT_RECEIVED, case_id, at, EVENT_ROUTED),
        )
        await conn.execute("COMMIT")

    async def scalar(self, sql: str) -> Any:
        conn = self.conns[0]
        async with conn.execute(sql) as cur:
            row = await cur.fetchone()
        return row[0]


class RawPostgres:
    """The same rows through an asyncpg pool, hand-written SQL, one transaction per submission."""

    def __init__(self, dsn: str, seed: Seed, connections: int) -> None:
        self.dsn = dsn
        self.seed = seed
        self.size = connections
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.dsn, min_size=self.size, max_size=self.size)

    async def close(self) -> None:
        await self.pool.close()

    async def intake(self, call: Call) -> None:
        import asyncpg

        async with self.pool.acquire() as conn:
            for attempt in range(TRACKING_ATTEMPTS):
                try:
                    async with conn.transaction():
                        await self._write(conn, call)
                    return
                except asyncpg.UniqueViolationError:
                    if attempt == TRACKING_ATTEMPTS - 1:
                        raise

    async def _write(self, conn: Any, call: Call) -> None:
        seed = self.seed
        now = datetime.now(UTC)
        due = deadline(now, REPLY_LIMIT, REPLY_UNIT, seed.tz)
        row = await conn.fetchrow(
            "SELECT id, citizen_id FROM contact_points WHERE kind = 'phone' AND value = $1",
            call.e164,
        )
        if row is None:
            citizen_id = await conn.fetchval(
                "INSERT INTO citizens (name, language, flags, created_at) "
                "VALUES ($1, 'zh_CN', '{}', $2) RETURNING id",
                call.name,
                now,
            )
            point_id = await conn.fetchval(
                "INSERT INTO contact_points (citizen_id, kind, value, opted_out, created_at) "
                "VALUES ($1, 'phone', $2, false, $3) RETURNING id",
                citizen_id,
                call.e164,
                now,
            )
        else:
            point_id, citizen_id = row["id"], row["citizen_id"]
        case_id = await conn.fetchval(
            "INSERT INTO cases (tracking_number, kind, category_id, department_id, status, "
            "priority, language, first_channel, citizen_id, subject, description, sealed, "
            "reply_deadline, created_at, updated_at) "
            "VALUES ($1, 'complaint', $2, $3, 'received', $4, 'zh_CN', $5, $6, '', $7, false, "
            "$8, $9, $9) RETURNING id",
            tracking.new_tracking_number(now),
            seed.category_id,
            seed.department_id,
            PRIORITY,
            CHANNEL,
            citizen_id,
            call.text,
            due,
            now,
        )
        interaction_id = await conn.fetchval(
            "INSERT INTO interactions (case_id, direction, channel, external_id, "
            "contact_point_id, text, attempts, meta, created_at) "
            "VALUES ($1, 'in', $2, $3, $4, $5, 0, '{}', $6) RETURNING id",
            case_id,
            CHANNEL,
            call.external_id,
            point_id,
            call.text,
            now,
        )
        await conn.execute(
            "INSERT INTO queue_items (case_id, interaction_id, media, priority, skills, "
            "language, state, waiting_since, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, 'zh_CN', 'waiting', $6, $6)",
            case_id,
            interaction_id,
            MEDIA,
            RANK,
            SKILLS,
            now,
        )
        await conn.execute(
            "INSERT INTO case_events (case_id, at, action, actor_kind, actor_label, public, "
            "detail) VALUES ($1, $2, 'received', 'citizen', '', true, $3), "
            "($1, $2, 'routed', 'system', '', false, $4)",
            case_id,
            now,
            EVENT_RECEIVED,
            EVENT_ROUTED,
        )

    async def scalar(self, sql: str) -> Any:
        return await self.pool.fetchval(sql)


# --------------------------------------------------------------------------- measuring


async def seed_city(ctx: AppContext) -> Seed:
    async with ctx.db.transaction() as session:
        department = Department(code=DEPARTMENT, name_zh="交通运输局", name_en="Transport Bureau")
        session.add(department)
        await session.flush()
        category = ServiceCategory(
            code=CATEGORY,
            name_zh="道路破损",
            name_en="Road damage",
            default_department_id=department.id,
            reply_limit=REPLY_LIMIT,
            reply_limit_unit=REPLY_UNIT,
        )
        session.add(category)
        await session.flush()
    return Seed(category_id=category.id, department_id=department.id, tz=ctx.tz)


async def run_batches(
    fn: Callable[[Any], Awaitable[Any]], items: list[Any], concurrency: int
) -> float:
    start = time.perf_counter()
    if concurrency <= 1:
        for item in items:
            await fn(item)
    else:
        for i in range(0, len(items), concurrency):
            await asyncio.gather(*(fn(item) for item in items[i : i + concurrency]))
    return time.perf_counter() - start


def chunks(n: int, rounds: int) -> list[int]:
    rounds = max(1, min(rounds, n))
    base, extra = divmod(n, rounds)
    return [base + (1 if i < extra else 0) for i in range(rounds)]


async def measure(
    ctx: AppContext, raw: RawSqlite | RawPostgres, work: Workload, n: int, conc: int, rounds: int
) -> tuple[float, float]:
    """Throughput (per second) of app and raw, in alternating chunks: app, raw, raw, app, ..."""

    async def app(sub: Submission) -> None:
        await receive(ctx, sub)

    app_time = raw_time = 0.0
    for index, size in enumerate(chunks(n, rounds)):
        order = ("app", "raw") if index % 2 == 0 else ("raw", "app")
        for which in order:
            calls = work.take(size)  # drawn just before running: repeats are already stored
            if which == "app":
                subs = [to_submission(call) for call in calls]
                app_time += await run_batches(app, subs, conc)
            else:
                raw_time += await run_batches(raw.intake, calls, conc)
    return n / app_time, n / raw_time


def emit(name: str, value: float, unit: str = "") -> None:
    if unit:
        print(f"{name} {value:.0f} {unit}", flush=True)
    else:
        print(f"{name} {ratio(value)}", flush=True)


async def bench_backend(
    label: str, settings: Settings, raw: RawSqlite | RawPostgres, args: argparse.Namespace
) -> None:
    work = Workload(seed=args.seed, repeat=args.repeat, window=max(1, args.concurrency))
    async with open_context(settings) as ctx:
        seed = await seed_city(ctx)
        raw.seed = seed
        await raw.open()
        try:
            # Warm-up: connections, compiled statements, plugin imports, the huey store.
            for sub in map(to_submission, work.take(args.warmup)):
                await receive(ctx, sub)
            for call in work.take(args.warmup):
                await raw.intake(call)

            app_rate, raw_rate = await measure(ctx, raw, work, args.n, 1, args.rounds)
            emit(f"intake_{label}", app_rate, "intakes/s")
            emit(f"intake_{label}_raw", raw_rate, "intakes/s")
            emit(f"intake_{label}_ratio", app_rate / raw_rate)

            if args.concurrency > 1:
                c = args.concurrency
                app_rate, raw_rate = await measure(ctx, raw, work, args.n, c, args.rounds)
                emit(f"intake_{label}_c{c}", app_rate, "intakes/s")
                emit(f"intake_{label}_c{c}_raw", raw_rate, "intakes/s")
                emit(f"intake_{label}_c{c}_ratio", app_rate / raw_rate)

            # Sanity: every submission became one case with exactly two events.
            cases = await raw.scalar("SELECT count(*) FROM cases")
            citizens = await raw.scalar("SELECT count(*) FROM citizens")
            odd = await raw.scalar(
                "SELECT count(*) FROM cases c WHERE "
                "(SELECT count(*) FROM case_events e WHERE e.case_id = c.id) <> 2 OR "
                "(SELECT count(*) FROM queue_items q WHERE q.case_id = c.id) <> 1"
            )
            pending = await asyncio.to_thread(ctx.jobs.pending)
            print(
                f"# {label}: {cases} cases (expected {work.count}), {citizens} citizens, "
                f"{work.repeats / max(1, work.count):.0%} repeat calls, {pending} jobs queued, "
                f"{odd} malformed",
                flush=True,
            )
            if cases != work.count or odd:
                raise SystemExit(f"{label}: rows do not add up")
        finally:
            await raw.close()


# --------------------------------------------------------------------------- backends


def run_sqlite(args: argparse.Namespace, root: Path) -> None:
    data = root / "sqlite"
    data.mkdir()
    settings = Settings(data_dir=data, database_url="", jobs_in_process=False)
    migrate.upgrade(settings.db_url)
    raw = RawSqlite(data / "hotline.db", Seed(0, 0, ZoneInfo("UTC")), max(1, args.concurrency))
    asyncio.run(bench_backend("sqlite", settings, raw, args))


def run_postgres(args: argparse.Namespace, root: Path) -> None:
    with scratch_postgres() as database:
        if database is None:
            return
        url, dsn = database
        data = root / "postgresql"
        data.mkdir()
        settings = Settings(data_dir=data, database_url=url, jobs_in_process=False)
        migrate.upgrade(url)
        prepare_job_tables(settings)
        raw = RawPostgres(dsn, Seed(0, 0, ZoneInfo("UTC")), max(1, args.concurrency))
        asyncio.run(bench_backend("postgresql", settings, raw, args))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="submissions per measured figure")
    parser.add_argument("--concurrency", type=int, default=8, help="tasks per gathered batch")
    parser.add_argument("--rounds", type=int, default=4, help="alternating app/raw chunks")
    parser.add_argument("--warmup", type=int, default=30, help="untimed submissions per path")
    parser.add_argument("--repeat", type=float, default=0.3, help="share of repeat callers")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="hotline-bench-intake-"))
    try:
        if not args.skip_sqlite:
            run_sqlite(args, root)
        if args.skip_postgres:
            print("# postgresql skipped: --skip-postgres", flush=True)
        else:
            run_postgres(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
