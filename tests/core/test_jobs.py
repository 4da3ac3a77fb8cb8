"""Jobs: durable on the embedded default across kill -9; run by `hotline worker` on PostgreSQL,
with live events fanned out through PostgreSQL to other processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import httpx
import pytest
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend

from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import Kernel
from tests.processes import ROOT, Served, env_for, hotline_bin, wait_for

PROBE = {"HOTLINE_PLUGINS": "tests.jobprobe"}


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_a_scheduled_job_survives_kill_9_and_runs_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    marker = tmp_path / "marker.txt"
    server = Served(data, **PROBE)
    response = httpx.post(
        server.url + "/probe/schedule", params={"marker": str(marker), "delay": 3}
    )
    assert response.status_code == 201, response.text
    server.kill9()
    assert lines(marker) == []  # it had not run yet

    restarted = Served(data, **PROBE)
    try:
        assert wait_for(lambda: lines(marker) == ["ran"], timeout=30)
        # and only once
        assert not wait_for(lambda: len(lines(marker)) > 1, timeout=2)
    finally:
        restarted.stop()


def test_a_job_enqueued_while_no_worker_runs_waits_for_one(tmp_path: Path) -> None:
    data = tmp_path / "data"
    marker = tmp_path / "marker.txt"
    server = Served(data, HOTLINE_JOBS_IN_PROCESS="false", **PROBE)
    httpx.post(server.url + "/probe/schedule", params={"marker": str(marker)})
    server.kill9()
    assert lines(marker) == []
    worker = subprocess.Popen(
        [hotline_bin(), "worker", "--workers", "1"],
        env=env_for(data, **PROBE),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: lines(marker) == ["ran"], timeout=30)
    finally:
        worker.terminate()
        worker.communicate(timeout=20)


def test_postgres_workers_run_jobs_and_fan_out_live_events(
    tmp_path: Path, pg_database: str
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=pg_database,
        plugins=["tests.jobprobe"],
        jobs_in_process=False,
    )
    env = env_for(
        tmp_path / "data",
        HOTLINE_DATABASE_URL=pg_database,
        HOTLINE_EVENTS_BACKEND="postgres",
        **PROBE,
    )
    marker = tmp_path / "marker.txt"
    kernel = Kernel(settings)
    kernel.new_context()
    dsn = pg_database.replace("postgresql+asyncpg", "postgresql")

    async def scenario() -> list[dict[str, str]]:
        listener = AsyncPgChannelsBackend(dsn)  # what another app process's screens listen on
        await listener.on_startup()
        await listener.subscribe([QUEUE_CHANNEL])
        workers = [
            subprocess.Popen(
                [hotline_bin(), "worker", "--workers", "2"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        received: list[dict[str, str]] = []
        try:
            for n in range(6):
                kernel.jobs.enqueue("probe.touch", marker=str(marker), word=f"job{n}")
            kernel.jobs.enqueue("probe.announce", word="hello")

            async def first_event() -> None:
                async for channel, payload in listener.stream_events():
                    if channel == QUEUE_CHANNEL:
                        received.append(json.loads(payload))
                        return

            await asyncio.wait_for(first_event(), timeout=30)
            assert await asyncio.to_thread(wait_for, lambda: len(lines(marker)) == 6, 30)
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.communicate(timeout=20)
            await listener.on_shutdown()
        return received

    events = asyncio.run(scenario())
    assert events == [{"type": "probe", "word": "hello"}]
    assert sorted(lines(marker)) == [f"job{n}" for n in range(6)]  # each exactly once


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HOTLINE_PLUGINS", "HOTLINE_DATABASE_URL"):
        monkeypatch.delenv(key, raising=False)
