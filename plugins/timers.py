"""Built-in: the deadline timers, a job every minute (warnings, overdue marks, closing
answered cases the citizen did not evaluate in time)."""

from __future__ import annotations

from huey import crontab

from hotline.core.jobs import JobSpec
from hotline.core.timers import SCAN_JOB, scan_job
from hotline.plugins.manager import hookimpl


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [JobSpec(SCAN_JOB, scan_job, periodic=crontab(minute="*"), retries=0)]
