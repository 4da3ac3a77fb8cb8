"""A plugin for the job tests: a job that leaves a mark, and a route that schedules it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, post

from hotline.core.delivery.events import QUEUE_CHANNEL
from hotline.core.delivery.jobs import JobSpec
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext


async def touch(ctx: AppContext, marker: str, word: str = "ran") -> None:
    with Path(marker).open("a") as fh:
        fh.write(word + "\n")


async def announce(ctx: AppContext, word: str) -> None:
    ctx.events.publish({"type": "probe", "word": word}, [QUEUE_CHANNEL])


@post("/probe/schedule", sync_to_thread=False)
def schedule(request: Request[Any, Any, Any], marker: str, delay: float = 0) -> dict[str, str]:
    job_id = request.app.state.ctx.jobs.enqueue("probe.touch", delay=delay or None, marker=marker)
    return {"job": job_id}


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [JobSpec("probe.touch", touch), JobSpec("probe.announce", announce)]


@hookimpl
def register_routes() -> list[Any]:
    return [schedule]
