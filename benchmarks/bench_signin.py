"""Signing in does not stall the server: argon2 runs in worker threads, off the event loop.

Migrates a temporary SQLite database, adds ``--users`` staff accounts, and signs them in
``--rounds`` times, ``--concurrency`` at once, through ``core.people.signin.sign_in`` (the console's
sign-in). Meanwhile a ticker on the same event loop sleeps 1 ms again and again and records by
how much each sleep overran: the time the loop could serve nobody else.

The raw baseline, in the same run: the same sign-ins with argon2 called on the event loop (as
before this change), and one argon2 verification alone (its cost, on this machine).
Prints ``name value unit`` lines; ``signin_loop_stall_ratio`` is the longest stall with argon2
on the loop (the baseline) divided by the longest stall with it off the loop (higher is better,
as every ratio here; 1.0 = no gain).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "quiet river lamp 47"


async def _stalls(work: Callable[[], Awaitable[object]]) -> tuple[float, float, float]:
    """(longest stall, p99 stall, seconds) while ``work`` runs."""
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - start - 0.001)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    start = time.perf_counter()
    await work()
    elapsed = time.perf_counter() - start
    done.set()
    await task
    lags.sort()
    return lags[-1], lags[int(len(lags) * 0.99) - 1], elapsed


async def run(args: argparse.Namespace) -> None:
    from sqlalchemy import func, select

    from hotline.core.foundation.settings import Settings
    from hotline.core.people.passwords import hash_password, verify_password
    from hotline.core.people.signin import sign_in
    from hotline.core.shell.context import open_context
    from hotline.core.storage import migrate
    from hotline.core.storage.enums import Role
    from hotline.core.storage.models.people import User

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        url = f"sqlite+aiosqlite:///{data / 'hotline.db'}"
        await asyncio.to_thread(migrate.upgrade, url)
        settings = Settings(data_dir=data, database_url=url, jobs_in_process=False)
        async with open_context(settings) as ctx:
            hashed = await asyncio.to_thread(hash_password, PASSWORD)
            async with ctx.db.transaction() as session:
                session.add_all(
                    User(
                        username=f"u{i}",
                        display_name=f"u{i}",
                        role=Role.AGENT,
                        password_hash=hashed,
                    )
                    for i in range(args.users)
                )
            names = [f"u{i % args.users}" for i in range(args.rounds * args.concurrency)]

            async def off_loop() -> None:
                for at in range(0, len(names), args.concurrency):
                    batch = names[at : at + args.concurrency]
                    await asyncio.gather(
                        *(
                            sign_in(ctx, name, PASSWORD, f"10.0.0.{n}")
                            for n, name in enumerate(batch)
                        )
                    )

            async def on_loop_one(name: str) -> None:
                async with ctx.db.session() as session:
                    user = await session.scalar(
                        select(User).where(func.lower(User.username) == name)
                    )
                assert user is not None and verify_password(user.password_hash, PASSWORD)

            async def on_loop() -> None:
                for at in range(0, len(names), args.concurrency):
                    batch = names[at : at + args.concurrency]
                    await asyncio.gather(*(on_loop_one(name) for name in batch))

            await off_loop()  # warm-up: connections, caches
            raw_start = time.perf_counter()
            for _ in range(args.rounds):
                verify_password(hashed, PASSWORD)
            raw = (time.perf_counter() - raw_start) / args.rounds
            on_max, on_p99, on_s = await _stalls(on_loop)
            off_max, off_p99, off_s = await _stalls(off_loop)
    count = len(names)
    print(f"argon2_verify_raw {raw * 1000:.1f} ms")
    print(f"signin_loop_stall_max {off_max * 1000:.1f} ms")
    print(f"signin_loop_stall_p99 {off_p99 * 1000:.1f} ms")
    print(f"signin_on_loop_stall_max {on_max * 1000:.1f} ms")
    print(f"signin_on_loop_stall_p99 {on_p99 * 1000:.1f} ms")
    print(f"signin_loop_stall_ratio {on_max / off_max:.2f}")
    print(f"signin_per_second {count / off_s:.1f} /s")
    print(f"signin_on_loop_per_second {count / on_s:.1f} /s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
