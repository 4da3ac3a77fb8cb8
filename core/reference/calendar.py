"""The working calendar: weekends, public holidays and China's adjusted working days (调休).

The default comes from python-holidays for the configured country (its Chinese calendar knows
the State Council's holidays and the weekend days worked in their place); the administrator's
own ``CalendarDay`` rows override it day by day. A year's calendar is imported from iCalendar
(an all-day event is a holiday unless its summary or categories say it is a working day) or
from CSV (``date,working,name``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import holidays
import icalendar
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.reference.deadlines import DAY_END, DAY_START
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.reference import CalendarDay

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

WORKING_WORDS = ("班", "上班", "working", "workday", "work day", "makeup", "make-up")
TRUE_WORDS = {"1", "true", "yes", "y", "working", "work", "是", "班", "上班"}
FALSE_WORDS = {"0", "false", "no", "n", "holiday", "off", "否", "休", "休息"}


class CalendarImportError(ValueError):
    """The file could not be read as a calendar; nothing was changed."""


# the page's language as python-holidays names it
HOLIDAY_LANGUAGES = {"zh_CN": "zh_CN", "en": "en_US"}


@lru_cache(maxsize=16)
def _country(code: str, language: str = "") -> holidays.HolidayBase | None:
    if not code:
        return None
    try:
        public = holidays.country_holidays(code)
    except NotImplementedError:
        return None
    wanted = HOLIDAY_LANGUAGES.get(language, "")
    if wanted and wanted in public.supported_languages:
        return holidays.country_holidays(code, language=wanted)
    return public


@dataclass
class Calendar:
    """Is a day a working day: the administrator's days first, then the country's calendar."""

    days: dict[date, bool]
    country: str = ""

    def is_working_day(self, day: date) -> bool:
        if day in self.days:
            return self.days[day]
        public = _country(self.country)
        if public is None:
            return day.weekday() < 5
        return bool(public.is_working_day(day))

    def holiday_name(self, day: date, language: str = "") -> str:
        """The public holiday's name in ``language`` (zh_CN, en) where the country has it."""
        public = _country(self.country, language)
        return str(public.get(day, "")) if public is not None else ""


async def load_calendar(session: AsyncSession, country: str) -> Calendar:
    rows = await session.scalars(select(CalendarDay))
    return Calendar({r.day: r.working for r in rows}, country)


@dataclass(frozen=True)
class ImportedDay:
    day: date
    working: bool
    name: str


def _working_from_words(*texts: str) -> bool:
    joined = " ".join(texts).lower()
    return any(word in joined for word in WORKING_WORDS)


def parse_icalendar(data: bytes) -> list[ImportedDay]:
    """All-day events: each day they cover is a holiday, or a working day when the summary or
    categories say so (``班``, ``working day``...)."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError) as exc:
        raise CalendarImportError(f"not an iCalendar file: {exc}") from exc
    days: list[ImportedDay] = []
    for event in cal.walk("VEVENT"):
        start = event.decoded("DTSTART", None)
        if start is None:
            continue
        if isinstance(start, datetime):
            start = start.date()
        end = event.decoded("DTEND", None)
        if isinstance(end, datetime):
            end = end.date()
        end = end if end and end > start else start + timedelta(days=1)
        summary = str(event.get("SUMMARY", ""))
        categories = event.get("CATEGORIES")
        cats = ""
        if categories is not None:
            listed = categories if isinstance(categories, list) else [categories]
            cats = " ".join(str(c) for group in listed for c in getattr(group, "cats", [group]))
        working = _working_from_words(summary, cats)
        day = start
        while day < end:
            days.append(ImportedDay(day, working, summary[:200]))
            day += timedelta(days=1)
    if not days:
        raise CalendarImportError("the file holds no all-day events")
    return days


def parse_csv(data: bytes) -> list[ImportedDay]:
    """Rows of ``date,working,name``; a header row is allowed; ``working`` is 1/0, yes/no,
    working/holiday, 班/休."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CalendarImportError("the CSV file is not UTF-8") from exc
    days: list[ImportedDay] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not row[0].strip() or row[0].strip().startswith("#"):
            continue
        try:
            day = date.fromisoformat(row[0].strip())
        except ValueError as exc:
            if number == 1:
                continue  # the header
            raise CalendarImportError(f"line {number}: {row[0]!r} is not a date") from exc
        flag = row[1].strip().lower() if len(row) > 1 else ""
        if flag in TRUE_WORDS:
            working = True
        elif flag in FALSE_WORDS:
            working = False
        else:
            raise CalendarImportError(f"line {number}: say 1 (working) or 0 (holiday)")
        days.append(ImportedDay(day, working, (row[2].strip() if len(row) > 2 else "")[:200]))
    if not days:
        raise CalendarImportError("the file holds no days")
    return days


def parse_calendar_file(filename: str, data: bytes) -> list[ImportedDay]:
    if filename.lower().endswith((".ics", ".ical", ".ifb")) or data.lstrip().startswith(
        b"BEGIN:VCALENDAR"
    ):
        return parse_icalendar(data)
    return parse_csv(data)


async def store_days(session: AsyncSession, days: list[ImportedDay], *, replace_year: bool) -> int:
    """Write imported days (the later of two entries for one day wins). With ``replace_year``
    the years in the file are cleared first, so a re-import of a corrected year is exact."""
    latest = {d.day: d for d in days}
    if replace_year:
        for year in {d.year for d in latest}:
            await session.execute(
                delete(CalendarDay).where(
                    CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
                )
            )
    else:
        await session.execute(delete(CalendarDay).where(CalendarDay.day.in_(list(latest))))
    session.add_all(CalendarDay(day=d.day, working=d.working, name=d.name) for d in latest.values())
    await session.flush()
    return len(latest)


async def in_office_hours(ctx: AppContext, now: datetime | None = None) -> bool:
    """Is ``now`` (default: now) within office hours (DAY_START to DAY_END, local time) of a
    working day of the working calendar? Live chat and the phone line ask before they offer a
    person."""
    local = (now or utcnow()).astimezone(ctx.tz)
    async with ctx.db.session() as session:
        calendar = await load_calendar(session, ctx.settings.holidays_country)
    return calendar.is_working_day(local.date()) and DAY_START <= local.time() < DAY_END
