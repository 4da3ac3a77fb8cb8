"""The console's exports: the Export control of a case list posts here with the list's filters.
A small result (``DIRECT_LIMIT`` rows or fewer) is written at once and downloaded; a larger one
runs as a job, and its page shows the progress (htmx asks every second) and then the download
link, which the owner is also sent as a notice. Only the owner downloads an export."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import File, Redirect

from hotline.admin.guards import ctx_of, record_refusal, requires
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import render, request_language
from hotline.core.storage.models.people import User

from . import store
from .export import run
from .jobs import EXPORT_JOB
from .lists import LISTS, TITLES, Asker, NotExportable, source_for
from .rows import count
from .writers import FORMATS

Req = Request[Any, Any, Any]
DIRECT_LIMIT = 5000  # rows written at once; more run as a job
MAX_PENDING = 3  # a user's exports waiting or being written at once
MAX_PARAMS = 20

DOWNLOAD_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


@post("/console/exports", guards=[requires(Permission.CONSOLE)])
async def start_export(request: Req) -> Response[Any]:
    ctx = ctx_of(request)
    form = await request.form()
    name, kind = str(form.get("list", "")), str(form.get("format", ""))
    if name not in LISTS or kind not in FORMATS:
        raise ClientException("choose a list and a format")
    params = {
        str(k)[2:]: str(v)[:200] for k, v in list(form.items())[:200] if str(k).startswith("f_")
    }
    if len(params) > MAX_PARAMS:
        raise ClientException("too many filters")
    user: User = request.scope["state"]["user"]
    permissions: frozenset[Permission] = request.scope["state"]["permissions"]
    asker = Asker(permissions, user.department_id, ZoneInfo(ctx.settings.timezone), ctx.db.dialect)
    try:
        source = source_for(name, params, asker)
    except NotExportable as refused:
        if name == "mailbox":  # an attempt at the sealed letters is kept in the audit trail
            await record_refusal(request, user, Permission.DIRECTOR_MAILBOX.value)
        raise PermissionDeniedException("your role may not export this list") from refused
    export = store.Export(
        id=store.new_id(),
        owner_id=user.id,
        owner_label=user.username,
        address=request.client.host if request.client else None,
        list_name=name,
        params=params,
        format=kind,
        language=request_language(request),
    )
    total = await count(ctx.db, source)
    data = ctx.settings.data_dir
    if total <= DIRECT_LIMIT:
        await run(ctx, export, notice=False)
        path = store.file_path(data, export)
        return File(
            path,
            filename=export.filename,
            media_type=FORMATS[kind],
            headers=DOWNLOAD_HEADERS,
            status_code=200,
            background=BackgroundTask(_remove, path),
        )
    pending = [e for e in store.owned_by(data, user.id) if e.state in (store.QUEUED, store.RUNNING)]
    if len(pending) >= MAX_PENDING:  # one person does not fill the workers
        return Redirect("/console/exports?busy=1", status_code=303)
    export.total = total
    store.save(data, export)
    await ctx.jobs.aenqueue(EXPORT_JOB, export_id=export.id)
    return Redirect(f"/console/exports/{export.id}", status_code=303)


def _mine(request: Req, export_id: str) -> store.Export:
    export = store.load(ctx_of(request).settings.data_dir, export_id)
    if export is None or export.owner_id != request.scope["state"]["user"].id:
        raise NotFoundException("no such export")  # someone else's is not there either
    return export


@get("/console/exports", guards=[requires(Permission.CONSOLE)])
async def my_exports(request: Req) -> Response[str]:
    user: User = request.scope["state"]["user"]
    found = store.owned_by(ctx_of(request).settings.data_dir, user.id)
    return render(
        request,
        "reports/exports.html",
        exports=found,
        titles=TITLES,
        busy=request.query_params.get("busy") == "1",
        most=MAX_PENDING,
    )


@get("/console/exports/{export_id:str}", guards=[requires(Permission.CONSOLE)])
async def export_page(request: Req, export_id: FromPath[str]) -> Response[str]:
    """The export's progress, then its link; htmx asks again every second for the fragment."""
    return render(
        request,
        "reports/export.html",
        export=_mine(request, export_id),
        titles=TITLES,
        block="progress",
    )


@get("/console/exports/{export_id:str}/file", guards=[requires(Permission.CONSOLE)])
async def export_file(request: Req, export_id: FromPath[str]) -> File:
    export = _mine(request, export_id)
    path = store.file_path(ctx_of(request).settings.data_dir, export)
    if export.state != store.READY or not path.exists():
        raise NotFoundException("the export is not ready")
    return File(
        path, filename=export.filename, media_type=FORMATS[export.format], headers=DOWNLOAD_HEADERS
    )


def handlers() -> list[Any]:
    return [start_export, my_exports, export_page, export_file]
