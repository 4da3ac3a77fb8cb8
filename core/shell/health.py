"""``/healthz``: the process answers. ``/readyz``: the database answers, its schema is current,
and the data directory takes a write (a full disk makes the hotline not ready, so a balancer
sends citizens elsewhere until someone frees space; it is ready again without a restart)."""

from __future__ import annotations

import errno
import functools
import os
from pathlib import Path
from typing import Any

import anyio
from litestar import Request, Response, get

from hotline.core.shell.context import AppContext
from hotline.core.storage.migrate import current_revision, head_revision

# The migrations on disk do not change while the process runs; reading them is file I/O.
expected_revision = functools.cache(head_revision)
PROBE_BYTES = 64 * 1024  # a few blocks: a disk with less free than this takes no submission


def data_dir_problem(data_dir: Path) -> str | None:
    """Write, sync and remove a small file in the data directory; the errno's name if not."""
    probe = data_dir / f".ready-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
    return None


@get("/healthz", include_in_schema=True, tags=["health"], sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["health"])
async def readyz(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    ctx: AppContext = request.app.state.ctx
    problem = await anyio.to_thread.run_sync(data_dir_problem, ctx.settings.data_dir)
    if problem:
        return Response(
            {"status": "unavailable", "data_dir": f"not writable ({problem})"}, status_code=503
        )
    try:
        revision = await current_revision(ctx.db)
    except Exception as exc:
        return Response(
            {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
            status_code=503,
        )
    head = expected_revision()
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
    return Response(
        {"status": "ready", "database": "reachable", "migration": revision, "data_dir": "writable"}
    )
