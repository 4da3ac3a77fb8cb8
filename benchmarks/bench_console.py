"""The agent's queue view and the case workspace at 1,000,000 cases, over HTTP.

Migrates a temporary data directory, loads ``--cases`` cases (default 1,000,000) the way
``bench_lookup.py`` does, gives them ``--citizens`` citizens (default 100,000: ten cases each,
so every workspace has a history) with a phone each and one message per case, puts
``--waiting`` contacts in the AXD queue (default 10,000), and starts ``hotline serve``.
One signed-in agent then asks, one request at a time after an untimed warm-up:

* ``queue_view``: ``GET /console/queue`` (their state, their contacts, what waits);
* ``workspace``: ``GET /console/cases/<number>`` of a random case (the case, the citizen,
  their contacts, earlier cases and messages, this case's messages; the read is audited).

The raw baseline, in the same run and on the same database file: the same rows fetched with
the ``sqlite3`` module by the indexed queries the screens need, no framework, no templates.
Prints ``name value unit`` lines; ``*_p99_ratio`` is raw p99 / app p99 (1.0 = as fast as raw).
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_lookup import load_sqlite, make_cases
from bench_offer import PASSWORD
from bench_portal import ROOT, Server, hotline_bin, percentile, server_env


def load(data: Path, args: argparse.Namespace) -> list[str]:
    sys.path.insert(0, str(ROOT))
    from hotline.core.people.accounts import hash_password

    subprocess.run(
        [hotline_bin(), "migrate"], env=server_env(data), cwd=ROOT, check=True, capture_output=True
    )
    cases = make_cases(args.cases, args.seed)
    path = data / "hotline.db"
    load_sqlite(path, cases)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO citizens (id, name, language, flags, created_at) VALUES (?, ?, 'zh_CN', '{}',"
        " '2026-01-01 00:00:00.000000')",
        ((i, f"市民{i}") for i in range(1, args.citizens + 1)),
    )
    conn.executemany(
        "INSERT INTO contact_points (citizen_id, kind, value, opted_out, created_at)"
        " VALUES (?, 'phone', ?, 0, '2026-01-01 00:00:00.000000')",
        ((i, f"+86139{i:08d}") for i in range(1, args.citizens + 1)),
    )
    conn.execute(f"UPDATE cases SET citizen_id = (id % {args.citizens}) + 1")
    conn.execute(
        "INSERT INTO interactions (case_id, direction, channel, text, attempts, meta, created_at)"
        " SELECT id, 'in', first_channel, description, 0, '{}', created_at FROM cases"
    )
    conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, active,"
        " must_change_password, created_at) VALUES ('agent', 'Agent', ?, 'agent', 1, 0,"
        " '2026-01-01 00:00:00.000000')",
        (hash_password(PASSWORD),),
    )
    conn.execute(
        "INSERT INTO queue_items (case_id, media, priority, skills, language, state, declined_by,"
        " waiting_since, updated_at) SELECT id, 'email', 1, '[]', 'en', 'waiting', '[]',"
        f" created_at, created_at FROM cases ORDER BY id DESC LIMIT {args.waiting}"
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    rng = random.Random(args.seed + 1)
    return [cases[i][0] for i in rng.sample(range(len(cases)), args.requests + args.warmup)]


def raw_queue(conn: sqlite3.Connection, agent: int) -> None:
    conn.execute("SELECT * FROM agent_presence WHERE user_id = ?", (agent,)).fetchall()
    conn.execute(
        "SELECT q.*, c.tracking_number FROM queue_items q JOIN cases c ON c.id = q.case_id"
        " WHERE q.agent_id = ? AND q.state IN ('offered', 'assigned') ORDER BY q.updated_at",
        (agent,),
    ).fetchall()
    conn.execute(
        "SELECT q.*, c.tracking_number FROM queue_items q JOIN cases c ON c.id = q.case_id"
        " WHERE q.state = 'waiting' AND c.sealed = 0"
        " ORDER BY q.priority DESC, q.waiting_since LIMIT 200"
    ).fetchall()
    conn.execute("SELECT * FROM away_reasons WHERE active = 1 ORDER BY code").fetchall()


def raw_workspace(conn: sqlite3.Connection, number: str) -> None:
    case_id, citizen = conn.execute(
        "SELECT id, citizen_id FROM cases WHERE tracking_number = ?", (number,)
    ).fetchone()
    conn.execute("SELECT * FROM citizens WHERE id = ?", (citizen,)).fetchall()
    conn.execute("SELECT * FROM contact_points WHERE citizen_id = ?", (citizen,)).fetchall()
    conn.execute(
        "SELECT * FROM cases WHERE citizen_id = ? AND id != ? AND sealed = 0"
        " ORDER BY created_at DESC LIMIT 50",
        (citizen, case_id),
    ).fetchall()
    conn.execute(
        "SELECT i.*, c.tracking_number FROM interactions i JOIN cases c ON c.id = i.case_id"
        " WHERE c.citizen_id = ? AND c.id != ? AND c.sealed = 0"
        " ORDER BY i.created_at DESC LIMIT 50",
        (citizen, case_id),
    ).fetchall()
    conn.execute(
        "SELECT * FROM interactions WHERE case_id = ? ORDER BY created_at DESC", (case_id,)
    ).fetchall()
    conn.execute("SELECT * FROM service_categories WHERE active = 1 ORDER BY code").fetchall()


def timed(fn, items: list, warmup: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for i, item in enumerate(items):
        start = time.perf_counter()
        fn(item)
        if i >= warmup:
            out.append((time.perf_counter() - start) * 1000)
    return sorted(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--citizens", type=int, default=100_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true", help="(SQLite only here)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        data = Path(tmp) / "data"
        start = time.perf_counter()
        numbers = load(data, args)
        print(
            f"# {args.cases} cases, {args.citizens} citizens, {args.waiting} waiting;"
            f" loaded in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        server = Server("app", [hotline_bin(), "serve"], server_env(data), Path(tmp) / "app.log")
        try:
            server.wait_ready()
            client = httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60)
            page = client.get("/console/login").text
            token = re.search(r'name="_csrf_token" value="([^"]+)"', page)[1]  # type: ignore[index]
            client.post(
                "/console/login",
                data={"_csrf_token": token, "username": "agent", "password": PASSWORD},
            )

            def ok(response: httpx.Response) -> None:
                assert response.status_code == 200, response.status_code

            total = args.warmup + args.requests
            queue = timed(lambda _: ok(client.get("/console/queue")), [None] * total, args.warmup)
            work = timed(lambda n: ok(client.get(f"/console/cases/{n}")), numbers, args.warmup)
        finally:
            server.stop()
        conn = sqlite3.connect(f"file:{data / 'hotline.db'}?mode=ro", uri=True)
        (agent,) = conn.execute("SELECT id FROM users WHERE username = 'agent'").fetchone()
        raw_q = timed(lambda _: raw_queue(conn, agent), [None] * total, args.warmup)
        raw_w = timed(lambda n: raw_workspace(conn, n), numbers, args.warmup)
        conn.close()
    for name, app, raw in (("queue_view", queue, raw_q), ("workspace", work, raw_w)):
        p50, p99 = percentile(app, 0.5), percentile(app, 0.99)
        r50, r99 = percentile(raw, 0.5), percentile(raw, 0.99)
        print(f"{name}_p50 {p50:.2f} ms")
        print(f"{name}_p99 {p99:.2f} ms")
        print(f"{name}_raw_p50 {r50:.3f} ms")
        print(f"{name}_raw_p99 {r99:.3f} ms")
        print(f"{name}_p99_ratio {r99 / p99:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
