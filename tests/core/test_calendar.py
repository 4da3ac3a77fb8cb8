"""The working calendar: public holidays, adjusted working days (调休), imports, deadlines."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from hotline.core.reference.calendar import (
    Calendar,
    CalendarImportError,
    load_calendar,
    parse_calendar_file,
    store_days,
)
from hotline.core.reference.deadlines import deadline
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.reference import CalendarDay

ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//calendar//ZH
BEGIN:VEVENT
UID:a@test
DTSTART;VALUE=DATE:20270101
DTEND;VALUE=DATE:20270104
SUMMARY:\xe5\x85\x83\xe6\x97\xa6
END:VEVENT
BEGIN:VEVENT
UID:b@test
DTSTART;VALUE=DATE:20270109
DTEND;VALUE=DATE:20270110
SUMMARY:\xe8\xb0\x83\xe4\xbc\x91\xe4\xb8\x8a\xe7\x8f\xad
END:VEVENT
END:VCALENDAR
"""


def at(ctx: AppContext, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ctx.tz)


async def test_deadline_across_national_day_and_its_makeup_saturday(ctx: AppContext) -> None:
    """2026: 1-7 October off; Sunday 20 September and Saturday 10 October are worked."""
    async with ctx.db.session() as s:
        cal = await load_calendar(s, "CN")
    assert not cal.is_working_day(date(2026, 10, 5))  # a Monday in the holiday
    assert cal.is_working_day(date(2026, 10, 10))  # a Saturday worked in its place
    # two working days from the eve of the holiday: 8 and 9 October
    due = deadline(at(ctx, "2026-09-30T10:00"), 2, "working_days", ctx.tz, cal)
    assert due == at(ctx, "2026-10-09T17:30")
    # one more: the makeup Saturday, to the minute
    due = deadline(at(ctx, "2026-09-30T10:00"), 3, "working_days", ctx.tz, cal)
    assert due == at(ctx, "2026-10-10T17:30")
    # working hours: one hour left on the 30th, then two on the first working day after
    due = deadline(at(ctx, "2026-09-30T16:30"), 3, "working_hours", ctx.tz, cal)
    assert due == at(ctx, "2026-10-08T11:00")
    # the makeup Sunday before the holiday counts by the hour too
    due = deadline(at(ctx, "2026-09-19T12:00"), 2, "working_hours", ctx.tz, cal)
    assert due == at(ctx, "2026-09-20T11:00")


async def test_administrator_days_override_the_country_calendar(ctx: AppContext) -> None:
    days = parse_calendar_file(
        "2026.csv",
        "date,working,name\n2026-10-08,0,本市加休\n2026-10-11,班,调休上班\n".encode(),
    )
    async with ctx.db.transaction() as s:
        assert await store_days(s, days, replace_year=False) == 2
    async with ctx.db.session() as s:
        cal = await load_calendar(s, "CN")
    assert not cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 11))
    due = deadline(at(ctx, "2026-09-30T10:00"), 2, "working_days", ctx.tz, cal)
    assert due == at(ctx, "2026-10-10T17:30")


async def test_icalendar_import_replaces_its_year(ctx: AppContext) -> None:
    async with ctx.db.transaction() as s:
        s.add(CalendarDay(day=date(2027, 5, 6), working=False, name="old"))
    days = parse_calendar_file("holidays.ics", ICS)
    assert [(d.day.isoformat(), d.working) for d in days] == [
        ("2027-01-01", False),
        ("2027-01-02", False),
        ("2027-01-03", False),
        ("2027-01-09", True),
    ]
    async with ctx.db.transaction() as s:
        await store_days(s, days, replace_year=True)
    async with ctx.db.session() as s:
        stored = {d.day: d.working for d in await s.scalars(select(CalendarDay))}
    assert date(2027, 5, 6) not in stored and stored[date(2027, 1, 9)] is True


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.ics", b"BEGIN:VCALENDAR\nnot really", "iCalendar"),
        ("x.csv", b"date,working\n2026-13-01,1\n", "not a date"),
        ("x.csv", b"2026-10-01,maybe\n", "say 1"),
        ("x.csv", b"\xff\xfe\x00", "UTF-8"),
        ("x.csv", b"date,working\n", "no days"),
    ],
)
def test_a_bad_calendar_file_is_refused_with_the_reason(
    name: str, data: bytes, message: str
) -> None:
    with pytest.raises(CalendarImportError, match=message):
        parse_calendar_file(name, data)


def test_without_a_country_only_weekends_are_off() -> None:
    cal = Calendar({}, "")
    assert cal.is_working_day(date(2026, 10, 1)) and not cal.is_working_day(date(2026, 10, 10))
