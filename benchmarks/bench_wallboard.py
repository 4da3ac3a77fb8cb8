"""The wallboard's figures at scale: one board (``plugins/reports/board.compute``: the floor now,
today's contacts, intake per hour today and last week, due and overdue per department, today's
evaluations) over ``--cases`` cases spread over three years, ``--agents`` agents signed in and
``--waiting`` contacts waiting, against a raw baseline: the same figures as hand-written SQL
through the ``sqlite3`` module (one query per figure, no ORM, no dataclasses).

Prints ``wallboard_refresh_p50_ms``, ``wallboard_refresh_p99_ms``, the raw ones and
``wallboard_refresh_p99_ratio`` (app / raw, lower is better). SQLite only so far
(``--skip-postgres`` is accepted for ``benchmarks/run.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script
from benchmarks.common import ratio

DAYS = 3 * 365


def load(path: Path, cases: int, agents: int, waiting: int, seed: int) -> None:
    from hotline.core.storage import migrate

    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO departments (id, code, name_zh, name_en, active) VALUES "
        + ", ".join(f"({i}, 'd{i}', '部门{i}', 'Department {i}', 1)" for i in range(1, 6))
    )
    rows, items, assignments = [], [], []
    today = max(1, cases // DAYS)  # about a day's worth fall today
    for i in range(1, cases + 1):
        ago = (
            timedelta(seconds=rng.uniform(0, 86_000))
            if i <= today * 3
            else timedelta(days=rng.uniform(0, DAYS))
        )
        at = (now - ago).strftime(fmt)
        rows.append(
            (
                i,
                f"B{i:012d}",
                "complaint",
                "zh_CN",
                rng.choice(["web", "phone", "sms"]),
                rng.randint(1, 5),
                "dispatched",
                at,
                at,
            )
        )
        state = "done"
        taken = (now - ago + timedelta(seconds=rng.uniform(1, 60))).strftime(fmt)
        items.append((i, i, rng.choice(["voice", "web_form", "chat"]), state, at, taken, taken))
        if i % 10 == 0:
            due = (now - ago + timedelta(days=5)).strftime(fmt)
            assignments.append(
                (i, i, rng.randint(1, 5), "accepted", at, due, int(rng.random() < 0.2))
            )
    db.executemany(
        "INSERT INTO cases (id, tracking_number, kind, language, first_channel, department_id,"
        " status, created_at, updated_at, subject, description, summary, sealed, contact_hidden,"
        " info_requested, route_reason, supervised, overdue, direct_callback, reopened, priority)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', 0, 0, 0, '', 0, 0, 0, 0, 'normal')",
        rows,
    )
    db.executemany(
        "INSERT INTO queue_items (id, case_id, media, state, waiting_since, assigned_at, done_at,"
        " priority, skills, language, declined_by, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 1, '[]', 'zh_CN', '[]', ?)",
        [(*r, r[4]) for r in items],
    )
    for j in range(waiting):  # contacts waiting now, on the newest cases
        since = (now - timedelta(seconds=rng.uniform(0, 3600))).strftime(fmt)
        db.execute(
            "INSERT INTO queue_items (case_id, media, state, waiting_since, priority, skills,"
            " language, declined_by, updated_at) VALUES (?, ?, 'waiting', ?, 1, ?, 'zh_CN', '[]', ?)",
            (
                cases - j % cases,
                rng.choice(["voice", "web_form", "chat"]),
                since,
                f'["q{j % 7}"]',
                since,
            ),
        )
    db.executemany(
        "INSERT INTO assignments (id, case_id, department_id, state, dispatched_at,"
        " reply_deadline, overdue, lead, instructions, reply_text, reason, sent_back, urged,"
        " extension_reason) VALUES (?, ?, ?, ?, ?, ?, ?, 1, '', '', '', 0, 0, '')",
        assignments,
    )
    for a in range(agents):
        db.execute(
            "INSERT INTO users (id, username, display_name, password_hash, role, active,"
            " must_change_password, session_epoch, created_at) VALUES (?, ?, ?, 'x', 'agent', 1,"
            " 0, 0, ?)",
            (100_000 + a, f"a{a}", f"A{a}", now.strftime(fmt)),
        )
        db.execute(
            "INSERT INTO agent_presence (user_id, state, since, capacity, skills, languages,"
            " missed_offers) VALUES (?, ?, ?, '{}', '{}', '[]', 0)",
            (100_000 + a, rng.choice(["available", "wrap_up", "away"]), now.strftime(fmt)),
        )
    db.commit()
    db.close()


RAW = [
    "SELECT p.state, p.away_reason, count(*) FROM agent_presence p JOIN users u ON u.id ="
    " p.user_id WHERE u.active AND p.state != 'signed_out' GROUP BY 1, 2",
    "SELECT agent_id, media FROM queue_items WHERE state = 'assigned' GROUP BY 1, 2",
    "SELECT media, json_extract(skills, '$[0]'), count(*), min(waiting_since) FROM queue_items"
    " WHERE state IN ('waiting', 'offered') GROUP BY 1, 2",
    "SELECT media, count(*), sum(assigned_at IS NOT NULL), sum((julianday(assigned_at) -"
    " julianday(waiting_since)) * 86400) FROM queue_items WHERE waiting_since >= :start AND"
    " waiting_since < :end GROUP BY 1",
    "SELECT CAST((julianday(created_at) - julianday(:start)) * 24 AS INTEGER), count(*) FROM"
    " cases WHERE created_at >= :start AND created_at < :end GROUP BY 1",
    "SELECT CAST((julianday(created_at) - julianday(:wstart)) * 24 AS INTEGER), count(*) FROM"
    " cases WHERE created_at >= :wstart AND created_at < :wend GROUP BY 1",
    "SELECT department_id, sum(NOT overdue AND reply_deadline >= :start AND reply_deadline <"
    " :end), sum(overdue) FROM assignments WHERE state IN ('dispatched', 'accepted') GROUP BY 1",
    "SELECT json_extract(detail, '$.satisfaction'), count(*) FROM case_events WHERE action IN"
    " ('evaluated', 'rated') AND at >= :start AND at < :end GROUP BY 1",
]


def raw_board(db: sqlite3.Connection, params: dict[str, Any]) -> None:
    for sql in RAW:
        db.execute(sql, params).fetchall()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def app_times(path: Path, runs: int) -> list[float]:
    from hotline.core.foundation.settings import Settings
    from hotline.core.shell.context import Kernel, open_context
    from hotline.plugins.reports.board import compute

    settings = Settings(data_dir=path.parent, database_url=f"sqlite+aiosqlite:///{path}")
    async with open_context(settings, Kernel(settings)) as ctx:
        times = []
        for _ in range(runs + 3):
            start = time.perf_counter()
            async with ctx.db.session() as session:
                await compute(session, ctx, datetime.now(UTC))
            times.append((time.perf_counter() - start) * 1000)
    return times[3:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    from hotline.plugins.reports.figures import Period

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hotline.db"
        load(path, args.cases, args.agents, min(args.waiting, args.cases), args.seed)
        app = asyncio.run(app_times(path, args.runs))
        today = Period.today(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        params = {
            "start": today.start.astimezone(UTC).strftime(fmt),
            "end": today.end.astimezone(UTC).strftime(fmt),
            "wstart": (today.start - timedelta(days=7)).astimezone(UTC).strftime(fmt),
            "wend": (today.end - timedelta(days=7)).astimezone(UTC).strftime(fmt),
        }
        db = sqlite3.connect(path)
        raw = []
        for _ in range(args.runs + 3):
            start = time.perf_counter()
            raw_board(db, params)
            raw.append((time.perf_counter() - start) * 1000)
        raw = raw[3:]
    print(f"wallboard_refresh_p50_ms {pct(app, 0.5):.1f} ms")
    print(f"wallboard_refresh_p99_ms {pct(app, 0.99):.1f} ms")
    print(f"wallboard_raw_p50_ms {pct(raw, 0.5):.1f} ms")
    print(f"wallboard_raw_p99_ms {pct(raw, 0.99):.1f} ms")
    print(f"wallboard_refresh_p99_ratio {ratio(pct(app, 0.99) / max(pct(raw, 0.99), 1e-6))}")
    if args.skip_postgres:
        print("# postgresql skipped: --skip-postgres")
    else:
        print("# postgresql not measured yet by this benchmark")
    return 0


if __name__ == "__main__":
    sys.exit(main())
