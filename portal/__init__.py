"""The citizens' portal, a plugin: submit a case per service or to the director's mailbox,
get a receipt, look the case up with a second factor, add information, rate the answer, read
announcements and service guides. Works without JavaScript; htmx (vendored) makes it quicker."""

from __future__ import annotations

from typing import Any

from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext

from .routes import portal_router


@hookimpl
def register_routes(ctx: AppContext) -> list[Any]:
    return [portal_router(ctx)]


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.portal"]
