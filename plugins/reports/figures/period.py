"""Periods and the SQL that measures time inside them, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, cast, func, literal
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.models.base import UTCDateTime


@dataclass(frozen=True)
class Period:
    """[start, end): aware datetimes. Every figure counts what happened inside it."""

    start: datetime
    end: datetime

    @classmethod
    def day(cls, day: date, tz: ZoneInfo) -> Period:
        """The calendar day in the site's time zone (23 or 25 hours on a clock change)."""
        start = datetime.combine(day, time(), tz)
        return cls(start.astimezone(UTC), datetime.combine(day + timedelta(days=1), time(), tz))

    @classmethod
    def today(cls, tz: ZoneInfo, now: datetime | None = None) -> Period:
        return cls.day((now or datetime.now(UTC)).astimezone(tz).date(), tz)

    def shifted(self, days: int) -> Period:
        """The same period ``days`` later (earlier when negative): the same weekday last week."""
        return Period(self.start + timedelta(days=days), self.end + timedelta(days=days))

    def holds(self, column: Any) -> Any:
        return (column >= self.start) & (column < self.end)


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def at(value: datetime) -> Any:
    """A datetime as a bound SQL value, stored the way the tables store times."""
    return literal(value, UTCDateTime())


def seconds(later: Any, earlier: Any, dialect: str) -> Any:
    """``later - earlier`` in seconds, as SQL."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return cast(func.extract("epoch", later - earlier), Float)


def whole(value: Any, dialect: str) -> Any:
    """The whole part of a non-negative number, as SQL (PostgreSQL's cast rounds)."""
    return cast(value if dialect == "sqlite" else func.floor(value), Integer)
