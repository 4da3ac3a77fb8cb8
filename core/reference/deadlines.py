"""Deadlines in working days or working hours, counted in the hotline's local time.

The default calendar knows weekends only; the workflow issue's calendar (public holidays and
adjusted working days) plugs in through ``WorkingCalendar``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from hotline.core.storage.enums import LimitUnit

DAY_START = time(9, 0)
DAY_END = time(17, 30)


class WorkingCalendar(Protocol):
    def is_working_day(self, day: date) -> bool: ...


class WeekdayCalendar:
    """Monday to Friday are working days."""

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5


def add_working_days(start: datetime, days: int, tz: ZoneInfo, cal: WorkingCalendar) -> datetime:
    """The end of the ``days``-th working day after ``start``'s day (the day itself not counted)."""
    day = start.astimezone(tz).date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            left -= 1
    return datetime.combine(day, DAY_END, tzinfo=tz)


def add_working_hours(start: datetime, hours: int, tz: ZoneInfo, cal: WorkingCalendar) -> datetime:
    """``hours`` of office time (DAY_START to DAY_END on working days) after ``start``."""
    local = start.astimezone(tz)
    left = timedelta(hours=hours)
    cursor = local
    while True:
        day = cursor.date()
        opens = datetime.combine(day, DAY_START, tzinfo=tz)
        closes = datetime.combine(day, DAY_END, tzinfo=tz)
        if cal.is_working_day(day) and cursor < closes:
            cursor = max(cursor, opens)
            if cursor + left <= closes:
                return cursor + left
            left -= closes - cursor
        cursor = datetime.combine(day + timedelta(days=1), DAY_START, tzinfo=tz)


def deadline(
    start: datetime, amount: int, unit: str, tz: ZoneInfo, cal: WorkingCalendar | None = None
) -> datetime:
    cal = cal or WeekdayCalendar()
    if unit == LimitUnit.WORKING_HOURS:
        return add_working_hours(start, amount, tz, cal)
    return add_working_days(start, amount, tz, cal)
