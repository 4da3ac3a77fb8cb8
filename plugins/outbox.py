"""Built-in: the outbox jobs that deliver replies (``deliver_reply``, ``sweep_outbox``)."""

from __future__ import annotations

from hotline.core import replies
from hotline.core.jobs import JobSpec
from hotline.plugins.manager import hookimpl


@hookimpl
def register_jobs() -> list[JobSpec]:
    specs: list[JobSpec] = replies.jobs()
    return specs
