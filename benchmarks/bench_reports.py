"""Exports at scale: the whole case list written as Excel (and CSV), its speed and peak memory,
against the plainest code writing the same rows.

Loads ``--rows`` cases (default 1,000,000, over three years, as ``bench_lookup.py`` makes them)
into a migrated SQLite database, with five departments, five categories and a citizen with a
phone for every ten cases, and each case's search text (the case list joins it). Then, each in a
fresh process of its own so that its peak memory (``VmHWM``) is its own:

* app: what the console's export job runs (``plugins/reports``): the case list with no filter
  (``source_for("cases")`` as the supervisor it loads asks it, personal columns included), read by keyset
  in chunks through ``Database.run``, cells in Chinese, written by XlsxWriter in constant-memory
  mode (or the csv module), then the audit entry;
* raw: one ``sqlite3`` cursor over the same SELECT (contacts by a correlated subquery),
  ``fetchmany``, the same labels and local times, the same writer with the same options.

Prints ``name value unit`` lines: ``export_xlsx_rows_per_s`` and ``export_xlsx_peak_rss_mb``
(goal: at most 200 MB at 1,000,000 rows), the raw ones, and ratios (higher is better:
``*_rows_per_s_ratio`` = app / raw speed, ``*_peak_rss_ratio`` = raw / app memory).
Then the same on PostgreSQL (``HOTLINE_BENCH_PG_URL``, see benchmarks/README.md): the app reads
through asyncpg, the raw side through psycopg's server-side cursor; those lines end in ``_pg``.

The report page (``--parts report``, before the exports): the same cases, each with a place in
one of eight districts (named by eight district routing rules; one in ten with none) and a queue
item (three media, 200 agents, one in ten abandoned), and the report's ``build`` as the page
runs it: a month by department with the month before (环比) and a year earlier (同比), every
headline figure, the contacts per medium, the agents, the four breakdown tables with the period
before and the hot topics; then the same with the line chart (cases per day), by district, and
a year with its line (cases per month). ``report_monthly_yoy_p99_ms`` (goal under 2,000 ms)
against the hand-written GROUP BY of the same rows (the month, the month before and a year
earlier, per department: ``report_raw_group_by_p99_ms``); ``*_p99_ratio`` = app / raw, lower
is better.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks.bench_lookup import load_postgres, load_sqlite, make_cases
from benchmarks.common import ratio, scratch_postgres

ZONE = "Asia/Shanghai"
AGENTS = 200  # users 2 to 201 take the contacts
DISTRICTS = ("东城", "西城", "朝阳", "海淀", "丰台", "石景山", "通州", "顺义")
DEPARTMENTS = ("交通运输局", "生态环境局", "住房和城乡建设局", "城市管理局", "水务局")
CATEGORIES = ("道路破损", "噪声扰民", "路灯故障", "占道经营", "供水问题")


# --------------------------------------------------------------------------- data


def load(path: Path, count: int, seed: int) -> None:
    from hotline.core.storage import migrate

    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from hotline.core.storage.models.people import User
    from hotline.core.storage.models.reference import Department, ServiceCategory

    load_sqlite(path, make_cases(count, seed))
    with Session(create_engine(f"sqlite:///{path}")) as session, session.begin():
        session.add(
            User(id=1, username="bench", display_name="bench", role="supervisor", password_hash="-")
        )  # the export's owner, in its audit entry
        for i, (department, category) in enumerate(zip(DEPARTMENTS, CATEGORIES, strict=True), 1):
            session.add(Department(id=i, code=f"d{i}", name_zh=department, name_en=f"D{i}"))
            session.add(ServiceCategory(id=i, code=f"c{i}", name_zh=category, name_en=f"C{i}"))
    citizens = max(1, count // 10)
    conn = sqlite3.connect(path, isolation_level=None)
    stamp = "'2026-01-01 00:00:00.000000'"
    try:
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO citizens (id, name, language, flags, created_at)"
            f" VALUES (?, ?, 'zh_CN', '{{}}', {stamp})",
            ((i, f"市民{i}") for i in range(1, citizens + 1)),
        )
        conn.executemany(
            "INSERT INTO contact_points (citizen_id, kind, value, opted_out, created_at)"
            f" VALUES (?, 'phone', ?, 0, {stamp})",
            ((i, f"+86139{i:08d}") for i in range(1, citizens + 1)),
        )
        conn.execute(
            f"UPDATE cases SET citizen_id = (id % {citizens}) + 1, department_id = (id % 5) + 1,"
            " category_id = (id % 5) + 1, subject = substr(description, 1, 12),"
            " reply_deadline = created_at"
        )
        # the list's search text (the FTS index is not read by an export without words)
        conn.execute("DROP TRIGGER IF EXISTS case_texts_ai")
        conn.execute("INSERT INTO case_texts (case_id, body) SELECT id, description FROM cases")
        for statement in report_data(sqlite=True):
            conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def report_data(sqlite: bool) -> list[str]:
    """SQL adding what the report page reads besides the cases: each case's place (one in ten
    with none), the district rules naming them, the agents, and a queue item per case (a third
    each by e-mail, call and web form; nine in ten taken 20 s after they came, done 3 minutes
    later, the tenth abandoned after 40 s)."""

    def later(seconds: int) -> str:
        if sqlite:  # the naive UTC text SQLAlchemy writes for a UTCDateTime
            return f"strftime('%Y-%m-%d %H:%M:%f000', created_at, '+{seconds} seconds')"
        return f"created_at + interval '{seconds} seconds'"

    places = " ".join(
        f"WHEN {n + 1} THEN '北京市{name}区幸福路{n}号'" for n, name in enumerate(DISTRICTS)
    )
    yes, no = ("1", "0") if sqlite else ("true", "false")
    stamp = "'2026-01-01 00:00:00'"
    users = ", ".join(
        f"({2 + n}, 'agent{n}', '坐席{n}', '-', 'agent', {yes}, {no}, 0, {stamp})"
        for n in range(AGENTS)
    )
    rules = ", ".join(
        f"('district', '{name}', {1 + n % 5}, {1 + n}, {yes})" for n, name in enumerate(DISTRICTS)
    )
    taken = "id % 10 <> 0"
    return [
        f"UPDATE cases SET location_text = CASE id % 9 {places} ELSE NULL END",
        "INSERT INTO users (id, username, display_name, password_hash, role, active,"
        f" must_change_password, session_epoch, created_at) VALUES {users}",
        f"INSERT INTO routing_rules (kind, pattern, department_id, position, active) VALUES {rules}",
        "INSERT INTO queue_items (case_id, media, priority, skills, language, state, agent_id,"
        " declined_by, waiting_since, assigned_at, done_at, outcome, updated_at)"
        " SELECT id, CASE id % 3 WHEN 0 THEN 'email' WHEN 1 THEN 'voice' ELSE 'web_form' END,"
        f" 1, '[]', 'zh_CN', 'done', CASE WHEN {taken} THEN 2 + id % {AGENTS} END, '[]',"
        f" created_at, CASE WHEN {taken} THEN {later(20)} END,"
        f" CASE WHEN {taken} THEN {later(200)} ELSE {later(40)} END,"
        f" CASE WHEN {taken} THEN NULL ELSE 'abandoned' END, created_at FROM cases",
    ]


async def load_postgres_data(url: str, dsn: str, count: int, seed: int) -> None:
    import asyncpg
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from hotline.core.storage import migrate
    from hotline.core.storage.models.people import User
    from hotline.core.storage.models.reference import Department, ServiceCategory

    await asyncio.to_thread(migrate.upgrade, url)
    await load_postgres(dsn, make_cases(count, seed))
    engine = create_engine(url.replace("+asyncpg", "+psycopg"))
    with Session(engine) as session, session.begin():
        session.add(
            User(id=1, username="bench", display_name="bench", role="supervisor", password_hash="-")
        )
        for i, (department, category) in enumerate(zip(DEPARTMENTS, CATEGORIES, strict=True), 1):
            session.add(Department(id=i, code=f"d{i}", name_zh=department, name_en=f"D{i}"))
            session.add(ServiceCategory(id=i, code=f"c{i}", name_zh=category, name_en=f"C{i}"))
    engine.dispose()
    citizens = max(1, count // 10)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO citizens (id, name, language, flags, created_at) SELECT i, '市民' || i,"
            f" 'zh_CN', '{{}}', now() FROM generate_series(1, {citizens}) i"
        )
        await conn.execute(
            "INSERT INTO contact_points (citizen_id, kind, value, opted_out, created_at)"
            " SELECT i, 'phone', '+86139' || lpad(i::text, 8, '0'), false, now()"
            f" FROM generate_series(1, {citizens}) i"
        )
        await conn.execute(
            f"UPDATE cases SET citizen_id = (id % {citizens}) + 1, department_id = (id % 5) + 1,"
            " category_id = (id % 5) + 1, subject = substr(description, 1, 12),"
            " reply_deadline = created_at"
        )
        await conn.execute("DROP INDEX IF EXISTS ix_case_texts_trgm")  # not read without words
        await conn.execute(
            "INSERT INTO case_texts (case_id, body) SELECT id, description FROM cases"
        )
        for statement in report_data(sqlite=False):
            await conn.execute(statement)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


# --------------------------------------------------------------------------- the two sides


async def app_export(data: Path, kind: str, url: str) -> tuple[int, float, float]:
    from hotline.core.foundation.settings import Settings
    from hotline.core.shell.context import open_context
    from hotline.plugins.reports import store
    from hotline.plugins.reports.export import run

    settings = Settings(data_dir=data, database_url=url, jobs_in_process=False, timezone=ZONE)
    async with open_context(settings) as ctx:
        export = store.Export(
            id=store.new_id(),
            owner_id=1,
            owner_label="bench",
            address=None,
            list_name="cases",
            params={},
            format=kind,
            language="zh_CN",
        )
        before = rss_mb()
        start = time.perf_counter()
        rows = await run(ctx, export, notice=False)
        seconds = time.perf_counter() - start
        store.file_path(data, export).unlink()
        return rows, seconds, before


RAW_SQL = """
SELECT c.tracking_number, c.created_at, c.kind, c.status, c.first_channel, sc.name_zh,
       d.name_zh, c.subject, c.reply_deadline, c.overdue, c.closed_at, z.name,
       (SELECT group_concat(p.value, '; ') FROM contact_points p WHERE p.citizen_id = c.citizen_id)
FROM cases c JOIN case_texts t ON t.case_id = c.id
LEFT JOIN service_categories sc ON sc.id = c.category_id
LEFT JOIN departments d ON d.id = c.department_id
LEFT JOIN citizens z ON z.id = c.citizen_id
WHERE NOT c.sealed ORDER BY c.id DESC
"""


HEADERS = (  # plugins/reports/rows.py's, in Chinese
    *("Case", "Received at", "Kind", "Status", "Channel", "Category", "Department", "Subject"),
    *("Answer due by", "Overdue", "Closed at", "Citizen", "Contact details"),
)


def pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def raw_export(data: Path, kind: str, url: str) -> tuple[int, float, float]:
    """The plainest code: sqlite3, the catalog read with babel, the same writer's options."""
    import xlsxwriter
    from babel.messages.pofile import read_po

    from hotline.core.reference import labels

    root = Path(__file__).resolve().parents[1]
    with (root / "core/locale/zh_CN/LC_MESSAGES/messages.po").open("rb") as po:
        words = {m.id: m.string for m in read_po(po) if isinstance(m.id, str) and m.string}
    zone, utc = ZoneInfo(ZONE), ZoneInfo("UTC")
    kinds = {k: words.get(v, v) for k, v in labels.KIND.items()}
    statuses = {k: words.get(v, v) for k, v in labels.STATUS.items()}
    media = {k: words.get(v, v) for k, v in labels.MEDIA.items()}
    yes, no = words["Yes"], words["No"]

    def local(value: str | datetime | None) -> str:
        if not value:
            return ""
        at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        at = at if at.tzinfo else at.replace(tzinfo=utc)
        return at.astimezone(zone).isoformat(" ", "minutes")[:16]

    out = data / f"raw.{kind}"
    head = [words.get(h, h) for h in HEADERS]
    if kind == "xlsx":
        book = xlsxwriter.Workbook(
            str(out),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "tmpdir": str(data),
            },
        )
        sheet = book.add_worksheet("案件")
        sheet.write_row(0, 0, head)
        line = 1

        def write(row: list[str]) -> None:
            nonlocal line
            sheet.write_row(line, 0, row)
            line += 1

        close = book.close
    else:
        handle = out.open("w", encoding="utf-8-sig", newline="")
        table = csv.writer(handle)
        table.writerow(head)
        write, close = table.writerow, handle.close
    before = rss_mb()
    start = time.perf_counter()
    if url:  # psycopg, a server-side cursor
        import psycopg

        conn: Any = psycopg.connect(pg_dsn(url))
        cursor = conn.cursor(name="export")
        cursor.itersize = 2000
        cursor.execute(RAW_SQL.replace("group_concat(p.value, '; ')", "string_agg(p.value, '; ')"))
    else:
        conn = sqlite3.connect(data / "hotline.db")
        cursor = conn.execute(RAW_SQL)
    rows = 0
    while batch := cursor.fetchmany(2000):
        for r in batch:
            write(
                [
                    r[0],
                    local(r[1]),
                    kinds.get(r[2], r[2]),
                    statuses.get(r[3], r[3]),
                    media.get(r[4], r[4]),
                    r[5] or "",
                    r[6] or "",
                    r[7] or "",
                    local(r[8]),
                    yes if r[9] else no,
                    local(r[10]),
                    r[11] or "",
                    r[12] or "",
                ]
            )
        rows += len(batch)
    close()
    seconds = time.perf_counter() - start
    conn.close()
    out.unlink()
    return rows, seconds, before


# --------------------------------------------------------------------------- the report page

# what the page is asked: (name, period kind, breakdown, chart)
REPORTS = (
    ("report_monthly_yoy", "month", "department", "bar"),
    ("report_monthly_line", "month", "department", "line"),
    ("report_monthly_district", "month", "district", "pie"),
    ("report_year_line", "year", "department", "line"),
)
RAW_GROUP_BY = (
    "SELECT department_id, count(*) FROM cases WHERE created_at >= {0} AND created_at < {1}"
    " AND NOT sealed GROUP BY department_id"
)


def report_anchor() -> Any:
    """A day of the last whole month (the data runs three years back to today)."""
    from datetime import date, timedelta

    return date.today().replace(day=1) - timedelta(days=1)


async def app_reports(data: Path, url: str, runs: int) -> dict[str, list[float]]:
    """Each report of ``REPORTS`` built ``runs`` times (after one to warm), as the page does;
    says what the first one found (so that a run on empty tables shows)."""
    from hotline.core.foundation.settings import Settings
    from hotline.core.shell.context import open_context
    from hotline.plugins.reports.report import build, periods

    settings = Settings(data_dir=data, database_url=url, jobs_in_process=False, timezone=ZONE)
    found: dict[str, list[float]] = {}
    async with open_context(settings) as ctx:
        for name, kind, breakdown, chart in REPORTS:
            chosen = periods(kind, report_anchor())
            times = []
            for _ in range(runs + 1):
                start = time.perf_counter()
                async with ctx.db.session() as session:
                    made = await build(session, chosen, ctx.tz, breakdown=breakdown, chart=chart)
                times.append((time.perf_counter() - start) * 1000)
            found[name] = sorted(times[1:])
            if breakdown == "district":
                print(
                    f"# {name}: {sum(made.intake_department.values())} cases,"
                    f" {made.contacts.total.offered} contacts, {len(made.agents)} agents,"
                    f" {len(made.intake_more['district'])} districts (with none)"
                )
    return found


def raw_reports(data: Path, url: str, runs: int) -> list[float]:
    """The hand-written GROUP BY: the month, the month before and a year earlier, per
    department (the sealed letters apart), on one connection."""
    from hotline.plugins.reports.report import periods

    chosen = periods("month", report_anchor())
    spans = [
        span.period(ZoneInfo(ZONE)) for span in (chosen.current, chosen.previous, chosen.year_ago)
    ]
    if url:
        import psycopg

        conn: Any = psycopg.connect(pg_dsn(url))
        query, bounds = RAW_GROUP_BY.format("%s", "%s"), [(p.start, p.end) for p in spans]
    else:
        conn = sqlite3.connect(data / "hotline.db")
        query = RAW_GROUP_BY.format("?", "?")

        def text(at: datetime) -> str:
            return at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None).isoformat(" ")

        bounds = [(text(p.start), text(p.end)) for p in spans]
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        for pair in bounds:
            conn.execute(query, pair).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return sorted(times[1:])


def pct(values: list[float], q: float) -> float:
    return values[max(0, min(len(values) - 1, round(q * len(values) + 0.5) - 1))]


def report_page(data: Path, url: str, suffix: str, runs: int) -> None:
    app = asyncio.run(app_reports(data, url, runs))
    raw = raw_reports(data, url, runs)
    for name, times in app.items():
        print(f"{name}{suffix}_p50_ms {pct(times, 0.5):.0f} ms")
        print(f"{name}{suffix}_p99_ms {pct(times, 0.99):.0f} ms")
    print(f"report_raw_group_by{suffix}_p50_ms {pct(raw, 0.5):.1f} ms")
    print(f"report_raw_group_by{suffix}_p99_ms {pct(raw, 0.99):.1f} ms")
    monthly = pct(app["report_monthly_yoy"], 0.99) / max(pct(raw, 0.99), 1e-6)
    print(f"report_monthly_yoy{suffix}_p99_ratio {ratio(monthly)}", flush=True)


def rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (``VmHWM``: its peak since it started, which unlike
    ``ru_maxrss`` does not count the parent's pages copied before ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(side: str, data: Path, kind: str, url: str) -> None:
    rows, seconds, before = (
        asyncio.run(app_export(data, kind, url)) if side == "app" else raw_export(data, kind, url)
    )
    peak_mb = rss_mb("VmHWM")
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak_mb, "before_mb": before}))


def measure(side: str, data: Path, kind: str, url: str = "") -> dict[str, Any]:
    where = ["--data", str(data), "--format", kind, "--db-url", url]
    done = subprocess.run(
        [sys.executable, __file__, "--child", side, *where],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"# the {side} export failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--parts", default="report,export", help="report, export or both")
    parser.add_argument("--runs", type=int, default=20, help="report page builds timed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--child", choices=("app", "raw"), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--format", default="xlsx", help=argparse.SUPPRESS)
    parser.add_argument("--db-url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, Path(args.data), args.format, args.db_url)
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        data = Path(tmp)
        if not args.skip_sqlite:
            start = time.perf_counter()
            load(data / "hotline.db", args.rows, args.seed)
            print(f"# sqlite: {args.rows} cases loaded in {time.perf_counter() - start:.0f} s")
            if "report" in args.parts:
                report_page(data, "", "", args.runs)
            if "export" in args.parts and not compare(args, data, "", ""):
                return 1
            (data / "hotline.db").unlink()
        if args.skip_postgres:
            return 0
        with scratch_postgres() as pg:
            if pg is None:
                return 0
            url, dsn = pg
            start = time.perf_counter()
            asyncio.run(load_postgres_data(url, dsn, args.rows, args.seed))
            print(f"# postgresql: {args.rows} cases loaded in {time.perf_counter() - start:.0f} s")
            if "report" in args.parts:
                report_page(data, url, "_pg", args.runs)
            if "export" in args.parts and not compare(args, data, url, "_pg"):
                return 1
    return 0


def compare(args: argparse.Namespace, data: Path, url: str, suffix: str) -> bool:
    """Both sides for each format; False when one wrote another number of rows."""
    for kind in args.formats.split(","):
        app, raw = measure("app", data, kind, url), measure("raw", data, kind, url)
        if app["rows"] != args.rows or raw["rows"] != args.rows:
            print(f"# rows written: app {app['rows']}, raw {raw['rows']}", flush=True)
            return False
        app_speed, raw_speed = app["rows"] / app["seconds"], raw["rows"] / raw["seconds"]
        name = f"export_{kind}{suffix}"
        print(f"# {name}: app {app['seconds']:.1f} s, raw {raw['seconds']:.1f} s")
        print(f"{name}_rows_per_s {app_speed:.0f} rows/s")
        print(f"{name}_peak_rss_mb {app['peak_mb']:.0f} MB")
        print(f"{name}_rss_growth_mb {app['peak_mb'] - app['before_mb']:.0f} MB")
        print(f"{name}_raw_rows_per_s {raw_speed:.0f} rows/s")
        print(f"{name}_raw_peak_rss_mb {raw['peak_mb']:.0f} MB")
        print(f"{name}_raw_rss_growth_mb {raw['peak_mb'] - raw['before_mb']:.0f} MB")
        print(f"{name}_rows_per_s_ratio {ratio(app_speed / raw_speed)}")
        print(f"{name}_peak_rss_ratio {ratio(raw['peak_mb'] / app['peak_mb'])}", flush=True)
    return True


if __name__ == "__main__":
    sys.exit(main())
