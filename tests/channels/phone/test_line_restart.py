"""The phone line's SIP stack fails under a caller waiting for an agent (baresip killed, or
stuck: it answers nothing, as baresip 1.0 deadlocked under twenty calls in CI): the call detail
record is written (ended by a fault), the waiting caller, whose number is known, is
called back (a call-back request in the queue, the call's item closed as cut off by the line),
and the line starts a new engine that answers the next caller."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.channels.phone import baresip_process, keep_line
from hotline.channels.phone.baresip import BaresipEngine
from hotline.channels.phone.baresip_process import baresip_available
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.axd import CallRecord, QueueItem
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_queue import MENU
from tests.conftest import need
from tests.sipcallers import Scenario, free_udp_port, run_sipp, sipp_available

pytestmark = pytest.mark.slow


async def _until(check: object, timeout: float = 15.0) -> object:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        found = await check()  # type: ignore[operator]
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("not seen in time")


@pytest.mark.parametrize("fault", ["killed", "stuck"])
async def test_the_line_survives_its_engine_and_calls_back_who_was_waiting(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    need(baresip_available(), "baresip (Debian packages baresip, gstreamer1.0-plugins-good)")
    need(sipp_available(), "SIPp (Debian package sip-tester)")
    data = ctx.settings.data_dir
    (data / "phone-menu.toml").write_text(MENU, encoding="utf-8")
    port = free_udp_port()
    base = 30000 + port % 20 * 1000
    engines: list[BaresipEngine] = []

    def make() -> BaresipEngine:
        engines.append(
            BaresipEngine("127.0.0.1", port, rtp_ports=(base, base + 999), work_dir=data / "phone")
        )
        return engines[-1]

    monkeypatch.setattr(baresip_process, "HEALTH_SECONDS", 0.5)  # asked twice a second
    stop = asyncio.Event()
    line = asyncio.create_task(keep_line(ctx, make, stop, backoff=0.5))
    target = f"127.0.0.1:{port}"

    async def started(n: int) -> bool:
        """The ``n``th engine or a later one is up: its line's parked call made, not lost."""
        return len(engines) >= n and all(
            (
                len(engines[-1]._parked) == len(engines[-1].numbers),
                not engines[-1]._lost.is_set(),
                not engines[-1]._stopping,
            )
        )

    async def waiting() -> QueueItem | None:
        async with ctx.db.session() as s:
            return await s.scalar(select(QueueItem).where(QueueItem.state == "waiting"))

    caller: asyncio.Task[object] | None = None
    try:
        await _until(lambda: started(1))
        caller = asyncio.create_task(  # type: ignore[arg-type]
            run_sipp(
                Scenario([("pause", 1500), ("rfc2833", "1"), ("pause", 30000)], hangup=True),
                tmp_path / "sipp1",
                target,
                caller="+8613912345678",
                timeout=45,
            )
        )
        item = await _until(waiting, 20.0)
        stuck = engines[-1]
        if fault == "killed":
            os.killpg(stuck._proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
        else:  # stopped: its control connection stays open and answers nothing
            monkeypatch.setattr(baresip_process, "STUCK_SECONDS", 3.0)
            os.killpg(stuck._proc.pid, signal.SIGSTOP)  # type: ignore[union-attr]

        async def recorded() -> CallRecord | None:
            async with ctx.db.session() as s:
                return await s.scalar(select(CallRecord))

        record = await _until(recorded)
        assert isinstance(record, CallRecord) and isinstance(item, QueueItem)
        async with ctx.db.session() as s:
            items = list(await s.scalars(select(QueueItem).order_by(QueueItem.id)))
        call, callback = items
        assert (call.id, call.outcome, call.state) == (item.id, "line_lost", "done")
        assert (callback.media, callback.case_id, callback.state) == (
            "callback",
            call.case_id,
            "waiting",
        )
        assert (record.hung_up_by, record.left_reason, record.queue_item_id) == (
            "fault",
            "line_lost",
            call.id,
        )
        assert record.caller == "+8613912345678"
        assert stuck._stuck is (fault == "stuck")

        # a new engine answers the next caller on the same address
        await _until(lambda: started(2), 30.0)
        nxt = await run_sipp(
            Scenario([("pause", 2000)], hangup=True), tmp_path / "sipp2", target, timeout=20
        )
        assert nxt.returncode == 0, nxt.stdout + nxt.errors
        caller.cancel()
    finally:
        stop.set()
        await asyncio.wait_for(line, 30)
        if caller is not None and not caller.done():
            caller.cancel()
