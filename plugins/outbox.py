"""Built-in: the job that delivers replies (``deliver_reply``), follow-up work of the job
outbox with its reconciliation (messages waiting without a job are given one)."""

from __future__ import annotations

from hotline.core import replies
from hotline.core.jobs import JobSpec
from hotline.plugins.manager import hookimpl


@hookimpl
def register_jobs() -> list[JobSpec]:
    specs: list[JobSpec] = replies.jobs()
    return specs
