"""Built-in: the job that delivers replies (``deliver_reply``), follow-up work of the job
outbox with its reconciliation (messages waiting without a job are given one)."""

from __future__ import annotations

from hotline.core.cases import replies
from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl


@hookimpl
def register_jobs() -> list[JobSpec]:
    specs: list[JobSpec] = replies.jobs()
    return specs
