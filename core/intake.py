"""The one intake: every channel turns its input into a ``Submission`` and calls ``receive``.

``receive`` checks everything first (``check_submission``: every problem, nothing stored), then
stores attachment bytes, asks the routing plugins, then writes citizen, case, interaction, queue
item and events in one transaction, with the follow-up work they call for (the jobs that
follow its events, such as the acknowledgement; a transcription: ``core/outbox.py``), then
tells plugins and screens after commit. It is
idempotent on ``(channel, external_id)``: a re-poll, a gateway retry or a double click returns
the first result, and writes any follow-up work the first one lacks (``followups.reconcile``).

The database work is plain ORM code run as two units through ``Database.run`` (one read, one
write), so SQLite does it in two thread hops rather than two per statement.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from hotline.core import outbox, tracking
from hotline.core.actions import ActionRefused
from hotline.core.actors import SYSTEM
from hotline.core.axd import is_priority_citizen
from hotline.core.calendar import Calendar
from hotline.core.contacts import InvalidContact, normalise
from hotline.core.context import AppContext
from hotline.core.deadlines import deadline
from hotline.core.enums import (
    MEDIA_BY_CHANNEL,
    ActorKind,
    CaseKind,
    CaseStatus,
    Channel,
    ContactKind,
    Direction,
    LimitUnit,
    Media,
    Priority,
    Satisfaction,
)
from hotline.core.events import QUEUE_CHANNEL, CaseEventMessage
from hotline.core.followups import reconcile
from hotline.core.lookup import lookup_code
from hotline.core.models import (
    Attachment,
    CalendarDay,
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
from hotline.core.office import notify_office
from hotline.core.routing import Route, route_case
from hotline.core.storage import ALLOWED_TYPES, sniff
from hotline.core.submission import IntakeRefused, Problem, Submission, text_problems
from hotline.core.transcripts import JOB as TRANSCRIBE_JOB
from hotline.core.transcripts import transcribe_key
from hotline.core.workflow import do_dispatch

log = logging.getLogger("hotline.intake")

TRACKING_ATTEMPTS = 5


@dataclass
class Checked:
    """What ``check_submission`` learnt, so the write does not look it up again."""

    contacts: list[tuple[str, str]] = field(default_factory=list)
    category: ServiceCategory | None = None
    target: Case | None = None
    types: list[str] = field(default_factory=list)
    department: Department | None = None
    calendar: Calendar | None = None


@dataclass
class IntakeResult:
    case_id: int
    tracking_number: str
    interaction_id: int
    created: bool
    duplicate: bool = False
    lookup_code: str | None = None  # the second factor of a new case, for the citizen only


def _check_content(ctx: AppContext, sub: Submission, checked: Checked) -> list[Problem]:
    """Problems visible without the database: text, contacts, attachments."""
    settings = ctx.settings
    problems: list[Problem] = text_problems(sub)
    if len(sub.text) > settings.max_text_chars:
        problems.append(
            Problem(
                field="text",
                code="too_long",
                message=f"text has {len(sub.text)} characters; at most {settings.max_text_chars}",
            )
        )
    said_nothing = not sub.text.strip() and not sub.attachments and not sub.subject.strip()
    if said_nothing and sub.rating is None:
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
    return problems


def _look_up(
    session: Session, sub: Submission
) -> tuple[IntakeResult | None, ServiceCategory | None, Case | None, dict[date, bool]]:
    """Read unit: an earlier intake of the same message, the category, the named case, and
    the administrator's calendar days (for the answer's deadline)."""
    duplicate = _existing(session, sub)
    if duplicate is not None:
        return duplicate, None, None, {}
    category = None
    if sub.category:
        category = session.scalar(
            select(ServiceCategory)
            .where(ServiceCategory.code == sub.category, ServiceCategory.active.is_(True))
            .options(joinedload(ServiceCategory.default_department))
        )
    target = None
    if sub.tracking_number:
        number = tracking.clean(sub.tracking_number)
        # An unknown or mistyped number does not lose the message: it becomes a new case.
        if tracking.is_valid(number):
            target = session.scalar(select(Case).where(Case.tracking_number == number))
    # Working days for the answer's deadline: a service's, or the director's mailbox's.
    timed = category is not None or sub.kind == CaseKind.DIRECTOR_MAILBOX
    days = {d.day: d.working for d in session.scalars(select(CalendarDay))} if timed else {}
    return None, category, target, days


def _existing(session: Session, sub: Submission) -> IntakeResult | None:
    if not sub.external_id:
        return None
    row = session.execute(
        select(Interaction.id, Case.id, Case.tracking_number)
        .join(Case, Case.id == Interaction.case_id)
        .where(Interaction.channel == sub.channel, Interaction.external_id == sub.external_id)
    ).first()
    if row is None:
        return None
    return IntakeResult(
        case_id=row[1], tracking_number=row[2], interaction_id=row[0], created=False, duplicate=True
    )


def _first_of(session: Session, channel: str, external_ids: list[str]) -> str | None:
    found = session.scalars(
        select(Interaction.external_id).where(
            Interaction.channel == channel, Interaction.external_id.in_(external_ids)
        )
    ).first()
    return found


async def find_intake(ctx: AppContext, channel: str, external_ids: list[str]) -> str | None:
    """Which of these external ids a channel already delivered, if any (for channels whose
    duplicates are "the same thing within a window" rather than one fixed id)."""
    return await ctx.db.run(lambda session: _first_of(session, channel, external_ids), write=False)


def check_content(ctx: AppContext, sub: Submission) -> list[Problem]:
    """What intake would refuse without looking at the database (for channels that gather
    their own problems first and want to show every one at once)."""
    return _check_content(ctx, sub, Checked())


async def check_submission(
    ctx: AppContext, sub: Submission
) -> tuple[IntakeResult | None, list[Problem], Checked]:
    """An earlier intake of the same message, or every reason to refuse ``sub`` (empty when it
    may be stored), and what was learnt on the way."""
    checked = Checked()
    unreadable = text_problems(sub)
    if unreadable:  # not text: refused before any query, alike on SQLite and PostgreSQL
        return None, unreadable, checked
    problems = _check_content(ctx, sub, checked)
    duplicate, checked.category, checked.target, days = await ctx.db.run(
        lambda session: _look_up(session, sub), write=False
    )
    if checked.category is not None or sub.kind == CaseKind.DIRECTOR_MAILBOX:
        checked.calendar = Calendar(days, ctx.settings.holidays_country)
    if duplicate is not None:
        return duplicate, [], checked
    if sub.category and checked.category is None:
        problems.append(
            Problem(
                field="category",
                code="unknown_category",
                message=f"no service category {sub.category!r}",
            )
        )
    if sub.rating is not None:
        target = checked.target
        if target is None:
            problems.append(
                Problem(field="tracking_number", code="unknown_case", message="no such case")
            )
        elif target.status not in (CaseStatus.ANSWERED, CaseStatus.CLOSED):
            problems.append(
                Problem(
                    field="rating",
                    code="not_answered",
                    message="the case can be rated once it has been answered",
                )
            )
    return None, problems, checked


def _department_id(
    session: Session, code: str | None, category: ServiceCategory | None
) -> int | None:
    """The id of an active department by code (the category's default is known already).
    Ids, not objects: objects from the read unit must not join the write unit's session."""
    if code is None:
        return None
    known = category.default_department if category else None
    if known is not None and known.code == code and known.active:
        return known.id
    found = session.scalar(
        select(Department.id).where(Department.code == code, Department.active.is_(True))
    )
    if found is None:
        log.warning("routing named an unknown department", extra={"department": code})
    return found


def _match_citizen(
    session: Session, sub: Submission, contacts: list[tuple[str, str]], language: str | None
) -> tuple[Citizen | None, dict[tuple[str, str], ContactPoint]]:
    points: dict[tuple[str, str], ContactPoint] = {}
    if contacts:
        found = session.scalars(
            select(ContactPoint)
            .where(tuple_(ContactPoint.kind, ContactPoint.value).in_(contacts))
            .options(joinedload(ContactPoint.citizen))
        )
        points = {(p.kind, p.value): p for p in found}
    citizen = next((points[c].citizen for c in contacts if c in points), None)
    if citizen is None and (contacts or sub.citizen_name):
        citizen = Citizen(name=sub.citizen_name, language=language, flags={})
        session.add(citizen)
    elif citizen is not None and sub.citizen_name and not citizen.name:
        citizen.name = sub.citizen_name
    if citizen is not None:
        for kind, value in contacts:
            if (kind, value) not in points:
                points[(kind, value)] = ContactPoint(citizen=citizen, kind=kind, value=value)
                session.add(points[(kind, value)])
    return citizen, points


def _open_case(
    ctx: AppContext,
    sub: Submission,
    checked: Checked,
    citizen: Citizen | None,
    language: str,
    now: datetime,
) -> Case:
    """A new case, not yet routed or stored."""
    location = sub.location
    case = Case(
        tracking_number=tracking.new_tracking_number(now),
        kind=sub.kind,
        category_id=checked.category.id if checked.category else None,
        status=CaseStatus.RECEIVED,
        priority=sub.priority,
        language=language,
        first_channel=sub.channel,
        citizen=citizen,
        subject=sub.subject,
        description=sub.text,
        location_text=location.text if location else None,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        sealed=sub.kind == CaseKind.DIRECTOR_MAILBOX,
        contact_hidden=sub.contact_hidden,
        created_at=now,
        updated_at=now,
    )
    if checked.category is not None:
        case.reply_deadline = deadline(
            now,
            checked.category.reply_limit,
            checked.category.reply_limit_unit,
            ctx.tz,
            checked.calendar,
        )
    elif case.sealed:  # a letter to the director has no service, but a deadline all the same
        case.reply_deadline = deadline(
            now, ctx.settings.director_reply_days, LimitUnit.WORKING_DAYS, ctx.tz, checked.calendar
        )
    return case


def _write(
    session: Session,
    ctx: AppContext,
    sub: Submission,
    checked: Checked,
    route: Route | None,
    digests: list[str],
    raw_digest: str | None,
) -> tuple[IntakeResult, list[CaseEventMessage]]:
    """Write unit: citizen, contact points, case (or addition), interaction, attachments, queue
    item and events, flushed together in one transaction."""
    now = sub.received_at or utcnow()
    target = session.get(Case, checked.target.id) if checked.target is not None else None
    language = sub.language or (target.language if target else None)
    citizen, points = _match_citizen(session, sub, checked.contacts, language)
    if language is None:
        language = (citizen.language if citizen else None) or ctx.settings.default_language
    citizen_event = {"actor_kind": ActorKind.CITIZEN, "address": sub.address, "at": now}

    appending = target is not None and (CaseStatus(target.status).is_open or sub.rating is not None)
    if appending and target is not None:
        case = target
        if sub.rating is not None:
            events = _rate(ctx, case, sub, now, citizen_event)
        else:
            case.info_requested = False
            events = [
                CaseEvent(
                    case=case,
                    action="information_added",
                    public=True,
                    detail={"channel": sub.channel},
                    **citizen_event,
                )
            ]
    else:
        case = _open_case(ctx, sub, checked, citizen, language, now)
        case.department_id = _department_id(
            session, route.department if route else None, checked.category
        )
        detail = {"channel": sub.channel, "kind": sub.kind}
        if target is not None:
            detail["follows"] = target.tracking_number
        events = [
            CaseEvent(case=case, action="received", public=True, detail=detail, **citizen_event)
        ]
        if case.department_id is not None and route is not None:
            case.route_reason = route.reason[:300]
            events.append(
                CaseEvent(
                    case=case,
                    action="routed",
                    actor_kind=ActorKind.SYSTEM,
                    at=now,
                    detail={"department": route.department, "reason": route.reason},
                )
            )
        session.add(case)

    meta = dict(sub.meta)
    if sub.subject:
        meta.setdefault("subject", sub.subject)
    interaction = Interaction(
        case=case,
        direction=Direction.IN,
        channel=sub.channel,
        external_id=sub.external_id,
        contact_point=_reached_by(sub.channel, checked.contacts, points),
        text=sub.text,
        raw_sha256=raw_digest,
        meta=meta,
        created_at=now,
    )
    session.add(interaction)
    for att, digest, kind in zip(sub.attachments, digests, checked.types, strict=True):
        session.add(
            Attachment(
                interaction=interaction,
                sha256=digest,
                size=len(att.data),
                content_type=kind,
                filename=att.filename,
                created_at=now,
            )
        )
    if not case.sealed:  # a letter to the director never enters the agents' queue
        media = sub.media or MEDIA_BY_CHANNEL.get(sub.channel, Media.WEB_FORM)
        skills = list(sub.skills) or ([checked.category.code] if checked.category else [])
        # A priority citizen (flagged by staff, or contacting again and again) is served first.
        boost = (
            1
            if citizen is not None
            and citizen.id is not None
            and is_priority_citizen(session, citizen, now, ctx.settings.axd_repeat_contacts)
            else 0
        )
        session.add(
            QueueItem(
                case=case,
                interaction=interaction,
                media=media,
                priority=Priority(case.priority).rank + boost,
                skills=skills,
                language=language,
                waiting_since=now,
                updated_at=now,
            )
        )
    session.add_all(events)
    session.flush()
    if case.sealed:
        # A letter to the director (or more from its writer) goes to the director's office
        # alone, never to the agents' queue: the office is told in its message centre.
        kind = "letter_added" if appending else "letter_received"
        notify_office(session, kind, case_id=case.id, number=case.tracking_number, at=now)
    if any(kind.startswith("audio/") for kind in checked.types):
        # follow-up work, in this transaction: transcribed even if we die right after commit
        outbox.add(
            session,
            TRANSCRIBE_JOB,
            key=transcribe_key(interaction.id),
            args={"interaction_id": interaction.id},
            case_id=case.id,
        )
    result = IntakeResult(
        case_id=case.id,
        tracking_number=case.tracking_number,
        interaction_id=interaction.id,
        created=not appending,
        lookup_code=None if appending else lookup_code(ctx.secret_key, case.tracking_number),
    )
    return result, [CaseEventMessage.of(case, event) for event in events]


# The contact kind a message came through, for channels that have one: answers go back there.
CHANNEL_CONTACT = {
    Channel.EMAIL: ContactKind.EMAIL,
    Channel.SMS: ContactKind.PHONE,
    Channel.PHONE: ContactKind.PHONE,
    Channel.VOICEMAIL: ContactKind.PHONE,
    Channel.FAX: ContactKind.FAX,
    Channel.TELEGRAM: ContactKind.TELEGRAM,
    Channel.WEBCHAT: ContactKind.WEBCHAT,
}


def _reached_by(
    channel: str, contacts: list[tuple[str, str]], points: dict[tuple[str, str], ContactPoint]
) -> ContactPoint | None:
    """The message's contact point: the one of its channel's kind, else the first given (on the
    portal, the way the citizen asked to be answered)."""
    kind = CHANNEL_CONTACT.get(Channel(channel)) if channel in set(Channel) else None
    chosen = next((c for c in contacts if c[0] == kind), contacts[0] if contacts else None)
    return points.get(chosen) if chosen else None


def _rate(
    ctx: AppContext, case: Case, sub: Submission, now: datetime, citizen_event: dict[str, Any]
) -> list[CaseEvent]:
    """The citizen's evaluation; "not satisfied" within the allowed days asks for a reopen."""
    assert sub.rating is not None
    case.satisfaction = sub.rating.satisfaction
    if case.status == CaseStatus.ANSWERED:  # the evaluation closes the answered case (办结)
        case.status, case.closed_at = CaseStatus.CLOSED, now
    events = [
        CaseEvent(
            case=case,
            action="rated",
            public=True,
            detail={"satisfaction": str(sub.rating.satisfaction)},
            **citizen_event,
        )
    ]
    answered = case.answered_at or case.closed_at or case.updated_at
    in_time = now - answered <= timedelta(days=ctx.settings.reopen_days)
    if sub.rating.satisfaction == Satisfaction.NOT_SATISFIED and in_time:
        events.append(
            CaseEvent(case=case, action="reopen_requested", public=True, detail={}, **citizen_event)
        )
    return events


async def receive(ctx: AppContext, sub: Submission) -> IntakeResult:
    """Store one submission as a new case or as an addition to an open one. See module doc."""
    duplicate, problems, checked = await check_submission(ctx, sub)
    if duplicate is not None:
        # a retry: whatever should have followed the first (its acknowledgement) exists
        await reconcile(ctx, case_id=duplicate.case_id)
        return duplicate
    if problems:
        raise IntakeRefused(problems)

    def store_files() -> tuple[list[str], str | None]:
        digests = [ctx.files.put(att.data) for att in sub.attachments]
        return digests, ctx.files.put(sub.raw) if sub.raw is not None else None

    if sub.attachments or sub.raw is not None:
        digests, raw_digest = await anyio.to_thread.run_sync(store_files)
    else:
        digests, raw_digest = [], None

    route = None
    if checked.target is None or not CaseStatus(checked.target.status).is_open:
        draft = _open_case(
            ctx,
            sub,
            checked,
            None,
            sub.language or ctx.settings.default_language,
            sub.received_at or utcnow(),
        )
        route = await route_case(ctx, draft, checked.category, sub)

    for attempt in range(TRACKING_ATTEMPTS):
        try:
            result, messages = await ctx.db.run(
                lambda session: _write(session, ctx, sub, checked, route, digests, raw_digest),
                write=True,
            )
            break
        except IntegrityError:
            # Another process stored the same (channel, external_id) first, or took the same
            # new contact point or tracking number: the first wins; we read or draw again.
            found = await ctx.db.run(lambda session: _existing(session, sub), write=False)
            if found is not None:
                await reconcile(ctx, case_id=found.case_id)
                return found
            if attempt == TRACKING_ATTEMPTS - 1:
                raise
    await ctx.events.deliver(ctx, messages)
    ctx.events.publish({"type": "queue_changed", "case_id": result.case_id}, [QUEUE_CHANNEL])
    if result.created and route is not None and checked.category is not None:
        if checked.category.auto_dispatch:
            await _dispatch_automatically(ctx, result, route)
    return result


async def _dispatch_automatically(ctx: AppContext, result: IntakeResult, route: Route) -> None:
    """The administrator chose automatic dispatch for the category: the suggestion goes out.
    A refusal (the department was switched off meanwhile) leaves the case for an agent."""
    try:
        await do_dispatch(ctx, result.case_id, route.department, SYSTEM)
    except ActionRefused as exc:
        log.warning("automatic dispatch refused", extra={"reason": str(exc)})
