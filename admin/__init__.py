"""The staff console, a plugin: sign-in for every role, and (growing with the console issue)
the AXD queue, the case workspace, departments' work, supervision and administration."""

from __future__ import annotations

from typing import Any

from hotline.core.context import AppContext
from hotline.plugins.manager import hookimpl

from .routes import console_router


@hookimpl
def register_routes(ctx: AppContext) -> list[Any]:
    return [console_router(ctx)]


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.admin"]
