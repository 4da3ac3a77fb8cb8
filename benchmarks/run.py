"""Run every benchmark and print its ``name value unit`` lines (``make bench``).

    .venv/bin/python benchmarks/run.py            # full: 2000 intakes, 1,000,000 cases
    .venv/bin/python benchmarks/run.py --quick    # a fast check: 200 intakes, 100,000 cases
    .venv/bin/python benchmarks/run.py --only portal   # hotline serve under load
    .venv/bin/python -m benchmarks.run --skip-postgres

Each benchmark runs in a process of its own (its own event loops, engines and memory).
PostgreSQL is taken from ``HOTLINE_BENCH_PG_URL``; when it is unreachable the benchmarks say
``# postgresql skipped: <reason>`` and go on with SQLite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

QUICK = {
    "bench_intake.py": ["--n", "200", "--rounds", "2", "--warmup", "10"],
    "bench_lookup.py": ["--cases", "100000", "--lookups", "1000", "--warmup", "100"],
    "bench_portal.py": (
        "--cases 100000 --requests 1000 --c1-requests 200 --page-requests 300 --warmup 100"
    ).split(),
    "bench_open311.py": ["--requests", "300", "--warmup", "30"],
    "bench_offer.py": ["--backlog", "1000", "--offers", "100", "--warmup", "10"],
    "bench_console.py": ["--cases", "100000", "--citizens", "10000", "--requests", "100"],
    "bench_search.py": ["--cases", "20000", "--requests", "100", "--warmup", "10"],
    "bench_desktop.py": ["--cases", "5000", "--citizens", "500", "--loads", "10"],
    "bench_deadlines.py": ["--cases", "100000", "--due", "1000", "--runs", "20"],
    "bench_mail.py": ["--messages", "1000", "--ocr-runs", "1", "--parse-rounds", "3"],
    "bench_sms.py": ["--messages", "300"],
    "bench_chat.py": ["--chats", "20", "--rounds", "3"],
    "bench_phone.py": ["--calls", "10", "--step", "20", "--max-held", "20"],
    "bench_calls.py": ["--calls", "3"],
    "bench_relay.py": (
        "--hold 10 --probe 10 --steps 10 --max-calls 20 --latency-calls 10"
        " --latency-seconds 5 --generator-seconds 5"
    ).split(),
    "bench_speech.py": ["--rounds", "1", "--voicemails", "4"],
    "bench_uploads.py": ["--photos", "4", "--megapixels", "10"],
    "bench_signin.py": ["--rounds", "5", "--concurrency", "4"],
    "bench_faults.py": ["--per-round", "12", "--load", "60"],
    "bench_connections.py": ["--requests", "400", "--header-timeout", "10"],
    "bench_reports.py": ["--rows", "100000"],
    "bench_wallboard.py": ["--cases", "100000", "--waiting", "2000", "--runs", "20"],
}
SCRIPTS = (
    "bench_intake.py",
    "bench_lookup.py",
    "bench_portal.py",
    "bench_open311.py",
    "bench_offer.py",
    "bench_console.py",
    "bench_search.py",
    "bench_desktop.py",
    "bench_deadlines.py",
    "bench_mail.py",
    "bench_sms.py",
    "bench_chat.py",
    "bench_phone.py",
    "bench_calls.py",
    "bench_relay.py",
    "bench_speech.py",
    "bench_uploads.py",
    "bench_signin.py",
    "bench_faults.py",
    "bench_connections.py",
    "bench_reports.py",
    "bench_wallboard.py",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Civic Hotline benchmarks.")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--only",
        choices=(
            "intake",
            "lookup",
            "portal",
            "open311",
            "offer",
            "console",
            "search",
            "desktop",
            "deadlines",
            "mail",
            "sms",
            "chat",
            "phone",
            "calls",
            "relay",
            "speech",
            "uploads",
            "signin",
            "faults",
            "connections",
            "reports",
            "wallboard",
        ),
        help="run one benchmark, not all",
    )
    args = parser.parse_args(argv)

    failed = []
    for script in SCRIPTS:
        if args.only and not script.startswith(f"bench_{args.only}"):
            continue
        extra = list(QUICK[script]) if args.quick else []
        if args.skip_postgres:
            extra.append("--skip-postgres")
        print(f"# {script} {' '.join(extra)}".rstrip(), flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(HERE / script), *extra])
        print(f"# {script} took {time.perf_counter() - start:.0f} s, exit {code}", flush=True)
        if code != 0:
            failed.append(script)
    if failed:
        print(f"# failed: {', '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
