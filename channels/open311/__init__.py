"""Open311 GeoReport v2: the standard API other cities' apps use to read services, post
requests and follow them. Routes in ``routes.py``; JSON and XML in ``formats.py``."""

from __future__ import annotations

from typing import Any

from hotline.plugins.manager import hookimpl

from .routes import open311_router


@hookimpl
def register_routes() -> list[Any]:
    return [open311_router()]
