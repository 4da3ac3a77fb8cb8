"""A plugin for the fault tests and ``bench_faults``: ``POST /probe/submit`` hands a citizen's
message to the one intake, as a channel does, and answers with the tracking number (the
receipt). A client that got no answer sends the same ``external_id`` again (a retry intake
de-duplicates). No form, CSRF or rate limit of the public edge: what is tested here is what
follows the commit."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from hotline.core.intake.receive import receive
from hotline.core.intake.submission import Submission
from hotline.core.plugin_host.manager import hookimpl


@post("/probe/submit")
async def submit(request: Request[Any, Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    result = await receive(request.app.state.ctx, Submission.model_validate(data))
    return {"tracking_number": result.tracking_number, "duplicate": result.duplicate}


@hookimpl
def register_routes() -> list[Any]:
    return [submit]
