"""The phone line as `hotline serve` runs it (the ``phone.line`` listener) starts the softphone
stack from the settings beside its engine: agents register with the console's credential; when
Kamailio dies the stack is started again and agents register anew; when the line stops,
Kamailio and rtpengine stop with it and their folder is gone."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from hotline.channels.phone import run_line
from hotline.channels.phone.baresip_process import baresip_available
from hotline.channels.phone.softphone import credential, registrar_secret
from hotline.channels.phone.stack import PACKAGES, missing
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import AppContext
from tests.channels.phone.test_line import db_url  # noqa: F401 (one SQLite database)
from tests.channels.phone.test_line_queue import MENU
from tests.channels.phone.test_softphone_stack import registering
from tests.conftest import need
from tests.sipcallers import free_udp_port

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:  # noqa: F811
    base = 46000 + free_udp_port() % 40 * 100
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        jobs_in_process=False,
        secret_key="test-secret-key-not-for-production",
        phone_engine="baresip",
        phone_sip_listen=f"127.0.0.1:{free_udp_port()}",
        phone_softphone_ws=f"127.0.0.1:{free_udp_port()}",
        phone_softphone_sip=f"127.0.0.1:{free_udp_port()}",
        phone_media_ports=f"{base}-{base + 99}",
    )


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stack_pids(data: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(data) in cmdline and ("kamailio" in cmdline or "rtpengine" in cmdline):
            found.append(int(proc.name))
    return found


def _is_kamailio(pid: int) -> bool:
    try:
        return b"kamailio" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


async def test_the_line_runs_the_stack_and_stops_it(ctx: AppContext) -> None:
    need(not missing(), f"the softphone stack (Debian packages {PACKAGES})")
    need(baresip_available(), "baresip (Debian packages baresip, gstreamer1.0-plugins-good)")
    need(shutil.which("espeak-ng") is not None, "espeak-ng (Debian package espeak-ng)")
    settings = ctx.settings
    (settings.data_dir / "phone-menu.toml").write_text(MENU, encoding="utf-8")
    ws_port = int(settings.phone_softphone_ws.rsplit(":", 1)[1])
    stop = asyncio.Event()
    line = asyncio.create_task(run_line(ctx, stop))
    try:
        for _ in range(300):
            if _listening(ws_port) or line.done():
                break
            await asyncio.sleep(0.1)
        assert _listening(ws_port), "the registrar did not start"
        folder = settings.data_dir / "phone"
        assert len(_stack_pids(folder)) >= 2  # Kamailio (and its children) and rtpengine
        given = credential(registrar_secret(ctx.secret_key), "agent-3")
        where = SimpleNamespace(
            sip=("127.0.0.1", int(settings.phone_softphone_sip.rsplit(":", 1)[1])),
            ws=("127.0.0.1", ws_port),
        )
        async with registering(where, "agent-3", given["username"], given["password"]) as status:  # type: ignore[arg-type]
            assert status == 200
        # Kamailio killed: the stack comes back on the same ports, and the agent registers again
        kamailio = [pid for pid in _stack_pids(folder) if _is_kamailio(pid)]
        for pid in kamailio:
            # Kamailio's children end with their parent: one killed first may be gone already
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _ in range(300):
            now = set(_stack_pids(folder))
            if now and not now & set(kamailio) and _listening(ws_port):
                break
            await asyncio.sleep(0.1)
        assert _listening(ws_port), "the registrar did not come back"
        # as a softphone does (every 5 s), the agent tries again while a start that failed
        # is tried again (the line logs why it failed)
        for _ in range(20):
            try:
                async with registering(
                    where,  # type: ignore[arg-type]
                    "agent-3",
                    given["username"],
                    given["password"],
                ) as status:
                    assert status == 200
                break
            except OSError:
                await asyncio.sleep(1)
        else:
            raise AssertionError("the agent could not register again")
    finally:
        stop.set()
        await asyncio.wait_for(line, 60)
    assert not _stack_pids(folder)
    assert not list(folder.glob("softphones-*"))
    assert not _listening(ws_port)
