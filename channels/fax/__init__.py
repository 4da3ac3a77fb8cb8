"""The fax channel: faxes from a fax gateway's mail (read by the e-mail channel's fax mailbox)
or dropped as files in a watched spool directory become cases with their text read by OCR.

``receive_fax`` is the one way in for both: the OCR and the PDF are made in a worker thread,
then intake stores the case. The spool job takes ``*.tif``, ``*.tiff`` and ``*.pdf`` files
(a ``<file>.json`` beside one may give ``{"from": "+86..."}``), and moves each to ``done/``
after its case is stored, or to ``held/`` (kept for a person) when it cannot be read.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from pathlib import Path

import anyio
from huey import crontab

from hotline.core.delivery.jobs import JobSpec
from hotline.core.intake.checks import IntakeResult
from hotline.core.intake.held import hold_message
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext
from hotline.core.storage.files import sniff

from .convert import FaxUnreadable, read_text, to_pdf
from .inbound import CHANNEL, FAX_TYPES, fax_submission

log = logging.getLogger("hotline.channels.fax")
SPOOL_JOB = "fax.read_spool"
SPOOL_SUFFIXES = (".tif", ".tiff", ".pdf")


async def receive_fax(
    ctx: AppContext,
    data: bytes,
    *,
    filename: str,
    sender: str | None,
    external_id: str | None,
) -> IntakeResult:
    """OCR, PDF, then intake. Raises ``FaxUnreadable`` for what is not a fax image."""
    content_type = sniff(data) or ""
    if content_type not in FAX_TYPES:
        raise FaxUnreadable(f"not a TIFF or PDF fax ({content_type or 'unknown type'})")
    pdf = await anyio.to_thread.run_sync(to_pdf, data, content_type)
    reading = await anyio.to_thread.run_sync(read_text, data, content_type)
    submission = fax_submission(
        data,
        content_type,
        reading=reading,
        pdf=pdf,
        filename=filename,
        sender=sender,
        external_id=external_id,
        region=ctx.settings.default_region,
        max_text=ctx.settings.max_text_chars,
    )
    return await receive(ctx, submission)


def _sidecar_sender(path: Path) -> str | None:
    sidecar = path.with_name(path.name + ".json")
    try:
        value = json.loads(sidecar.read_text()).get("from") if sidecar.exists() else None
    except (OSError, ValueError, AttributeError):
        return None
    return str(value) if value else None


def _move(path: Path, folder: str) -> None:
    target = path.parent / folder
    target.mkdir(exist_ok=True)
    path.rename(target / path.name)
    sidecar = path.with_name(path.name + ".json")
    if sidecar.exists():
        sidecar.rename(target / sidecar.name)


def _waiting(spool: str) -> list[Path]:
    folder = Path(spool)
    if not spool or not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SPOOL_SUFFIXES]
    return sorted(found, key=lambda p: p.stat().st_mtime)


async def read_spool(ctx: AppContext) -> dict[str, int]:
    """Job: every fax file waiting in the spool directory, oldest first."""
    counts = {"cases": 0, "held": 0}
    for path in await anyio.to_thread.run_sync(_waiting, ctx.settings.fax_spool_dir):
        data = await anyio.to_thread.run_sync(path.read_bytes)
        try:
            sender = await anyio.to_thread.run_sync(_sidecar_sender, path)
            await receive_fax(
                ctx,
                data,
                filename=path.name,
                sender=sender,
                external_id=None,  # the image's digest: a file dropped twice is one case
            )
        except (FaxUnreadable, IntakeRefused) as exc:
            await hold_message(ctx, CHANNEL, data, f"fax not read: {exc}", source="spool")
            await anyio.to_thread.run_sync(_move, path, "held")
            counts["held"] += 1
            continue
        await anyio.to_thread.run_sync(_move, path, "done")
        counts["cases"] += 1
    return counts


@hookimpl
def process_held(ctx: AppContext, channel: str, raw: bytes) -> Awaitable[str] | None:
    """A fax file held from the spool, read again (a fixed file, an OCR engine installed)."""
    if channel != CHANNEL:
        return None

    async def again() -> str:
        try:
            result = await receive_fax(ctx, raw, filename="fax", sender=None, external_id=None)
        except (FaxUnreadable, IntakeRefused):
            return "held"
        return "duplicate" if result.duplicate else "case"

    return again()


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [JobSpec(SPOOL_JOB, read_spool, periodic=crontab(minute="*"), retries=0)]
