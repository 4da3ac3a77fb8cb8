"""Open311 GeoReport v2: the standard API other cities' apps use to read services, post
requests and follow them. One mounted app in ``routes.py``; parameters in ``params.py``;
reading in ``reading.py``, posting in ``posting.py``; JSON and XML in ``formats.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hotline.core.foundation.settings import Settings
from hotline.core.people.apikeys import legacy_key_notes
from hotline.core.plugin_host.manager import hookimpl

from .routes import open311_router


@hookimpl
def register_routes() -> list[Any]:
    return [open311_router()]


@hookimpl
def check_setup(settings: Settings) -> Sequence[str]:
    notes = legacy_key_notes(settings)
    if not settings.public_url:
        notes.append(
            f"note: HOTLINE_PUBLIC_URL is not set: Open311 discovery names {settings.url}"
            " (the configured host and port), which other cities' apps may not reach"
        )
    return notes
