"""``/healthz``: the process answers. ``/readyz``: the database answers and its schema is current."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from hotline.core.context import AppContext
from hotline.core.migrate import current_revision, head_revision


@get("/healthz", include_in_schema=True, tags=["health"], sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["health"])
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    ctx: AppContext = request.app.state.ctx
    try:
        revision = await current_revision(ctx.db)
    except Exception as exc:
        return Response(
            {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
            status_code=503,
        )
    head = head_revision()
    if revision != head:
        return Response(
            {
                "status": "unavailable",
                "database": "reachable",
                "migration": revision,
                "expected": head,
            },
            status_code=503,
        )
    return Response({"status": "ready", "database": "reachable", "migration": revision})
