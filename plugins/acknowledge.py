"""Built-in: acknowledge every new case to the citizen, in their language, with its number.

The acknowledgement goes to the contact point the case came from, through whichever channel
owns that contact kind (``send_reply``); with none installed the case records that.

It is follow-up work of the job outbox (``core/storage/outbox.py``): the job's row is written in the
same transaction as the case's ``received`` event, so a committed case always gets one, even
when the process dies right after the commit. The job writes the acknowledgement and its
delivery job in one transaction, once per case whatever the number of runs. The reconciliation
(``missing_acknowledgements``) finds a case from a contact point with neither an
acknowledgement nor a job for one (cases from before the outbox) and writes the job.

The stored text never holds the lookup code (every agent reads it); the message carries it
when it leaves (``LOOKUP_CODE_MASK``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import Exists

from hotline.core.cases import tracking
from hotline.core.cases.replies import LOOKUP_CODE_MASK, queue_reply
from hotline.core.delivery.jobs import JobSpec, Missing
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import Direction
from hotline.core.storage.models.cases import Case, ContactPoint, Interaction
from hotline.core.storage.models.delivery import OutboxJob

JOB = "hotline.acknowledge"
PURPOSE = "acknowledgement"


def _acknowledged(case_id: Any) -> Exists:
    return exists().where(
        Interaction.case_id == case_id,
        Interaction.direction == Direction.OUT,
        Interaction.meta["purpose"].as_string() == PURPOSE,
    )


async def acknowledge(ctx: AppContext, case_id: int, event_id: int | None = None) -> str:
    """Job: write the acknowledgement (and its delivery job) once."""
    async with ctx.db.transaction() as session:
        # the case's write lock first (a no-op update, on SQLite as on PostgreSQL): two runs
        # at once (a lapsed lease) write one acknowledgement
        locked = await session.execute(
            update(Case).where(Case.id == case_id).values(updated_at=Case.updated_at)
        )
        if locked.rowcount != 1:  # type: ignore[attr-defined]
            return "no case"
        case = await session.get(Case, case_id)
        assert case is not None
        if await session.scalar(select(_acknowledged(case_id))):
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
        ) % {"number": number, "code": LOOKUP_CODE_MASK}
        await queue_reply(
            session, case, contact, text, subject, purpose=PURPOSE, with_lookup_code=True
        )
    return "queued"


async def missing_acknowledgements(
    session: AsyncSession, since: datetime, case_id: int | None
) -> list[Missing]:
    """Cases since ``since`` that came from a contact point and have neither an
    acknowledgement nor a job to make one."""
    inbound = aliased(Interaction)
    query = select(Case.id).where(
        Case.created_at >= since,
        exists().where(
            and_(
                inbound.case_id == Case.id,
                inbound.direction == Direction.IN,
                inbound.contact_point_id.is_not(None),
            )
        ),
        ~_acknowledged(Case.id),
        ~exists().where(and_(OutboxJob.case_id == Case.id, OutboxJob.job == JOB)),
    )
    if case_id is not None:
        query = query.where(Case.id == case_id)
    found = await session.scalars(query.order_by(Case.id).limit(1000))
    return [Missing(f"{JOB}:case:{case}", case, {"case_id": case}) for case in found]


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [JobSpec(JOB, acknowledge, on_events=("received",), reconcile=missing_acknowledgements)]
