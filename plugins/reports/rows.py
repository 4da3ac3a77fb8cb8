"""The rows of an export: read from the database in chunks by keyset (the source's key, after
the last one read), never the whole result at once; each chunk turned into the cells people read
(labels in their language, local times), the citizen's name and contacts only when allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from hotline.core.reference import labels
from hotline.core.reference.labels import N_
from hotline.core.storage.db import Database
from hotline.core.storage.models.cases import Case, Citizen, ContactPoint
from hotline.core.storage.models.reference import Department, ServiceCategory
from hotline.core.storage.models.workflow import Assignment

from .lists import Source

CHUNK = 2000

HEADERS = (
    N_("Case"),
    N_("Received at"),
    N_("Kind"),
    N_("Status"),
    N_("Channel"),
    N_("Category"),
    N_("Department"),
    N_("Subject"),
    N_("Answer due by"),
    N_("Overdue"),
    N_("Closed at"),
)
PERSONAL_HEADERS = (N_("Citizen"), N_("Contact details"))


def headers(personal: bool) -> tuple[str, ...]:
    return HEADERS + PERSONAL_HEADERS if personal else HEADERS


def contacts_of_citizen(dialect: str) -> Any:
    """The citizen's contact values in one cell, joined by "; ", in the order they were added."""
    if dialect == "postgresql":
        joined = func.string_agg(
            ContactPoint.value, aggregate_order_by(literal("; "), ContactPoint.id)
        )
    else:  # SQLite keeps the rows' order, read here by the id
        joined = func.group_concat(ContactPoint.value, "; ")
    return (
        select(joined)
        .where(ContactPoint.citizen_id == Case.citizen_id)
        .correlate(Case)
        .scalar_subquery()
    )


def statement(source: Source, *, zh: bool, personal: bool, dialect: str = "sqlite") -> Select[Any]:
    """The export's query without its chunking: the key first, then the cells' columns."""
    columns: list[Any] = [
        source.key,
        Case.tracking_number,
        Case.created_at,
        Case.kind,
        Case.status,
        Case.first_channel,
        ServiceCategory.name_zh if zh else ServiceCategory.name_en,
        Department.name_zh if zh else Department.name_en,
        Case.subject,
        Case.reply_deadline,
        Case.overdue,
        Case.closed_at,
    ]
    if personal:
        columns += [Citizen.name, contacts_of_citizen(dialect)]
    query = select(*columns)
    if source.via_assignment:
        query = query.select_from(Assignment).join(Case, Case.id == Assignment.case_id)
    else:
        query = query.select_from(Case)
    for target, on in source.joins:
        query = query.join(target, on)
    query = query.outerjoin(ServiceCategory, ServiceCategory.id == Case.category_id).outerjoin(
        Department, Department.id == Case.department_id
    )
    if personal:
        query = query.outerjoin(Citizen, Citizen.id == Case.citizen_id)
    # the sealed rule holds whatever a list's own filters say
    query = query.where(Case.sealed.is_(source.sealed), *source.conditions)
    return query


def count_statement(source: Source) -> Select[Any]:
    query = select(func.count()).select_from(Case)
    if source.via_assignment:
        query = (
            select(func.count()).select_from(Assignment).join(Case, Case.id == Assignment.case_id)
        )
    for target, on in source.joins:
        query = query.join(target, on)
    return query.where(Case.sealed.is_(source.sealed), *source.conditions)


async def count(db: Database, source: Source) -> int:
    query = count_statement(source)
    return int(await db.run(lambda s: s.scalar(query), write=False) or 0)


def _chunk(query: Select[Any], source: Source, after: Any) -> Callable[[Session], list[Any]]:
    if after is not None:
        query = query.where(source.key > after if source.ascending else source.key < after)
    key = source.key.asc() if source.ascending else source.key.desc()
    query = query.order_by(key).limit(CHUNK)

    def read(session: Session) -> list[Any]:
        # plain rows: no ORM loading for mere columns
        return list(session.connection().execute(query).all())

    return read


async def chunks(
    db: Database, source: Source, *, zh: bool, personal: bool
) -> AsyncIterator[list[Any]]:
    """The raw rows, ``CHUNK`` at a time, each chunk one short read transaction."""
    query = statement(source, zh=zh, personal=personal, dialect=db.dialect)
    after: Any = None
    while True:
        found = await db.run(_chunk(query, source, after), write=False)
        if not found:
            return
        yield found
        if len(found) < CHUNK:
            return
        after = found[-1][0]


class Cells:
    """Turns raw rows into what a person reads, in one language (labels translated once)."""

    def __init__(
        self, zone: tzinfo, gettext: Callable[[str], str], personal: bool, *, zh: bool = False
    ) -> None:
        self.zone, self.personal, self.zh = zone, personal, zh  # zh: names in Chinese
        self._kinds = {k: gettext(v) for k, v in labels.KIND.items()}
        self._statuses = {k: gettext(v) for k, v in labels.STATUS.items()}
        self._media = {k: gettext(v) for k, v in labels.MEDIA.items()}
        self._yes, self._no = gettext("Yes"), gettext("No")

    def _time(self, value: datetime | None) -> str:
        return value.astimezone(self.zone).isoformat(" ", "minutes")[:16] if value else ""

    def rows(self, found: list[Any]) -> list[list[str]]:
        out = []
        for row in found:
            cells = [
                row[1],
                self._time(row[2]),
                self._kinds.get(row[3], row[3]),
                self._statuses.get(row[4], row[4]),
                self._media.get(row[5], row[5]),
                row[6] or "",
                row[7] or "",
                row[8] or "",
                self._time(row[9]),
                self._yes if row[10] else self._no,
                self._time(row[11]),
            ]
            if self.personal:
                cells += [row[12] or "", row[13] or ""]
            out.append(cells)
        return out
