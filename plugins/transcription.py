"""Built-in: the job that transcribes recorded speech (``hotline.core.transcripts``). The
engines themselves are speech plugins implementing the ``transcribe`` hook."""

from __future__ import annotations

from hotline.core import transcripts
from hotline.core.jobs import JobSpec
from hotline.plugins.manager import hookimpl


@hookimpl(trylast=True)
def register_jobs() -> list[JobSpec]:
    return transcripts.jobs()
