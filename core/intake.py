"""The one intake: every channel turns its input into a ``Submission`` and calls ``receive``.

``receive`` checks everything first (``check_submission``: every problem, nothing stored), then
stores attachment bytes, then writes citizen, case, interaction, queue item and events in one
transaction, then tells plugins and screens after commit. It is idempotent on
``(channel, external_id)``: a re-poll, a gateway retry or a double click returns the first result.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from datetime import datetime

import anyio
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hotline.core import tracking
from hotline.core.contacts import InvalidContact, normalise
from hotline.core.context import AppContext
from hotline.core.deadlines import deadline
from hotline.core.enums import (
    MEDIA_BY_CHANNEL,
    ActorKind,
    CaseKind,
    CaseStatus,
    Direction,
    Media,
    Priority,
)
from hotline.core.events import QUEUE_CHANNEL, CaseEventMessage
from hotline.core.models import (
    Attachment,
    Case,
    CaseEvent,
    Citizen,
    ContactPoint,
    Department,
    Interaction,
    QueueItem,
    ServiceCategory,
    utcnow,
)
from hotline.core.storage import ALLOWED_TYPES, sniff
from hotline.core.submission import IntakeRefused, Problem, Submission

log = logging.getLogger("hotline.intake")

TRACKING_ATTEMPTS = 5


@dataclass
class Checked:
    """What ``check_submission`` learnt, so the write does not look it up again."""

    contacts: list[tuple[str, str]] = field(default_factory=list)
    category: ServiceCategory | None = None
    target: Case | None = None
    types: list[str] = field(default_factory=list)


@dataclass
class IntakeResult:
    case_id: int
    tracking_number: str
    interaction_id: int
    created: bool
    duplicate: bool = False


async def check_submission(
    ctx: AppContext, session: AsyncSession, sub: Submission
) -> tuple[list[Problem], Checked]:
    """Every reason to refuse ``sub``; empty when it may be stored."""
    settings = ctx.settings
    problems: list[Problem] = []
    checked = Checked()

    if len(sub.text) > settings.max_text_chars:
        problems.append(
            Problem(
                field="text",
                code="too_long",
                message=f"text has {len(sub.text)} characters; at most {settings.max_text_chars}",
            )
        )
    if not sub.text.strip() and not sub.attachments and not sub.subject.strip():
        problems.append(Problem(field="text", code="empty", message="nothing was said"))

    for index, contact in enumerate(sub.contacts):
        try:
            value = normalise(contact.kind, contact.value, settings.default_region)
        except InvalidContact as exc:
            problems.append(
                Problem(field=f"contacts.{index}", code=f"invalid_{contact.kind}", message=str(exc))
            )
        else:
            if (contact.kind, value) not in checked.contacts:
                checked.contacts.append((contact.kind, value))

    if sub.category:
        checked.category = await session.scalar(
            select(ServiceCategory)
            .where(ServiceCategory.code == sub.category, ServiceCategory.active.is_(True))
            .options(selectinload(ServiceCategory.default_department))
        )
        if checked.category is None:
            problems.append(
                Problem(
                    field="category",
                    code="unknown_category",
                    message=f"no service category {sub.category!r}",
                )
            )

    if len(sub.attachments) > settings.max_attachments:
        problems.append(
            Problem(
                field="attachments",
                code="too_many",
                message=f"{len(sub.attachments)} files; at most {settings.max_attachments}",
            )
        )
    for index, att in enumerate(sub.attachments):
        label = att.filename or f"file {index + 1}"
        if len(att.data) > settings.max_attachment_bytes:
            problems.append(
                Problem(
                    field=f"attachments.{index}",
                    code="too_large",
                    message=f"{label}: {len(att.data)} bytes; at most {settings.max_attachment_bytes}",
                )
            )
        kind = sniff(att.data)
        if kind not in ALLOWED_TYPES:
            problems.append(
                Problem(
                    field=f"attachments.{index}",
                    code="type_not_allowed",
                    message=f"{label}: its content is {kind or 'not a known type'}, not an accepted file",
                )
            )
        checked.types.append(kind or "application/octet-stream")

    if sub.tracking_number:
        number = tracking.clean(sub.tracking_number)
        if tracking.is_valid(number):
            checked.target = await session.scalar(
                select(Case).where(Case.tracking_number == number)
            )
        # An unknown or mistyped number does not lose the message: it becomes a new case.
    return problems, checked


async def route_case(
    ctx: AppContext,
    session: AsyncSession,
    case: Case,
    category: ServiceCategory | None,
    sub: Submission,
) -> Department | None:
    """Ask the ``choose_department`` hook; refuse unknown codes rather than guess."""
    answer = ctx.pm.hook.choose_department(ctx=ctx, case=case, category=category, submission=sub)
    if inspect.isawaitable(answer):
        answer = await answer
    if answer is None:
        return None
    department = await session.scalar(
        select(Department).where(Department.code == str(answer), Department.active.is_(True))
    )
    if department is None:
        log.warning("routing named an unknown department", extra={"department": str(answer)})
    return department


async def _existing(ctx: AppContext, sub: Submission) -> IntakeResult | None:
    if not sub.external_id:
        return None
    async with ctx.db.session() as session:
        row = (
            await session.execute(
                select(Interaction.id, Case.id, Case.tracking_number)
                .join(Case, Case.id == Interaction.case_id)
                .where(
                    Interaction.channel == sub.channel, Interaction.external_id == sub.external_id
                )
            )
        ).first()
    if row is None:
        return None
    return IntakeResult(
        case_id=row[1], tracking_number=row[2], interaction_id=row[0], created=False, duplicate=True
    )


async def _match_citizen(
    session: AsyncSession, sub: Submission, contacts: list[tuple[str, str]], language: str | None
) -> tuple[Citizen | None, dict[tuple[str, str], ContactPoint]]:
    points: dict[tuple[str, str], ContactPoint] = {}
    citizen: Citizen | None = None
    for kind, value in contacts:
        point = await session.scalar(
            select(ContactPoint)
            .where(ContactPoint.kind == kind, ContactPoint.value == value)
            .options(selectinload(ContactPoint.citizen))
        )
        if point is not None:
            points[(kind, value)] = point
            citizen = citizen or point.citizen
    if citizen is None and (contacts or sub.citizen_name):
        citizen = Citizen(name=sub.citizen_name, language=language, flags={})
        session.add(citizen)
        await session.flush()
    elif citizen is not None and sub.citizen_name and not citizen.name:
        citizen.name = sub.citizen_name
    if citizen is not None:
        for kind, value in contacts:
            if (kind, value) not in points:
                point = ContactPoint(citizen_id=citizen.id, kind=kind, value=value)
                session.add(point)
                points[(kind, value)] = point
        await session.flush()
    return citizen, points


async def _new_tracking_number(session: AsyncSession, now: datetime) -> str:
    for _ in range(TRACKING_ATTEMPTS):
        number = tracking.new_tracking_number(now)
        taken = await session.scalar(select(Case.id).where(Case.tracking_number == number))
        if taken is None:
            return number
    raise RuntimeError("could not draw a free tracking number")


async def _write(
    ctx: AppContext,
    session: AsyncSession,
    sub: Submission,
    checked: Checked,
    digests: list[str],
    raw_digest: str | None,
) -> tuple[IntakeResult, list[CaseEventMessage]]:
    now = sub.received_at or utcnow()
    target = checked.target
    if target is not None:
        target = await session.get(Case, target.id)
    language = sub.language or (target.language if target else None)
    citizen, points = await _match_citizen(session, sub, checked.contacts, language)
    if language is None:
        language = (citizen.language if citizen else None) or ctx.settings.default_language
    appending = target is not None and CaseStatus(target.status).is_open
    if appending and target is not None:
        case = target
        events = [
            CaseEvent(
                case_id=case.id,
                action="information_added",
                public=True,
                detail={"channel": sub.channel},
                actor_kind=ActorKind.CITIZEN,
                address=sub.address,
                at=now,
            )
        ]
    else:
        case, events = await _open_case(ctx, session, sub, checked, citizen, language, now)

    first_point = points.get(checked.contacts[0]) if checked.contacts else None
    meta = dict(sub.meta)
    if sub.subject:
        meta.setdefault("subject", sub.subject)
    interaction = Interaction(
        case_id=case.id,
        direction=Direction.IN,
        channel=sub.channel,
        external_id=sub.external_id,
        contact_point_id=first_point.id if first_point else None,
        text=sub.text,
        raw_sha256=raw_digest,
        meta=meta,
        created_at=now,
    )
    session.add(interaction)
    await session.flush()
    for att, digest, kind in zip(sub.attachments, digests, checked.types, strict=True):
        session.add(
            Attachment(
                interaction_id=interaction.id,
                sha256=digest,
                size=len(att.data),
                content_type=kind,
                filename=att.filename,
                created_at=now,
            )
        )
    media = sub.media or MEDIA_BY_CHANNEL.get(sub.channel, Media.WEB_FORM)
    skills = list(sub.skills) or ([checked.category.code] if checked.category else [])
    session.add(
        QueueItem(
            case_id=case.id,
            interaction_id=interaction.id,
            media=media,
            priority=Priority(case.priority).rank,
            skills=skills,
            language=language,
            waiting_since=now,
            updated_at=now,
        )
    )
    session.add_all(events)
    await session.flush()
    result = IntakeResult(
        case_id=case.id,
        tracking_number=case.tracking_number,
        interaction_id=interaction.id,
        created=not appending,
    )
    return result, [CaseEventMessage.of(case, event) for event in events]


async def _open_case(
    ctx: AppContext,
    session: AsyncSession,
    sub: Submission,
    checked: Checked,
    citizen: Citizen | None,
    language: str,
    now: datetime,
) -> tuple[Case, list[CaseEvent]]:
    """A new case: tracking number, deadline, routing; and its first events."""
    target = checked.target  # a closed case this one follows, if any
    location = sub.location
    case = Case(
        tracking_number=await _new_tracking_number(session, now),
        kind=sub.kind,
        category_id=checked.category.id if checked.category else None,
        status=CaseStatus.RECEIVED,
        priority=sub.priority,
        language=language,
        first_channel=sub.channel,
        citizen_id=citizen.id if citizen else None,
        subject=sub.subject,
        description=sub.text,
        location_text=location.text if location else None,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        sealed=sub.kind == CaseKind.DIRECTOR_MAILBOX,
        created_at=now,
        updated_at=now,
    )
    if checked.category is not None:
        case.reply_deadline = deadline(
            now, checked.category.reply_limit, checked.category.reply_limit_unit, ctx.tz
        )
    department = await route_case(ctx, session, case, checked.category, sub)
    case.department_id = department.id if department else None
    session.add(case)
    await session.flush()
    detail = {"channel": sub.channel, "kind": sub.kind}
    if target is not None:
        detail["follows"] = target.tracking_number
    events = [
        CaseEvent(
            case_id=case.id,
            action="received",
            public=True,
            detail=detail,
            actor_kind=ActorKind.CITIZEN,
            address=sub.address,
            at=now,
        )
    ]
    if department is not None:
        events.append(
            CaseEvent(
                case_id=case.id,
                action="routed",
                actor_kind=ActorKind.SYSTEM,
                at=now,
                detail={"department": department.code},
            )
        )
    return case, events


async def receive(ctx: AppContext, sub: Submission) -> IntakeResult:
    """Store one submission as a new case or as an addition to an open one. See module doc."""
    found = await _existing(ctx, sub)
    if found is not None:
        return found
    async with ctx.db.session() as session:
        problems, checked = await check_submission(ctx, session, sub)
    if problems:
        raise IntakeRefused(problems)

    def store_files() -> tuple[list[str], str | None]:
        digests = [ctx.files.put(att.data) for att in sub.attachments]
        return digests, ctx.files.put(sub.raw) if sub.raw is not None else None

    digests, raw_digest = await anyio.to_thread.run_sync(store_files)

    for attempt in range(TRACKING_ATTEMPTS):
        try:
            async with ctx.db.transaction() as session:
                result, messages = await _write(ctx, session, sub, checked, digests, raw_digest)
            break
        except IntegrityError:
            # Another process stored the same (channel, external_id) first, or took the same
            # new contact point or tracking number: the first wins, we read or draw again.
            found = await _existing(ctx, sub)
            if found is not None:
                return found
            if attempt == TRACKING_ATTEMPTS - 1:
                raise
    await ctx.events.deliver(ctx, messages)
    ctx.events.publish({"type": "queue_changed", "case_id": result.case_id}, [QUEUE_CHANNEL])
    return result
