"""Named changes to a case. Each ``do_*`` has its refusals in a ``check_*`` before it, writes
its CaseEvent in the same transaction, and tells plugins and screens only after commit.

The workflow issue adds dispatch, sign-for, reply, review, return, extend, urge, close...
on the same pattern: ``act(ctx, case_id, actor, check, apply)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases import tracking
from hotline.core.cases.replies import queue_reply
from hotline.core.delivery.events import CaseEventMessage
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import CaseKind, CaseStatus, Direction, Priority
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint, Interaction
from hotline.core.storage.models.reference import ServiceCategory

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

MAX_TEXT = 10_000


class ActionRefused(Exception):
    """The change is not allowed now; the message says why. Nothing was written."""


class CaseNotFound(ActionRefused):
    pass


Check = Callable[[AsyncSession, Case], Awaitable[None]]
Apply = Callable[[AsyncSession, Case], Awaitable[tuple[str, dict[str, Any], bool]]]


async def act(ctx: AppContext, case_id: int, actor: Actor, check: Check, apply: Apply) -> Case:
    """Lock the case, check, apply, record the event; commit; then deliver the event."""
    async with ctx.db.transaction() as session:
        case = await session.scalar(select(Case).where(Case.id == case_id).with_for_update())
        if case is None:
            raise CaseNotFound(f"no case {case_id}")
        await check(session, case)
        action, detail, public = await apply(session, case)
        now = utcnow()
        case.updated_at = now
        event = CaseEvent.by(actor, case.id, action, detail, public=public, at=now)
        session.add(event)
        await session.flush()
        message = CaseEventMessage.of(case, event)
    await ctx.events.deliver(ctx, [message])
    return case


def check_open(case: Case) -> None:
    if not CaseStatus(case.status).is_open:
        raise ActionRefused(f"case {case.tracking_number} is closed")


async def do_set_priority(ctx: AppContext, case_id: int, priority: Priority, actor: Actor) -> Case:
    async def check(_s: AsyncSession, case: Case) -> None:
        check_open(case)
        if case.priority == priority:
            raise ActionRefused(f"priority is already {priority}")

    async def apply(_s: AsyncSession, case: Case) -> tuple[str, dict[str, Any], bool]:
        before, case.priority = case.priority, priority
        return "priority_changed", {"from": before, "to": str(priority)}, False

    return await act(ctx, case_id, actor, check, apply)


async def do_classify(
    ctx: AppContext,
    case_id: int,
    category_code: str,
    actor: Actor,
    *,
    kind: str | None = None,
    summary: str | None = None,
) -> Case:
    """The agent's classification: service category, and optionally kind and summary."""
    found: dict[str, ServiceCategory] = {}

    async def check(session: AsyncSession, case: Case) -> None:
        check_open(case)
        category = await session.scalar(
            select(ServiceCategory).where(
                ServiceCategory.code == category_code, ServiceCategory.active.is_(True)
            )
        )
        if category is None:
            raise ActionRefused(f"no service category {category_code!r}")
        if kind is not None:
            if kind not in {k.value for k in CaseKind}:
                raise ActionRefused(f"no kind {kind!r}")
            # a letter to the director is sealed at intake; no reclassifying into or out of it
            if CaseKind.DIRECTOR_MAILBOX in (kind, case.kind) and kind != case.kind:
                raise ActionRefused("a letter to the director stays one")
        if summary is not None and len(summary) > MAX_TEXT:
            raise ActionRefused(f"the summary is longer than {MAX_TEXT} characters")
        found["category"] = category

    async def apply(_s: AsyncSession, case: Case) -> tuple[str, dict[str, Any], bool]:
        detail: dict[str, Any] = {"category": category_code}
        case.category_id = found["category"].id
        if kind is not None and kind != case.kind:
            detail["kind"], case.kind = kind, kind
        if summary is not None and summary.strip() != case.summary:
            detail["summary"] = case.summary = summary.strip()
        return "classified", detail, False

    return await act(ctx, case_id, actor, check, apply)


async def reply_contact(session: AsyncSession, case: Case) -> ContactPoint | None:
    """Where an answer goes: the contact point of the citizen's latest message on the case."""
    return await session.scalar(
        select(ContactPoint)
        .join(Interaction, Interaction.contact_point_id == ContactPoint.id)
        .where(Interaction.case_id == case.id, Interaction.direction == Direction.IN)
        .order_by(Interaction.created_at.desc(), Interaction.id.desc())
        .limit(1)
    )


def answer_subject(ctx: AppContext, case: Case) -> str:
    """The subject of an answer, in the case's language."""
    _ = ctx.catalogs.get(case.language).gettext
    return _("Answer to your case %(number)s") % {"number": tracking.display(case.tracking_number)}


async def do_answer(ctx: AppContext, case_id: int, text: str, actor: Actor) -> Case:
    """Answer on the spot (a question the agent can settle): the answer goes to the citizen
    through the channel of their latest message, shows on their case page, and the case is
    closed. Without a contact point the answer is on the case page only."""

    async def check(_s: AsyncSession, case: Case) -> None:
        check_open(case)
        if not text.strip():
            raise ActionRefused("the answer is empty")
        if len(text) > MAX_TEXT:
            raise ActionRefused(f"the answer is longer than {MAX_TEXT} characters")

    async def apply(session: AsyncSession, case: Case) -> tuple[str, dict[str, Any], bool]:
        now = utcnow()
        contact = await reply_contact(session, case)
        if contact is not None:
            subject = answer_subject(ctx, case)
            await queue_reply(session, case, contact, text.strip(), subject, "answer")
        case.status, case.answered_at, case.closed_at = CaseStatus.CLOSED, now, now
        detail = {
            "answer": text.strip(),
            "on_the_spot": True,
            "to": contact.kind if contact else None,
        }
        return "answered", detail, True

    # the answer's delivery job was written with it, and goes to a worker after the commit
    return await act(ctx, case_id, actor, check, apply)


async def do_hand_over(ctx: AppContext, case_id: int, actor: Actor) -> Case:
    """The agent hands the classified case to the workflow (dispatch to a department); the
    case stays open in the hotline with its classification until it is dispatched."""

    async def check(_s: AsyncSession, case: Case) -> None:
        check_open(case)
        if case.category_id is None:
            raise ActionRefused("classify the case before handing it over")

    async def apply(_s: AsyncSession, case: Case) -> tuple[str, dict[str, Any], bool]:
        return "handed_over", {}, False

    return await act(ctx, case_id, actor, check, apply)


async def do_add_note(ctx: AppContext, case_id: int, text: str, actor: Actor) -> Case:
    """An internal note on the case: staff see it, the citizen never does."""

    async def check(_s: AsyncSession, _case: Case) -> None:
        if not text.strip():
            raise ActionRefused("the note is empty")
        if len(text) > MAX_TEXT:
            raise ActionRefused(f"the note is longer than {MAX_TEXT} characters")

    async def apply(_s: AsyncSession, _case: Case) -> tuple[str, dict[str, Any], bool]:
        return "note_added", {"text": text}, False

    return await act(ctx, case_id, actor, check, apply)
