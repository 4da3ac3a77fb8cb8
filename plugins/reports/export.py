"""One export from start to end: the source's rows read chunk by chunk, turned into cells and
written (in a worker thread, so that the event loop stays free) to a file; then the audit entry
(who, which list and filters, how many rows) and, for a job, the owner's notice. Used alike by
a direct download, the export job and the benchmark."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import anyio

from hotline.core.people.audit import audit
from hotline.core.people.permissions import effective
from hotline.core.storage.actors import Actor
from hotline.core.storage.db import Database
from hotline.core.storage.enums import ActorKind
from hotline.core.storage.models.people import User
from hotline.core.workflow.common import notify_user

from . import store
from .lists import TITLES, Asker, Source, personal_allowed, source_for
from .rows import Cells, chunks, headers
from .writers import Writer, open_writer

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

Progress = Callable[[int], Awaitable[None]]
READY_NOTICE = "export_ready"


async def write_file(
    db: Database,
    source: Source,
    path: Path,
    kind: str,
    cells: Cells,
    gettext: Callable[[str], str],
    progress: Progress | None = None,
) -> int:
    """Write every row of ``source`` to ``path`` (written as ``.part`` and moved in place once
    whole); returns how many rows."""
    part = path.with_name(path.name + ".part")
    names = [gettext(h) for h in headers(cells.personal)]
    writer = await anyio.to_thread.run_sync(
        lambda: open_writer(kind, part, names, gettext(TITLES[source.name]))
    )
    written = 0
    try:
        async for found in chunks(db, source, zh=cells.zh, personal=cells.personal):
            await anyio.to_thread.run_sync(_write, writer, cells, found)
            written += len(found)
            if progress is not None:
                await progress(written)
    finally:
        await anyio.to_thread.run_sync(writer.close)
    os.replace(part, path)
    return written


def _write(writer: Writer, cells: Cells, found: list[Any]) -> None:
    writer.write_rows(cells.rows(found))


async def asker_of(ctx: AppContext, export: store.Export) -> Asker:
    """The owner as they are now: a right taken away since they asked stops their export."""
    async with ctx.db.session() as session:
        user = await session.get(User, export.owner_id)
        active = user is not None and user.active
        permissions = await effective(session, user) if user is not None and active else frozenset()
    return Asker(
        permissions,
        user.department_id if user is not None else None,
        ZoneInfo(ctx.settings.timezone),
        ctx.db.dialect,
    )


def actor_of(export: store.Export) -> Actor:
    return Actor(
        ActorKind.STAFF, id=export.owner_id, label=export.owner_label, address=export.address
    )


async def record(
    ctx: AppContext, export: store.Export, source: Source, rows: int, *, notice: bool
) -> None:
    """The audit entry of a finished export and, when it ran as a job, the owner's notice."""
    async with ctx.db.transaction() as session:
        audit(
            session,
            actor_of(export),
            "export",
            None,
            list=source.name,
            filters=source.filters,
            format=export.format,
            rows=rows,
            personal=export.personal,
        )
        if notice:
            notify_user(
                session,
                export.owner_id,
                READY_NOTICE,
                detail={"download": f"/console/exports/{export.id}", "rows": rows},
            )


def gettext_for(ctx: AppContext, language: str) -> Callable[[str], str]:
    return ctx.catalogs.get(language).gettext


def cells_for(ctx: AppContext, export: store.Export, personal: bool) -> Cells:
    return Cells(
        ZoneInfo(ctx.settings.timezone),
        gettext_for(ctx, export.language),
        personal,
        zh=export.language.startswith("zh"),
    )


async def run(ctx: AppContext, export: store.Export, *, notice: bool, progress: Any = None) -> int:
    """Write ``export`` to its file in the data directory and record it."""
    asker = await asker_of(ctx, export)
    source = source_for(export.list_name, export.params, asker)
    personal = export.personal = personal_allowed(source, asker.permissions)
    path = store.file_path(ctx.settings.data_dir, export)
    rows = await write_file(
        ctx.db,
        source,
        path,
        export.format,
        cells_for(ctx, export, personal),
        gettext_for(ctx, export.language),
        progress,
    )
    await record(ctx, export, source, rows, notice=notice)
    return rows
