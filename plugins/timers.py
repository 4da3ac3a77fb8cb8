"""Built-in: the deadline timers, a job every minute (warnings, overdue marks, closing
answered cases the citizen did not evaluate in time)."""

from __future__ import annotations

from huey import crontab

from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.workflow.timers import SCAN_JOB, scan_job


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [JobSpec(SCAN_JOB, scan_job, periodic=crontab(minute="*"), retries=0)]
