"""An agent calls a citizen (click-to-call from a case or from the citizen's record, which
calls on their newest open case, or to answer a call-back request): the call is the agent's
voice work in the AXD queue (the case's call-back item they hold, else a new voice item
assigned to them, which takes their whole capacity until they finish it), has a call detail
record of its own (menu path ``outbound``; the relay's recording and the talk are added when
it ends), and the reading of the citizen's number is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from hotline.core.people.audit import audit
from hotline.core.reference.labels import N_
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import CaseStatus, ContactKind, Media, QueueState
from hotline.core.storage.models.axd import CallRecord, QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext


class DialRefused(ValueError):
    """Why the citizen cannot be called from here (a catalog message)."""


@dataclass(frozen=True)
class Dial:
    item_id: int
    number: str


async def dial(ctx: AppContext, actor: Actor, tracking_number: str, contact_id: int) -> Dial:
    """The call ``actor`` (an agent) places to the case's citizen on their phone contact."""
    assert actor.id is not None
    now = utcnow()
    async with ctx.db.transaction() as session:
        case = await session.scalar(
            select(Case).where(Case.tracking_number == tracking_number, Case.sealed.is_(False))
        )
        contact = await session.get(ContactPoint, contact_id)
        if (
            case is None
            or contact is None
            or case.citizen_id is None
            or contact.citizen_id != case.citizen_id
            or contact.kind != ContactKind.PHONE
        ):
            raise DialRefused(N_("This case has no such telephone number to call."))
        item = await session.scalar(
            select(QueueItem)
            .where(
                QueueItem.case_id == case.id,
                QueueItem.agent_id == actor.id,
                QueueItem.state == QueueState.ASSIGNED,
                QueueItem.media.in_([Media.CALLBACK, Media.VOICE]),
            )
            .order_by(QueueItem.id.desc())
            .limit(1)
        )
        if item is None:
            item = QueueItem(
                case_id=case.id,
                media=Media.VOICE,
                skills=[],
                language=case.language or "zh_CN",
                state=QueueState.ASSIGNED,
                agent_id=actor.id,
                waiting_since=now,
                assigned_at=now,
                updated_at=now,
            )
            session.add(item)
            await session.flush()
        session.add(
            CallRecord(
                call_id=f"dial-{item.id}-{now.timestamp():.3f}"[:64],
                caller=contact.value[:32],
                called=contact.value[:32],
                language=case.language or "",
                arrived_at=now,
                menu_path=["outbound"],
                leg="outbound",
                queue_item_id=item.id,
                case_id=case.id,
                agent_id=actor.id,
                ended_at=now,  # until the relay says when the talk ended
                hung_up_by="",
            )
        )
        audit(session, actor, "citizen_called", case.citizen_id, case=tracking_number, item=item.id)
        session.add(CaseEvent.by(actor, case.id, "citizen_called", {"item": item.id}))
        return Dial(item.id, contact.value)


async def case_to_call_on(ctx: AppContext, citizen_id: int) -> Case | None:
    """The case a call placed from the citizen's record belongs to (its recording, its detail
    record, the agent's voice work): their newest open case, else their newest; never one of
    the director's mailbox. None: they have no such case."""
    async with ctx.db.session() as session:
        found: Case | None = await session.scalar(
            select(Case)
            .where(Case.citizen_id == citizen_id, Case.sealed.is_(False))
            .order_by((Case.status == CaseStatus.CLOSED).asc(), Case.created_at.desc())
            .limit(1)
        )
        return found
