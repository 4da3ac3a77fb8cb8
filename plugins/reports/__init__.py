"""Management reports, a built-in plugin with its own routes, templates and jobs. So far: the
export of any case list of the console (the case search, the workflow desk, a department's
to-do, supervision, the director's own mailbox) as CSV or Excel, whole rather than a page,
streamed with constant memory; a long one runs as a job with its progress on screen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl

from .jobs import jobs
from .routes import handlers

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext


@hookimpl
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    return handlers()


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.plugins.reports"]


@hookimpl
def register_jobs() -> list[JobSpec]:
    return jobs()
