"""A real phone line for the tests: baresip on a free loopback port answering with ``menu``,
skipped with the reason (failed under CI) when baresip, SIPp or espeak-ng is missing."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hotline.channels.phone import open_line
from hotline.channels.phone.baresip import BaresipEngine
from hotline.channels.phone.baresip_process import baresip_available
from hotline.channels.phone.ivr import Ivr
from hotline.channels.phone.prompts import PromptBook
from hotline.channels.phone.stack import SoftphoneStack
from hotline.channels.phone.transfers import TRANSFER
from hotline.channels.phone.waiting import BACK, LOST
from hotline.core.shell.context import AppContext
from tests.conftest import need
from tests.sipcallers import free_udp_port, sipp_available


@asynccontextmanager
async def line_with(
    ctx: AppContext, menu: str, softphones: SoftphoneStack | None = None
) -> AsyncIterator[tuple[str, Ivr, PromptBook]]:
    """(the line's address, its IVR, its prompts), the line stopped afterwards."""
    need(baresip_available(), "baresip (Debian packages baresip, gstreamer1.0-plugins-good)")
    need(sipp_available(), "SIPp (Debian package sip-tester)")
    need(shutil.which("espeak-ng") is not None, "espeak-ng (Debian package espeak-ng)")
    data = ctx.settings.data_dir
    (data / "phone-menu.toml").write_text(menu, encoding="utf-8")
    # with softphones, the line listens where their registrar sends calls back, on its own
    # number for them too
    port = softphones.line[1] if softphones is not None else free_udp_port()
    numbers = ("12345", BACK, LOST, TRANSFER) if softphones is not None else ("12345",)
    base = 30000 + port % 20 * 1000
    engine = BaresipEngine(
        "127.0.0.1",
        port,
        numbers=numbers,
        rtp_ports=(base, base + 999),
        work_dir=data / "phone",
    )
    ivr = await open_line(ctx, engine, softphones)
    try:
        yield f"127.0.0.1:{port}", ivr, PromptBook(data)
    finally:
        await engine.stop()
