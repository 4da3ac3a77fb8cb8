"""The phone line: callers hear a menu in their language (``menu.toml``, data the site can
change), leave a complaint or a message for the director, hear a case's status by keypad, or
ask for a call back. Hooks only: the line runs as a listener wherever the job workers run
(``HOTLINE_PHONE_ENGINE=baresip``), the IVR (``ivr``) drives the SIP/RTP engine (``engine``,
``baresip``) and hands what callers decide to the kernel (``desk``). See README.md."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable, Sequence
from typing import Any

from hotline.core.delivery.jobs import ListenerSpec
from hotline.core.foundation.settings import Settings
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext

from .console import CONSOLE_ROUTES
from .consulted import ConsultedAgents
from .desk import KernelDesk
from .desk_accounts import DeskAccounts
from .desk_listening import DeskListening
from .engine import Engine
from .ivr import Ivr
from .menu import MenuError, MenuFile, load_menu, menu_path
from .monitor import MONITOR_ROUTES
from .prompts import ESPEAK, PromptBook
from .recording import collect
from .softphone import SOFTPHONE_ROUTES, make_stack, turn_secret
from .stack import PACKAGES, SoftphoneStack, missing
from .transfers import TRANSFER
from .waiting import BACK, LOST

log = logging.getLogger("hotline.channels.phone")


def make_engine(ctx: AppContext) -> Engine:
    from .baresip import BaresipEngine

    host, _, port = ctx.settings.phone_sip_listen.rpartition(":")
    return BaresipEngine(
        host=host or "127.0.0.1",
        port=int(port),
        work_dir=ctx.settings.data_dir / "phone",
        # with softphones, calls they do not take come back to the line's own number
        numbers=[
            *ctx.settings.phone_numbers,
            *([BACK, LOST, TRANSFER] if ctx.settings.phone_softphone_ws else []),
        ],
    )


async def open_line(
    ctx: AppContext, engine: Engine, softphones: SoftphoneStack | None = None
) -> Ivr:
    """Start ``engine`` with the IVR on it: the site's menu, its prompts rendered (cached)
    before the first call, and the kernel's desk (which puts callers through to the agents'
    ``softphones`` when they are registered there). The caller stops the engine."""
    settings = ctx.settings
    menus = MenuFile(settings.data_dir)
    menu = menus.current()
    prompts = PromptBook(settings.data_dir)
    await prompts.warm(
        [
            (name, lang, node.prompt[lang])
            for name, node in menu.nodes.items()
            for lang in menu.languages
        ]
    )
    await prompts.tone()

    def say(language: str, message: str) -> str:
        return ctx.catalogs.get(language).gettext(message)

    ivr = Ivr(
        engine,
        menu,
        prompts,
        KernelDesk(ctx, softphones),
        say,
        settings.data_dir / "phone" / "recordings",
        reload=menus.current,
    )
    await engine.start(ivr.on_event)
    return ivr


async def keep_line(
    ctx: AppContext,
    make: Callable[[], Engine],
    stop: asyncio.Event,
    *,
    backoff: float = 1.0,
    softphones: SoftphoneStack | None = None,
) -> None:
    """The phone line until ``stop``: an engine from ``make`` with the IVR on it, and a new one
    whenever the engine fails (its calls ended as faults: waiting callers are called back, every
    call detail record written), after ``backoff`` seconds, doubling up to a minute while
    starting keeps failing."""
    delay = backoff
    while not stop.is_set():
        engine = make()
        try:
            await open_line(ctx, engine, softphones)
        except Exception:
            log.exception("the phone line did not start; trying again in %.0f s", delay)
            await engine.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 60.0)
            continue
        delay = backoff
        stopped = asyncio.create_task(stop.wait())
        lost = asyncio.create_task(engine.wait_lost())
        try:
            await asyncio.wait({stopped, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            lost.cancel()
            await engine.stop()
        if not stop.is_set():
            log.error("the phone line's engine failed; starting it again in %.0f s", backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)


async def run_line(ctx: AppContext, stop: asyncio.Event) -> None:
    """Listener: the phone line, until ``stop``; with the agents' softphone stack beside it
    when the site runs softphones (``HOTLINE_PHONE_SOFTPHONE_WS``), kept running (started again
    when it ends; calls go to desk phones meanwhile)."""
    stack = make_stack(ctx.settings, ctx.secret_key) if ctx.settings.phone_softphone_ws else None
    kept = []
    if stack is not None:
        kept.append(asyncio.create_task(stack.keep(stop)))
        kept.append(asyncio.create_task(DeskAccounts(ctx, stack).keep(stop)))
        kept.append(asyncio.create_task(ConsultedAgents(ctx, stack).keep(stop)))
        kept.append(asyncio.create_task(DeskListening(ctx, stack).keep(stop)))
        if stack.record:
            split = ctx.settings.phone_call_recording == "split"
            desk = KernelDesk(ctx, stack)
            kept.append(asyncio.create_task(collect(stack.recordings, desk.recorded, split, stop)))
    try:
        await keep_line(ctx, lambda: make_engine(ctx), stop, softphones=stack)
    finally:
        for task in kept:
            if not stop.is_set():  # the line itself failed: the stack goes with it
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@hookimpl
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    return [*CONSOLE_ROUTES, *SOFTPHONE_ROUTES, *MONITOR_ROUTES]


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.channels.phone"]


@hookimpl
def register_listeners(ctx: AppContext) -> Sequence[ListenerSpec]:
    return [ListenerSpec("phone.line", run_line)] if ctx.settings.phone_engine else []


@hookimpl
def check_setup(settings: Settings) -> Sequence[str]:
    if not settings.phone_engine:
        return []
    found = []
    try:
        load_menu(settings.data_dir)
    except MenuError as exc:
        found += [f"{menu_path(settings.data_dir)}: {line}" for line in exc.problems]
    if not shutil.which(ESPEAK):
        found.append("HOTLINE_PHONE_ENGINE: espeak-ng is missing (apt-get install espeak-ng)")
    if settings.phone_engine == "baresip" and not shutil.which("baresip"):
        found.append("HOTLINE_PHONE_ENGINE: baresip is missing (apt-get install baresip)")
    if settings.phone_softphone_ws and missing():
        found.append(
            f"HOTLINE_PHONE_SOFTPHONE_WS: {', '.join(missing())} missing"
            f" (apt-get install {PACKAGES})"
        )
    if settings.phone_turn_urls and not turn_secret(settings):
        found.append(
            "HOTLINE_PHONE_TURN_URLS: no shared secret (HOTLINE_PHONE_TURN_SECRET or"
            " <data dir>/turn_secret); the browsers are given no TURN server"
        )
    return found
