"""Citizens' records for staff: search by name, phone, e-mail or tracking number; edit; merge two
records of the same person (their cases and contact points follow). Every search, read and
change is written to the audit (``AuditEntry``): who, when, from where, which record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases import tracking
from hotline.core.cases.contacts import InvalidContact, normalise
from hotline.core.people.audit import audit
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ContactKind
from hotline.core.storage.models.cases import Case, Citizen, ContactPoint
from hotline.core.storage.paging import Page, Sort, keyset_page

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

PRIORITY_FLAGS = ("elderly", "disabled", "other")  # why a citizen is served first
LIMIT = 50


def letter_writer_only() -> Any:
    """Citizens known only as writers of letters to the director: no other case of theirs.
    Outside the director's office such a record does not show at all (its contacts and its
    very existence would tell that they wrote to the director)."""
    return Citizen.id.in_(select(Case.citizen_id).where(Case.sealed.is_(True))) & ~Citizen.id.in_(
        select(Case.citizen_id).where(Case.sealed.is_(False), Case.citizen_id.is_not(None))
    )


class CitizenRefused(Exception):
    """The change is not possible; nothing was written."""


@dataclass(frozen=True)
class Found:
    citizen: Citizen
    contacts: list[ContactPoint]
    cases: int


def _query_kind(query: str) -> tuple[str, Any]:
    """What the staff member typed: a tracking number, an e-mail, a phone, or a name."""
    text = query.strip()
    digits = tracking.clean(text)
    if tracking.is_valid(digits):
        return "tracking_number", digits
    if "@" in text:
        return "email", text.lower()
    if digits.lstrip("+").isdigit() and len(digits.lstrip("+")) >= 4:
        try:
            return "phone", normalise(ContactKind.PHONE, digits)
        except InvalidContact:
            return "phone_part", digits.lstrip("+")
    return "name", text


async def search(
    ctx: AppContext, query: str, actor: Actor, *, after: str | None = None, size: int = LIMIT
) -> Page[Found]:
    """One page of the citizens matching ``query`` (by record number), with the total; the
    search is audited."""
    if not query.strip():
        return Page([], 0, None)
    by, value = _query_kind(query)
    async with ctx.db.transaction() as session:
        if by == "tracking_number":
            where: Any = Citizen.id.in_(
                select(Case.citizen_id).where(Case.tracking_number == value, Case.sealed.is_(False))
            )
        elif by == "email":
            where = Citizen.id.in_(
                select(ContactPoint.citizen_id).where(
                    ContactPoint.kind == ContactKind.EMAIL, func.lower(ContactPoint.value) == value
                )
            )
        elif by in ("phone", "phone_part"):
            where = Citizen.id.in_(
                select(ContactPoint.citizen_id).where(
                    ContactPoint.kind == ContactKind.PHONE,
                    ContactPoint.value == value
                    if by == "phone"
                    else ContactPoint.value.contains(value, autoescape=True),
                )
            )
        else:
            where = Citizen.name.contains(value, autoescape=True)
        page = await keyset_page(
            session,
            select(Citizen).where(where, ~letter_writer_only()),
            Sort(Citizen.id, Citizen.id, ascending=True),
            after=after,
            size=size,
        )
        citizens = page.scalars()
        found = await _found(session, citizens) if citizens else []
        audit(session, actor, "citizen_search", None, by=by, found=page.total)
    return Page(found, page.total, page.after, page.first, page.size)


async def _found(session: AsyncSession, citizens: list[Citizen]) -> list[Found]:
    """Each citizen with their contact points and number of cases: two queries for them all."""
    ids = [c.id for c in citizens]
    contacts: dict[int, list[ContactPoint]] = {i: [] for i in ids}
    for point in await session.scalars(
        select(ContactPoint).where(ContactPoint.citizen_id.in_(ids)).order_by(ContactPoint.id)
    ):
        contacts[point.citizen_id].append(point)
    counts = dict(
        (
            await session.execute(
                select(Case.citizen_id, func.count())
                .where(Case.citizen_id.in_(ids), Case.sealed.is_(False))
                .group_by(Case.citizen_id)
            )
        ).all()
    )
    return [Found(c, contacts[c.id], int(counts.get(c.id, 0))) for c in citizens]


async def read(
    ctx: AppContext, citizen_id: int, actor: Actor, *, after: str | None = None
) -> tuple[Found, Page[Case]] | None:
    """One citizen's record and a page of their cases (not the sealed ones), newest first;
    audited."""
    async with ctx.db.transaction() as session:
        citizen = await session.scalar(
            select(Citizen).where(Citizen.id == citizen_id, ~letter_writer_only())
        )
        if citizen is None:
            return None
        (found,) = await _found(session, [citizen])
        cases = await keyset_page(
            session,
            select(Case).where(Case.citizen_id == citizen_id, Case.sealed.is_(False)),
            Sort(Case.created_at, Case.id),
            after=after,
        )
        cases = Page(cases.scalars(), cases.total, cases.after, cases.first, cases.size)
        audit(session, actor, "citizen_read", citizen_id)
    return found, cases


async def edit(
    ctx: AppContext,
    citizen_id: int,
    actor: Actor,
    *,
    name: str | None,
    language: str | None,
    priority: str | None,
) -> None:
    """Correct the name, the language answers are written in, and the priority flag."""
    if name is not None and len(name) > 200:
        raise CitizenRefused("the name is longer than 200 characters")
    if language not in (None, "zh_CN", "en"):
        raise CitizenRefused("unknown language")
    if priority not in (None, *PRIORITY_FLAGS):
        raise CitizenRefused("unknown priority reason")
    async with ctx.db.transaction() as session:
        citizen = await session.scalar(
            select(Citizen).where(Citizen.id == citizen_id, ~letter_writer_only()).with_for_update()
        )
        if citizen is None:
            raise CitizenRefused("no such citizen")
        flags = dict(citizen.flags)
        if priority:
            flags["priority"] = priority
        else:
            flags.pop("priority", None)
        wanted = {"name": name or None, "language": language, "flags": flags}
        changed = [field for field, value in wanted.items() if getattr(citizen, field) != value]
        for field in changed:
            setattr(citizen, field, wanted[field])
        audit(session, actor, "citizen_edit", citizen_id, fields=changed)


async def merge(ctx: AppContext, keep_id: int, other_id: int, actor: Actor) -> int:
    """Two records of the same person become one: ``other``'s cases and contact points move to
    ``keep``, its name and flags fill what ``keep`` lacks, and ``other`` is removed. All or
    nothing. Returns how many cases moved."""
    if keep_id == other_id:
        raise CitizenRefused("a record cannot be merged with itself")
    async with ctx.db.transaction() as session:
        visible = select(Citizen).where(~letter_writer_only())
        keep = await session.scalar(visible.where(Citizen.id == keep_id).with_for_update())
        other = await session.scalar(visible.where(Citizen.id == other_id).with_for_update())
        if keep is None or other is None:
            raise CitizenRefused("no such citizen")
        # the letters to the director move with their writer, but are not counted here
        moved = await session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.citizen_id == other_id, Case.sealed.is_(False))
        )
        await session.execute(
            update(Case).where(Case.citizen_id == other_id).values(citizen_id=keep_id)
        )
        await session.execute(
            update(ContactPoint)
            .where(ContactPoint.citizen_id == other_id)
            .values(citizen_id=keep_id)
        )
        keep.name = keep.name or other.name
        keep.language = keep.language or other.language
        keep.flags = {**other.flags, **keep.flags}
        await session.flush()
        await session.delete(other)
        audit(session, actor, "citizen_merge", keep_id, merged=other_id, cases=int(moved or 0))
    return int(moved or 0)


async def opt_out(ctx: AppContext, kind: str, value: str) -> bool:
    """The citizen asked (STOP, 退订) that nothing more be sent to this contact point: later
    messages to it are recorded as not sent. False when the hotline does not know it."""
    try:
        value = normalise(kind, value, ctx.settings.default_region)
    except InvalidContact:
        return False
    async with ctx.db.transaction() as session:
        point = await session.scalar(
            select(ContactPoint).where(ContactPoint.kind == kind, ContactPoint.value == value)
        )
        if point is None:
            return False
        point.opted_out = True
        return True
