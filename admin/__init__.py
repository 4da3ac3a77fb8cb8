"""The staff console, a plugin: sign-in for every role, and (growing with the console issue)
the AXD queue, the case workspace, departments' work, supervision and administration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router

from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext

from .routes import console_router
from .sessions import jobs as purge_jobs

STATIC = Path(__file__).parent / "static"


@hookimpl
def register_routes(ctx: AppContext) -> list[Any]:
    static = create_static_files_router(
        path="/static/console", directories=[STATIC], include_in_schema=False
    )
    return [console_router(ctx), static]


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.admin"]


@hookimpl
def register_jobs() -> list[JobSpec]:
    return purge_jobs()
