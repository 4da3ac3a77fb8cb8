"""Intake's write, in one transaction: the department a rule names, the citizen matched or made,
the case opened or continued, the interaction with its attachments, the queue item and the
follow-up work, and how the citizen reached us."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, joinedload

from hotline.core.axd.selection import is_priority_citizen
from hotline.core.cases import tracking
from hotline.core.cases.lookup import lookup_code
from hotline.core.cases.transcripts import JOB as TRANSCRIBE_JOB
from hotline.core.cases.transcripts import transcribe_key
from hotline.core.delivery.events import CaseEventMessage
from hotline.core.intake.routing import Route
from hotline.core.intake.submission import Submission
from hotline.core.people.office import notify_office
from hotline.core.reference.deadlines import deadline
from hotline.core.storage import outbox
from hotline.core.storage.enums import (
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
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import (
    Attachment,
    Case,
    CaseEvent,
    Citizen,
    ContactPoint,
    Interaction,
)
from hotline.core.storage.models.reference import Department, ServiceCategory

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext
from hotline.core.intake.checks import IntakeResult

if TYPE_CHECKING:
    from hotline.core.intake.checks import Checked

log = logging.getLogger("hotline.intake")


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
