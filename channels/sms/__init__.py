"""The SMS channel (Kannel): smsbox's calls read into cases (``inbound``, ``routes``), STOP and
status questions answered at once; answers split into parts and sent through sendsms
(``outbound``) by the outbox job with its retries; Kannel's delivery reports settle each answer
(``reports``). See README.md for the operator's set-up."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any
from urllib.parse import quote

from hotline.core.cases.replies import OutboundMessage
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.reference.labels import N_
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind

from . import outbound
from .routes import kannel_dlr, kannel_mo


@hookimpl
def register_routes(ctx: AppContext) -> Sequence[Any]:
    return [kannel_mo, kannel_dlr]


ANSWERS = ("reply", "answer")
RATE_INVITATION = N_(
    "To rate this answer, reply 1 (satisfied), 2 (basically satisfied) or 3 (not satisfied)."
)


def dlr_url(ctx: AppContext, interaction_id: int) -> str:
    secret = quote(ctx.settings.sms_shared_secret, safe="")
    return f"{ctx.settings.url}channels/sms/kannel/dlr?secret={secret}&id={interaction_id}"


async def _send(ctx: AppContext, message: OutboundMessage) -> str:
    settings = ctx.settings
    gateway = outbound.Sendsms.from_url(settings.sms_sendsms_url)
    text = message.text
    if message.purpose in ANSWERS:  # invite the evaluation the citizen may text back (回访)
        text += "\n" + ctx.catalogs.get(message.language).gettext(RATE_INVITATION)
    queries = outbound.sendsms_queries(
        gateway,
        sender=settings.sms_sender,
        receiver=message.contact_value,
        text=text,
        reference=message.interaction_id,
        dlr_url=dlr_url(ctx, message.interaction_id),
        max_parts=settings.sms_max_parts,
    )
    return await outbound.send(gateway, queries)


@hookimpl
def send_reply(ctx: AppContext, message: OutboundMessage) -> Awaitable[str] | None:
    if message.contact_kind != ContactKind.PHONE or not ctx.settings.sms_sendsms_url:
        return None  # not a phone number, or no SMS out configured
    return _send(ctx, message)
