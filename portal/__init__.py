"""The citizens' portal, a plugin: submit a case per service or to the director's mailbox,
get a receipt, look the case up with a second factor, add information, rate the answer, read
announcements and service guides. Works without JavaScript; htmx (vendored) makes it quicker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router

from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext

from .routes import portal_router


@hookimpl
def register_routes(ctx: AppContext) -> list[Any]:
    # The portal's design system (GOV.UK Frontend), map (Leaflet) and scripts, vendored.
    static = create_static_files_router(
        path="/static/portal",
        directories=[Path(__file__).parent / "static"],
        include_in_schema=False,
        name="portal-static",
    )
    return [portal_router(ctx), static]


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.portal"]
