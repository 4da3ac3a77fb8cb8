"""Files on cases for staff: the citizen's photos and documents, and departments' reply files.

One route serves them all, after the same checks as the case they belong to: the hotline's
cases for ``case.read``, a department's own cases for its people, letters to the director for
the director's office only. Each opening is a read of personal data, recorded on the case.
Files are served with their sniffed type, never sniffed again by the browser, and in a sandbox.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
from litestar import Request, Response, get
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hotline.core.people.permissions import Permission
from hotline.core.storage.enums import Direction
from hotline.core.storage.models.cases import Attachment, Case, CaseEvent, Interaction
from hotline.core.storage.models.people import User
from hotline.core.workflow.access import department_holds

from .guards import ctx_of, record_refusal, requires, staff_actor

Req = Request[Any, Any, Any]
INLINE = ("image/", "application/pdf", "audio/", "video/", "text/plain")


async def case_messages(session: AsyncSession, case_id: int) -> list[Interaction]:
    """The case's messages with their files, newest first."""
    return list(
        await session.scalars(
            select(Interaction)
            .where(Interaction.case_id == case_id)
            .options(selectinload(Interaction.attachments))
            .order_by(Interaction.created_at.desc(), Interaction.id.desc())
        )
    )


async def _may_read(request: Req, session: AsyncSession, case: Case) -> bool:
    user: User = request.scope["state"]["user"]
    permissions = request.scope["state"]["permissions"]
    if case.sealed:
        return Permission.DIRECTOR_MAILBOX in permissions
    if Permission.CASE_READ in permissions:
        return True
    if Permission.DEPARTMENT_HANDLE in permissions and user.department_id is not None:
        return await department_holds(session, case.id, user.department_id)
    return False


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range a ``Range: bytes=a-b`` header asks for (HTML5 audio seeks this way);
    None for the whole file. A range past the end is refused (416)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[6:].strip().partition("-")
    try:
        if first == "":  # the last N bytes
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
    except ValueError:
        return None
    if start >= size or start > end:
        raise HTTPException(status_code=416, detail="range not satisfiable")
    return start, end


@get("/console/files/{attachment_id:int}", guards=[requires(Permission.CONSOLE)])
async def staff_file(request: Req, attachment_id: FromPath[int]) -> Response[bytes]:
    ctx, actor = ctx_of(request), staff_actor(request)
    async with ctx.db.transaction() as session:
        found = (
            await session.execute(
                select(Attachment, Interaction.direction, Case)
                .join(Interaction, Interaction.id == Attachment.interaction_id)
                .join(Case, Case.id == Interaction.case_id)
                .where(Attachment.id == attachment_id)
            )
        ).first()
        if found is None:
            raise NotFoundException("no such file")
        attachment, direction, case = found
        if not await _may_read(request, session, case):
            if case.sealed:  # kept in the audit trail, answered like a file that is not there
                await record_refusal(request, request.scope["state"]["user"], "director_mailbox")
                raise NotFoundException("no such file")
            raise PermissionDeniedException("this file is not yours to read")
        span = byte_range(request.headers.get("range"), attachment.size)
        if direction == Direction.IN and (span is None or span[0] == 0):
            # one record per opening: a player's later range requests are the same reading
            session.add(CaseEvent.by(actor, case.id, "personal_data_read", {"file": attachment.id}))
    data = await anyio.to_thread.run_sync(ctx.files.get, attachment.sha256)
    extra: dict[str, str] = {"Accept-Ranges": "bytes"}
    status = 200
    if span is not None:
        start, end = span
        extra["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        data, status = data[start : end + 1], 206
    how = "inline" if attachment.content_type.startswith(INLINE) else "attachment"
    name = attachment.filename or f"file-{attachment.id}"
    fallback = name.encode("ascii", "replace").decode().replace('"', "").replace("\\", "")
    return Response(
        data,
        status_code=status,
        media_type=attachment.content_type,
        headers={
            **extra,
            # RFC 6266: an ASCII name for old clients, the UTF-8 name (中文 file names) for others
            "Content-Disposition": f"{how}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )
