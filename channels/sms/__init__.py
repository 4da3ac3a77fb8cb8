"""The SMS channel (Kannel): smsbox's calls read into cases (``inbound``, ``routes``), STOP and
status questions answered at once, answers split into SMS parts (``outbound``). Sending
through sendsms with delivery reports, and Kannel in the tests, come next."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hotline.core.context import AppContext
from hotline.plugins.manager import hookimpl

from .routes import kannel_mo


@hookimpl
def register_routes(ctx: AppContext) -> Sequence[Any]:
    return [kannel_mo]
