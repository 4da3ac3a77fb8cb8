"""Management reports, a built-in plugin with its own routes, templates, static files and jobs:
the figures (``figures/``, each defined once); the wallboard for a wall screen, live, with
read-only kiosk links; the export of any case list of the console (the case search, the
workflow desk, a department's to-do, supervision, the director's own mailbox) as CSV or Excel,
whole rather than a page, streamed with constant memory; a long one runs as a job with its
progress on screen."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar.static_files import create_static_files_router

from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl

from . import (
    board_settings,
    kiosk,
    report_page,
    saved_routes,
    schedule_routes,
    schedules,
    wallboard,
)
from .jobs import jobs
from .routes import handlers

if TYPE_CHECKING:
    from hotline.core.foundation.settings import Settings
    from hotline.core.shell.context import AppContext

STATIC = Path(__file__).parent / "static"


@hookimpl
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    return [
        *handlers(),
        *wallboard.handlers(),
        *board_settings.handlers(),
        *report_page.handlers(),
        *schedule_routes.handlers(),
        *saved_routes.handlers(),
    ]


@hookimpl
def register_routes(ctx: AppContext) -> Sequence[Any]:
    static = create_static_files_router(
        path="/static/reports", directories=[STATIC], include_in_schema=False
    )
    return [static, *kiosk.public_handlers()]


@hookimpl
def register_commands(subparsers: Any) -> None:
    from .report_cli import add_command

    add_command(subparsers)


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.plugins.reports"]


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [*jobs(), *schedules.jobs()]


@hookimpl
def check_setup(settings: Settings) -> Sequence[str]:
    from .report_pdf import font

    found = font()
    if found is None:
        return [
            "note: reports: no Chinese font, so no PDF reports (apt-get install fonts-noto-cjk)"
        ]
    return [f"note: reports: PDF reports use {found}"]
