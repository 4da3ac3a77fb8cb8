"""What a case is counted under besides its own columns, for reports and the case list alike:

- its *district*: cases record no district of their own, only the place the citizen gave
  (``location_text``); the administrator's district routing rules name the districts. A case
  is under the first active district rule whose words its place holds, in the rules' order (as
  routing reads them); under none when no rule's words are there;
- its *agent*: who took the contact that opened it (its first queue item); none when no agent
  took it (a web form answered in self-service, an abandoned call).

One definition, so that a report's number and the case list it links to count the same cases.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import RoutingRule

DISTRICT = "district"


async def district_names(session: AsyncSession) -> list[str]:
    """The districts the active district rules name, in the order routing reads them, each once
    (as written, compared without case)."""
    rows = await session.scalars(
        select(RoutingRule.pattern)
        .where(RoutingRule.kind == DISTRICT, RoutingRule.active.is_(True))
        .order_by(RoutingRule.position, RoutingRule.id)
    )
    names: dict[str, str] = {}
    for pattern in rows:
        if pattern.strip():
            names.setdefault(pattern.strip().lower(), pattern.strip())
    return list(names.values())


def district_of(names: list[str]) -> Any:
    """The number of the case's district in ``names``, from 1; 0: none named in its place."""
    place = func.lower(func.coalesce(Case.location_text, ""))
    if not names:
        return literal_column("0")
    return case(
        *(
            (place.contains(name.lower(), autoescape=True), literal_column(str(n)))
            for n, name in enumerate(names, 1)
        ),
        else_=literal_column("0"),
    )


def _escaped(column: Any) -> Any:
    """``column``'s text with LIKE's wildcards and escape character escaped (by ``\\``)."""
    for char in ("\\", "%", "_"):
        column = func.replace(column, char, "\\" + char)
    return column


def in_district(district: str) -> ColumnElement[bool]:
    """The cases under ``district`` (compared without case): the first active district rule,
    in routing's order, whose words their place holds is that district. In SQL alone, so that
    any list (the case search, its exports) filters by it without reading the rules first."""
    place = func.lower(func.coalesce(Case.location_text, ""))
    words = func.lower(func.trim(RoutingRule.pattern))
    first = (
        select(words)
        .where(
            RoutingRule.kind == DISTRICT,
            RoutingRule.active.is_(True),
            words != "",
            place.like("%" + _escaped(words) + "%", escape="\\"),
        )
        .order_by(RoutingRule.position, RoutingRule.id)
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    return first == func.lower(literal(district.strip()))


def first_contact() -> Any:
    """The id of the case's first queue item (correlated to ``Case``)."""
    return (
        select(func.min(QueueItem.id))
        .where(QueueItem.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )


def opened_by(agent_id: int) -> ColumnElement[bool]:
    """The cases whose first contact ``agent_id`` took."""
    found: ColumnElement[bool] = exists().where(
        QueueItem.id == first_contact(), QueueItem.agent_id == agent_id
    )
    return found
