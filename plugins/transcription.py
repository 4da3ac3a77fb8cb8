"""Built-in: the job that transcribes recorded speech (``hotline.core.cases.transcripts``). The
engines themselves are speech plugins implementing the ``transcribe`` hook."""

from __future__ import annotations

from hotline.core.cases import transcripts
from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl


@hookimpl(trylast=True)
def register_jobs() -> list[JobSpec]:
    return transcripts.jobs()
