"""Cases opened, broken down in the ways a case records only indirectly, and over time:

- per *district* and per *agent* (who took the contact that opened the case), as
  ``core.cases.attribution`` defines them for the case list too; cases under none: "";
- per *day* since a period's start, for the series over time (folded into weeks or months by
  the report);
- per channel, kind, department and service at once (``intake_cube``), sealed letters apart:
  one pass over a period's cases gives the report every standard breakdown and the total.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.cases.attribution import district_names, district_of, first_contact
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case

from .casework import INTAKE_FIELDS
from .period import Period, at, dialect_of, seconds, whole
from .scope import EVERYTHING, Scope

CUBE = ("channel", "kind", "department", "category")
Cube = dict[tuple[str, str, str, str, bool], int]  # (channel, kind, department, category, sealed)


async def intake_cube(session: AsyncSession, period: Period, scope: Scope = EVERYTHING) -> Cube:
    """Cases opened in ``period`` per channel, kind, department and service, and whether
    sealed (keys as ``intake_by`` gives them: "" for none)."""
    columns = [INTAKE_FIELDS[name] for name in CUBE]
    rows = await session.execute(
        select(*columns, Case.sealed, func.count())
        .where(period.holds(Case.created_at), scope.cases())
        .group_by(*columns, Case.sealed)
    )
    cube: Cube = {}
    for *keys, sealed, n in rows:
        text = [str(k) if k is not None else "" for k in keys]
        key = (text[0], text[1], text[2], text[3], bool(sealed))
        cube[key] = cube.get(key, 0) + int(n)
    return cube


def from_cube(cube: Cube, by: str, *, listed: bool = True) -> dict[str, int]:
    """One breakdown of ``intake_cube``'s counts; ``listed``: without the sealed letters."""
    index = CUBE.index(by)
    found: dict[str, int] = {}
    for key, n in cube.items():
        if not (listed and key[4]):
            part = str(key[index])
            found[part] = found.get(part, 0) + n
    return found


async def _grouped(session: AsyncSession, query: Any) -> list[tuple[Any, int]]:
    """``query`` (one column, ``k``) counted per value; grouped outside it, so that the key's
    bound values are written once (PostgreSQL compares GROUP BY expressions as written)."""
    inner = query.subquery()
    rows = await session.execute(select(inner.c.k, func.count()).group_by(inner.c.k))
    return [(k, int(n)) for k, n in rows]


async def intake_by_district(
    session: AsyncSession, period: Period, *, listed: bool = False, scope: Scope = EVERYTHING
) -> dict[str, int]:
    """Cases opened in ``period`` per district (see the module); ``listed``: without the
    director's sealed letters."""
    names = await district_names(session)
    query = select(district_of(names).label("k")).where(
        period.holds(Case.created_at), scope.cases()
    )
    if listed:
        query = query.where(Case.sealed.is_(False))
    return {(names[int(k) - 1] if k else ""): n for k, n in await _grouped(session, query)}


async def intake_by_agent(
    session: AsyncSession, period: Period, *, listed: bool = False, scope: Scope = EVERYTHING
) -> dict[str, int]:
    """Cases opened in ``period`` per agent who took their first contact (user id as text).
    The first contact is looked up per case (on the queue items' case index), not grouped over
    every queue item."""
    first = first_contact()
    query = (
        select(func.coalesce(QueueItem.agent_id, 0).label("k"))
        .select_from(Case)
        .outerjoin(QueueItem, QueueItem.id == first)
        .where(period.holds(Case.created_at), scope.cases())
    )
    if listed:
        query = query.where(Case.sealed.is_(False))
    return {(str(k) if k else ""): n for k, n in await _grouped(session, query)}


async def intake_per_day(
    session: AsyncSession, period: Period, scope: Scope = EVERYTHING
) -> list[int]:
    """Cases opened on each day of ``period`` (24-hour steps from its start), sealed letters
    included, as in the headline count."""
    dialect = dialect_of(session)
    day = whole(seconds(Case.created_at, at(period.start), dialect) / 86400.0, dialect)
    days = max(1, round((period.end - period.start).total_seconds() / 86400))
    counts = [0] * days
    query = select(day.label("k")).where(period.holds(Case.created_at), scope.cases())
    for index, n in await _grouped(session, query):
        counts[min(max(int(index), 0), days - 1)] += n
    return counts
