"""Intake's checks before anything is written: the content (sizes, types, the service's own
questions), a tracking number given for a follow-up, and submissions seen before."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from hotline.core.cases import tracking
from hotline.core.cases.contacts import InvalidContact, normalise
from hotline.core.intake.submission import Problem, Submission, text_problems
from hotline.core.reference.calendar import Calendar
from hotline.core.storage.enums import CaseKind, CaseStatus
from hotline.core.storage.files import ALLOWED_TYPES, sniff
from hotline.core.storage.models.cases import Case, Interaction
from hotline.core.storage.models.reference import CalendarDay, Department, ServiceCategory

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

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
