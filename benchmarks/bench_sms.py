"""SMS in through the real Kannel into cases.

Kannel (bearerbox and smsbox from Debian's kannel, the fake SMSC on loopback) carries
``--messages`` texts (default 2,000, each from its own phone number, Chinese as UCS-2) from the
fake SMSC's client to smsbox, which calls the hotline's /channels/sms/kannel/mo for each:
``sms_ingest`` is texts/s from the first injected to the last stored as a case (served by
uvicorn on SQLite, jobs off so that only intake is timed).

The raw baseline in the same run: the same texts through the same Kannel to a bare handler
that answers 200 and does nothing else (``sms_ingest_raw``); ``sms_ingest_ratio`` is app/raw.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402
from litestar import Litestar, get  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from benchmarks.common import ratio  # noqa: E402
from hotline.core.foundation.settings import Settings  # noqa: E402
from hotline.core.storage import migrate  # noqa: E402
from hotline.core.storage.models.cases import Case  # noqa: E402
from tests.kannel import kannel_installed, start_kannel, stop_kannel  # noqa: E402
from tests.liveapp import LiveApp  # noqa: E402
from tests.processes import free_port  # noqa: E402

SECRET = "bench-kannel-secret-0123456789"
TEXTS = (
    "人民路路灯坏了三天，晚上很黑",
    "Pothole on Elm Street near the school gate",
    "小区垃圾无人清运",
)


def inject(kannel: Any, count: int) -> float:
    """Send ``count`` texts from distinct phones; the time the first was sent."""
    carrier = kannel.carrier()
    start = time.perf_counter()
    for i in range(count):
        carrier.send(f"+86139{i:08d}", f"{TEXTS[i % len(TEXTS)]} #{i}")
    kannel.carriers = [carrier]
    return start


def wait_until(done: Any, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while done() < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {done()} of {count} after {timeout:.0f} s")
        time.sleep(0.05)
    return time.perf_counter()


def raw_rate(count: int) -> float:
    calls = {"n": 0}
    lock = threading.Lock()

    @get("/mo", sync_to_thread=False)
    def mo() -> str:
        with lock:
            calls["n"] += 1
        return ""

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Litestar([mo]), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    kannel = start_kannel(f"http://127.0.0.1:{port}/mo?secret={SECRET}")
    try:
        start = inject(kannel, count)
        end = wait_until(lambda: calls["n"], count, 600)
    finally:
        stop_kannel(kannel)
        server.should_exit = True
        thread.join(10)
    return count / (end - start)


def app_rate(count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(
            data_dir=Path(tmp),
            secret_key="bench-secret-0123456789abcdef",
            log_level="WARNING",
            jobs_in_process=False,
            sms_shared_secret=SECRET,
            sms_per_number_per_hour=1000,
            public_url=f"http://127.0.0.1:{port}/",
        )
        migrate.upgrade(settings.db_url)
        app = LiveApp(settings, port=port)
        kannel = start_kannel(f"http://127.0.0.1:{port}/channels/sms/kannel/mo?secret={SECRET}")

        async def cases(ctx: Any) -> int:
            async with ctx.db.session() as s:
                return int(await s.scalar(select(func.count()).select_from(Case)) or 0)

        try:
            start = inject(kannel, count)
            end = wait_until(lambda: app.call(cases), count, 900)
        finally:
            stop_kannel(kannel)
            app.stop()
    return count / (end - start)


def main() -> int:
    logging.disable(logging.INFO)  # the app's request lines would drown the figures
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true", help="(SQLite only)")
    args = parser.parse_args()
    if not kannel_installed():
        print("# sms skipped: Kannel is not installed (apt-get install kannel)", flush=True)
        return 0
    raw = raw_rate(args.messages)
    app = app_rate(args.messages)
    print(f"sms_ingest {app:.0f} msg/s ({args.messages} texts, SQLite)")
    print(f"sms_ingest_raw {raw:.0f} msg/s")
    print(f"sms_ingest_ratio {ratio(app / raw)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
