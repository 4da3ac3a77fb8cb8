"""Keyset pagination for every staff list: the next page starts after the last row shown (on an
indexed sort column and the id as tie-break), so a page costs the same at row 10 and row 900,000,
and rows written meanwhile neither repeat nor vanish. The total is counted with the same filters,
so that a list never stops silently.

    page = await keyset_page(session, select(Notice).where(...), Sort(Notice.at, Notice.id),
                             after=request.query_params.get("after"))
    page.rows      # the rows of this page (tuples as the statement selects them)
    page.total     # every row matching the filters (with ``cap``: at most cap, see capped)
    page.capped    # more than ``total`` rows match (the list says "more than")
    page.after     # the cursor of the next page, or None on the last page
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, DateTime, Select, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Sort:
    """Order by ``key`` then ``tie`` (unique, e.g. the id), both descending unless ``ascending``.
    ``key`` must not be NULL for the rows listed (pick an indexed, required column)."""

    key: Any
    tie: Any
    ascending: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    after: str | None
    first: bool = True  # this is the first page (no cursor given)
    size: int = PAGE_SIZE
    extra: dict[str, Any] = field(default_factory=dict)
    capped: bool = False  # more than ``total`` rows match: counting stopped there

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]  # type: ignore[index]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "d" in value:
            return date.fromisoformat(value["d"])
    return value


def cursor_of(key: Any, tie: Any) -> str:
    raw = json.dumps([_encode(key), _encode(tie)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_cursor(cursor: str | None) -> tuple[Any, Any] | None:
    """The (key, tie) a cursor names, or None for a missing or malformed one (the first page)."""
    if not cursor or len(cursor) > 400:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, tie = json.loads(raw)
        return _decode(key), _decode(tie)
    except (ValueError, TypeError):
        return None


def after_condition(sort: Sort, key: Any, tie: Any) -> ColumnElement[bool]:
    if sort.key is sort.tie:  # one unique column: a plain range, which an index can serve
        plain: ColumnElement[bool] = sort.key > key if sort.ascending else sort.key < key
        return plain
    if sort.ascending:
        return or_(sort.key > key, and_(sort.key == key, sort.tie > tie))
    return or_(sort.key < key, and_(sort.key == key, sort.tie < tie))


def _fits(column: Any, value: Any) -> bool:
    """Whether a cursor's value has the column's Python type (bool is no int here)."""
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator's storage type
    if isinstance(kind, DateTime):
        return isinstance(value, datetime)
    try:
        expected = kind.python_type
    except (AttributeError, NotImplementedError):
        expected = object
    if isinstance(value, bool) or value is None:
        return False
    return isinstance(value, expected)


def page_size(raw: str | None) -> int:
    try:
        return max(1, min(MAX_PAGE_SIZE, int(raw or PAGE_SIZE)))
    except ValueError:
        return PAGE_SIZE


async def count(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], cap: int | None = None
) -> int:
    """The rows of ``statement``; with ``cap``, counting stops at cap + 1 (and reads no column:
    the statement must then be a plain join, no DISTINCT or GROUP BY)."""
    counted = statement.order_by(None)
    if cap is not None:
        counted = counted.with_only_columns(literal_column("1"), maintain_column_froms=True)
        counted = counted.limit(cap + 1)
    return int(await session.scalar(select(func.count()).select_from(counted.subquery())) or 0)


async def keyset_page(
    session: AsyncSession,
    statement: Select[*tuple[Any, ...]],
    sort: Sort,
    *,
    after: str | None = None,
    size: int = PAGE_SIZE,
    cap: int | None = None,
) -> Page[Any]:
    """One page of ``statement`` (its filters, no ORDER BY or LIMIT of its own) after ``after``;
    the total counted up to ``cap`` when given (``capped`` says there are more)."""
    total = await count(session, statement, cap)
    capped = cap is not None and total > cap
    total = min(total, cap) if cap is not None else total
    position = parse_cursor(after)
    if position is not None and not (_fits(sort.key, position[0]) and _fits(sort.tie, position[1])):
        position = None  # a cursor made for another list, or by hand: the first page
    paged = statement
    if position is not None:
        paged = paged.where(after_condition(sort, *position))
    order = [sort.key] if sort.key is sort.tie else [sort.key, sort.tie]  # FTS5 takes one term
    paged = paged.order_by(*(c.asc() if sort.ascending else c.desc() for c in order))
    paged = paged.add_columns(sort.key, sort.tie).limit(size + 1)
    found = list((await session.execute(paged)).all())
    more = len(found) > size
    found = found[:size]
    rows = [tuple(row)[:-2] for row in found]
    cursor = cursor_of(*tuple(found[-1])[-2:]) if more and found else None
    return Page(
        rows=rows, total=total, after=cursor, first=position is None, size=size, capped=capped
    )


def sort_of(order: str | None, key: Any, tie: Any, *, ascending: bool = False) -> Sort:
    """The list's sort from its ``order`` parameter ("asc"/"desc"), else its default."""
    if order in ("asc", "desc"):
        ascending = order == "asc"
    return Sort(key, tie, ascending=ascending)
