"""The e-mail channel: the hotline's mailboxes read into cases, answers sent on the thread.

Hooks only: ``send_reply`` for e-mail contact points (aiosmtplib, through the outbox job with
its retries), and a job that reads every configured mailbox each minute (aioimaplib). The
parsing is in ``inbound``, the sending in ``outbound``, the reading in ``listener``, the
decision per message in ``process``. See README.md for the operator's set-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from huey import crontab

from hotline.core.cases.replies import OutboundMessage
from hotline.core.delivery.jobs import JobSpec, ListenerSpec
from hotline.core.intake.traces import purge_traces
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind

from . import outbound
from .departments import DIGEST_JOB, mail_notices, send_digest
from .listener import READ_JOB, mailboxes, read_all, watch_all
from .process import CHANNEL, process_message

NOTICES_JOB = "email.department_notices"
PURGE_JOB = "email.purge_traces"


async def _send(ctx: AppContext, message: OutboundMessage) -> str:
    settings = ctx.settings
    mail = outbound.build(
        message, sender=settings.mail_address, name=settings.mail_name, secret=ctx.secret_key
    )
    return await outbound.send(mail, outbound.SmtpServer.from_url(settings.smtp_url))


@hookimpl
def send_reply(ctx: AppContext, message: OutboundMessage) -> Awaitable[str] | None:
    if message.contact_kind != ContactKind.EMAIL:
        return None
    if not ctx.settings.smtp_url or not ctx.settings.mail_address:
        return None  # no e-mail out configured: the outbox records "no channel"
    return _send(ctx, message)


@hookimpl
def send_staff_mail(
    ctx: AppContext,
    to: Sequence[str],
    subject: str,
    text: str,
    attachments: Sequence[tuple[str, str, bytes]],
) -> Awaitable[str | None]:
    async def send() -> str | None:
        settings = ctx.settings
        if not settings.smtp_url or not settings.mail_address:
            return None
        mail = outbound.staff_mail(
            settings.mail_address, settings.mail_name, to, subject, text, attachments
        )
        return await outbound.send(mail, outbound.SmtpServer.from_url(settings.smtp_url))

    return send()


@hookimpl
def process_held(ctx: AppContext, channel: str, raw: bytes, source: str) -> Awaitable[str] | None:
    if channel != CHANNEL:
        return None

    async def again() -> str:
        return (await process_message(ctx, raw, purpose=source or "public")).kind

    return again()


async def read_job(ctx: AppContext) -> dict[str, int]:
    results = await read_all(ctx)
    return {purpose: result.fetched for purpose, result in results.items()}


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [
        JobSpec(READ_JOB, read_job, periodic=crontab(minute="*"), retries=0),
        JobSpec(NOTICES_JOB, mail_notices, periodic=crontab(minute="*"), retries=0),
        JobSpec(PURGE_JOB, purge_traces, periodic=crontab(minute="17", hour="3"), retries=1),
        JobSpec(DIGEST_JOB, send_digest, retries=8, retry_delay=60, retry_backoff=2),
    ]


@hookimpl
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    from .console import CONSOLE_ROUTES

    return CONSOLE_ROUTES


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.channels.email"]


@hookimpl
def register_commands(subparsers: Any) -> None:
    from .importer import add_command

    add_command(subparsers)


@hookimpl
def register_listeners(ctx: AppContext) -> list[ListenerSpec]:
    """IMAP IDLE while the job workers run, when a mailbox is configured."""
    return [ListenerSpec("email.idle", watch_all)] if mailboxes(ctx) else []
