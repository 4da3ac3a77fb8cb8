"""Built-in: acknowledge every new case to the citizen, in their language, with its number.

The acknowledgement goes to the contact point the case came from, through whichever channel
owns that contact kind (``send_reply``); with none installed the case records that.
"""

from __future__ import annotations

from sqlalchemy import select

from hotline.core import tracking
from hotline.core.context import AppContext
from hotline.core.enums import Direction
from hotline.core.events import CaseEventMessage
from hotline.core.jobs import JobSpec
from hotline.core.lookup import lookup_code
from hotline.core.models import Case, ContactPoint, Interaction
from hotline.core.replies import enqueue_delivery, queue_reply
from hotline.plugins.manager import hookimpl

JOB = "hotline.acknowledge"


async def acknowledge(ctx: AppContext, case_id: int) -> str:
    """Job: write the acknowledgement to the outbox once, then deliver it."""
    async with ctx.db.transaction() as session:
        case = await session.get(Case, case_id)
        if case is None:
            return "no case"
        done = await session.scalar(
            select(Interaction.id).where(
                Interaction.case_id == case_id,
                Interaction.direction == Direction.OUT,
                Interaction.meta["purpose"].as_string() == "acknowledgement",
            )
        )
        if done is not None:
            return "already acknowledged"
        first = await session.scalar(
            select(Interaction)
            .where(Interaction.case_id == case_id, Interaction.direction == Direction.IN)
            .order_by(Interaction.id)
            .limit(1)
        )
        if first is None or first.contact_point_id is None:
            return "no contact point"
        contact = await session.get(ContactPoint, first.contact_point_id)
        assert contact is not None
        _ = ctx.catalogs.get(case.language).gettext
        number = tracking.display(case.tracking_number)
        subject = _("Your case %(number)s was received") % {"number": number}
        text = _(
            "The hotline received your message. Your tracking number is %(number)s and your "
            "lookup code is %(code)s. Keep them to follow your case; we will answer through "
            "this channel."
        ) % {"number": number, "code": lookup_code(ctx.secret_key, case.tracking_number)}
        reply = await queue_reply(session, case, contact, text, subject, purpose="acknowledgement")
        reply_id = reply.id
    await enqueue_delivery(ctx, reply_id)
    return "queued"


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [JobSpec(JOB, acknowledge)]


@hookimpl
async def case_event(ctx: AppContext, event: CaseEventMessage) -> None:
    if event.action == "received":
        await ctx.jobs.aenqueue(JOB, case_id=event.case_id)
