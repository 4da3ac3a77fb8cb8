"""The app factory: one Litestar app, one plugin manager, one kernel per call (tests get isolation)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import anyio
from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.base import StorageObject, Store
from litestar.stores.file import FileStore
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers

from hotline.core.foundation.settings import Settings, ensure_secret_key
from hotline.core.intake.submission import IntakeRefused
from hotline.core.shell.access_log import softphone_origin, with_request_context
from hotline.core.shell.context import AppContext, Kernel
from hotline.core.shell.errors import (
    http_exception_handler,
    sane_input,
    unhandled_exception_handler,
)
from hotline.core.shell.faults import FaultLog
from hotline.core.shell.health import healthz, readyz
from hotline.core.shell.live import make_channels_plugin, plugin_publisher
from hotline.core.shell.web import make_environment

log = logging.getLogger("hotline.app")


def intake_refused_handler(_request: Request[Any, Any, Any], exc: IntakeRefused) -> Response[Any]:
    return Response(
        {"error": "submission refused", "problems": [p.model_dump() for p in exc.problems]},
        status_code=422,
    )


def plugin_routes(ctx: AppContext) -> list[Any]:
    routes: list[Any] = []
    for group in ctx.pm.hook.register_routes(ctx=ctx):
        routes.extend(group or [])
    return routes


class StrictFileStore(FileStore):
    """Litestar's file store, except that a write that fails (a full disk) fails the request
    (503 with Retry-After) instead of passing in silence: a staff member whose session could
    not be kept is told so, not sent back to the sign-in page without a word."""

    def _write_sync(self, target_file: anyio.Path, storage_obj: StorageObject) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=self.path, prefix=f"{target_file.name}.tmp")
        try:
            try:
                os.write(fd, storage_obj.to_bytes())
            finally:
                os.close(fd)
            os.replace(tmp_name, target_file)
        except BaseException:
            os.unlink(tmp_name)
            raise


def make_stores(settings: Settings) -> dict[str, Store]:
    """Server-side state shared by every app process: staff sessions and rate-limit counters.
    Files in the data directory on one machine; Redis when the hotline has one."""
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        root = RedisStore.with_client(url=settings.redis_url, namespace="hotline")
        return {
            name: root.with_namespace(name)
            for name in ("sessions", "rate_limit", "portal_forms", "webchat")
        }
    return {"sessions": StrictFileStore(settings.data_dir / "sessions", create_directories=True)}


def create_app(
    settings: Settings, kernel: Kernel | None = None, *, owns_process: bool = False
) -> Litestar:
    """Build the hotline app. Jobs start in-process when ``settings.jobs_in_process``.
    ``owns_process``: the app is the process (``hotline serve``), so start-up may tune the
    collector for it; never in a process that builds apps by the dozen (the tests): frozen
    objects are never collected, and neither would be the connections of apps gone since."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ensure_secret_key(settings)
    kernel = kernel or Kernel(settings)
    ctx = kernel.new_context()
    channels = make_channels_plugin(settings)
    # the ORM's mappers are set up here, once, not inside the first request on the event loop
    # (about 200 ms of CPU with every table: the loop watch saw it in the first intake)
    configure_mappers()

    async def startup(app: Litestar) -> None:
        kernel.publisher = plugin_publisher(channels, asyncio.get_running_loop())
        ctx.events.publisher = kernel.publisher
        # the database driver is loaded and the first connection opened before the first
        # request, not inside it on the event loop (~190 ms of CPU seen by the loop watch)
        # (a database that cannot be reached yet does not stop the start: /readyz says so)
        try:
            async with asyncio.timeout(5):
                async with ctx.db.session() as session:
                    await session.execute(text("SELECT 1"))
        except (OSError, TimeoutError, SQLAlchemyError):
            log.warning("database not reachable at start-up")
        if owns_process:
            # what start-up made (modules, tables, templates) lives as long as the process: kept
            # out of the collector's full passes, which otherwise walk it all inside some request
            gc.collect()
            gc.freeze()
            # and the collector runs less often: with the default thresholds (700, 10, 10) its
            # passes over the caches that fill after start-up (compiled SQL, templates) took 40
            # to 200 ms inside requests on PostgreSQL (the loop watch test; with it off, none)
            gc.set_threshold(50_000, 100, 1_000)
        if settings.jobs_in_process:
            kernel.jobs.start_in_process(settings.job_workers, settings.job_poll_seconds)

    async def shutdown(app: Litestar) -> None:
        await asyncio.to_thread(kernel.jobs.stop)
        await ctx.db.dispose()

    static = create_static_files_router(
        path="/static", directories=[Path(__file__).parent / "static"], include_in_schema=False
    )
    # Per address, for strangers. Staff behind one office address would share it, so the
    # console's pages after sign-in are left to the console's own limit, per signed-in user;
    # an SMS gateway calls from one address for a whole city: it is limited per phone number;
    # Telegram calls the webhook from its few servers, with the secret token header.
    rate_limit = RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=[
            "/healthz",
            "/readyz",
            "/static",
            r"^/console/(?!login)",
            r"^/channels/sms/kannel/",
            r"^/channels/telegram/",
            # a wall screen's read-only link (a token nobody guesses) asks on every change
            r"^/wallboard/",
        ],
    )
    app = Litestar(
        route_handlers=[healthz, readyz, static, *plugin_routes(ctx)],
        plugins=[channels],
        middleware=[rate_limit.middleware],
        before_request=sane_input,
        on_startup=[startup],
        on_shutdown=[shutdown],
        exception_handlers={
            IntakeRefused: intake_refused_handler,
            HTTPException: http_exception_handler,
            Exception: unhandled_exception_handler,
        },
        openapi_config=OpenAPIConfig(
            title="Civic Hotline API",
            version="1",
            path="/api/schema",
            # The schema only: the bundled viewers load scripts from CDNs, which a hotline's
            # network may not reach and our CSP refuses.
            render_plugins=[JsonRenderPlugin()],
            description="Public API of the hotline. Open311 GeoReport v2 arrives with the portal.",
        ),
        # Not files staff open (photos, PDFs, recordings are compressed already, and gzip on
        # the event loop would hold it for as long as a big one takes; ranges stay ranges).
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1024, exclude=[r"^/console/files/"]
        ),
        logging_config=None,
        request_max_body_size=settings.max_request_bytes,
        stores=make_stores(settings),
    )
    app.state.ctx = ctx
    app.state.faults = faults = FaultLog()
    # Outside Litestar's own exception handling, so it sees every answer (see core.shell.access_log).
    app.asgi_handler = with_request_context(
        app.asgi_handler,
        faults,
        connect_src=softphone_origin(settings.phone_softphone_url, settings.phone_softphone_ws),
    )
    app.state.kernel = kernel
    app.state.jinja = make_environment(ctx)
    return app
