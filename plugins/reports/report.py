"""A management report: the figures for a period (a day, week, month, quarter, year, or dates
of one's own), each headline figure beside the period before (环比) and the same period a year
earlier (同比), the contact centre per medium or queue, intake by channel and kind, and each
agent's time, offers and contacts. Computed from ``figures`` alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import Department, ServiceCategory

from . import figures
from .board import load_settings
from .figures import EVERYTHING, Period, Scope, breakdowns
from .figures.contacts import Breakdown
from .figures.ranking import DepartmentScore, ranking
from .series import Series, fold, series, step_for

KINDS = ("day", "week", "month", "quarter", "year", "custom")
# what cases opened are broken down by (the report's own breakdown, with its chart)
BREAKDOWNS = ("department", "category", "channel", "kind", "district", "agent")
STANDARD = ("channel", "kind", "department", "category")  # always on the page
CHARTS = ("bar", "line", "pie")


def breakdowns_for(scope: Scope) -> tuple[str, ...]:
    """The breakdowns a reader may choose: a department's people do not break their own cases
    down by department, nor by the hotline's agents; an agent's own cases are all theirs."""
    if scope.department_id is not None:
        return tuple(b for b in BREAKDOWNS if b not in ("department", "agent"))
    if scope.agent_id is not None:
        return tuple(b for b in BREAKDOWNS if b != "agent")
    return BREAKDOWNS


MAX_DAYS = 3 * 366  # a custom period longer than three years is refused


class PeriodError(ValueError):
    """The period asked for cannot be reported on (the message says why)."""


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


@dataclass(frozen=True)
class Span:
    """Calendar days [first, after) in the site's time zone."""

    first: date
    after: date

    @property
    def days(self) -> int:
        return (self.after - self.first).days

    def period(self, tz: ZoneInfo) -> Period:
        start = datetime.combine(self.first, time(), tz).astimezone(UTC)
        return Period(start, datetime.combine(self.after, time(), tz).astimezone(UTC))


@dataclass(frozen=True)
class Periods:
    kind: str
    current: Span
    previous: Span  # 环比: the period just before, of the same kind
    year_ago: Span  # 同比: the same dates a year earlier


def periods(kind: str, anchor: date, end: date | None = None) -> Periods:
    """The period of ``kind`` holding ``anchor`` (``custom``: ``anchor`` to ``end`` inclusive),
    the one before it and the same one a year earlier."""
    if kind not in KINDS:
        raise PeriodError("unknown period")
    if kind == "day":
        current = Span(anchor, anchor + timedelta(days=1))
        previous = Span(anchor - timedelta(days=1), anchor)
    elif kind == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        current = Span(monday, monday + timedelta(days=7))
        previous = Span(monday - timedelta(days=7), monday)
    elif kind == "month":
        current = Span(_month_start(anchor), _month_start(anchor, -1))
        previous = Span(_month_start(anchor, 1), current.first)
    elif kind == "quarter":
        first = _month_start(anchor, (anchor.month - 1) % 3)
        current = Span(first, _month_start(first, -3))
        previous = Span(_month_start(first, 3), first)
    elif kind == "year":
        current = Span(date(anchor.year, 1, 1), date(anchor.year + 1, 1, 1))
        previous = Span(date(anchor.year - 1, 1, 1), current.first)
    else:
        if end is None or end < anchor:
            raise PeriodError("the last day comes before the first")
        current = Span(anchor, end + timedelta(days=1))
        if current.days > MAX_DAYS:
            raise PeriodError("at most three years at once")
        previous = Span(anchor - timedelta(days=current.days), anchor)
    year_ago = Span(_year_earlier(current.first), _year_earlier(current.after))
    return Periods(kind, current, previous, year_ago)


@dataclass(frozen=True)
class Headline:
    """One figure now, in the period before and a year earlier; ``rate``: a fraction."""

    key: str
    now: float | None
    before: float | None
    year_ago: float | None
    rate: bool = False
    seconds: bool = False

    def change_over(self, then: float | None) -> float | None:
        if self.rate:
            return None if self.now is None or then is None else self.now - then
        if self.now is None or not then:
            return None
        return (self.now - then) / then


@dataclass
class Report:
    periods: Periods
    headlines: list[Headline]
    contacts: Breakdown
    intake_channel: dict[str, int]
    intake_kind: dict[str, int]
    agents: list[tuple[str, figures.AgentFigures]] = field(default_factory=list)
    service_seconds: int = 20
    sealed_letters: int = 0  # cases opened that no list shows (the director's mailbox)
    intake_department: dict[str, int] = field(default_factory=dict)  # department id -> cases
    intake_category: dict[str, int] = field(default_factory=dict)  # category id -> cases
    hot_topics: list[tuple[str, int, int]] = field(default_factory=list)  # (category, now, before)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> id -> name
    breakdown: str = "department"
    intake_before: dict[str, dict[str, int]] = field(default_factory=dict)  # 环比, per field
    intake_more: dict[str, dict[str, int]] = field(default_factory=dict)  # district, agent
    series: Series | None = None  # cases opened over time (for the line chart)
    scope: Scope = EVERYTHING  # whose figures these are
    ranking: list[tuple[int, DepartmentScore]] = field(default_factory=list)  # (rank, score)
    ranked: int = 0  # departments in the whole ranking (a department sees its own row of it)

    def intake(self, by: str) -> dict[str, int]:
        """Cases opened (those lists show) per key of ``by`` (a BREAKDOWNS field)."""
        standard = {
            "channel": self.intake_channel,
            "kind": self.intake_kind,
            "department": self.intake_department,
            "category": self.intake_category,
        }
        return standard[by] if by in standard else self.intake_more.get(by, {})


async def _headline_values(
    session: AsyncSession,
    period: Period,
    now: datetime,
    service: int,
    short: int,
    cube: breakdowns.Cube,
    contacts: Breakdown | None = None,
    scope: Scope = EVERYTHING,
) -> dict[str, float | None]:
    """The headline figures of ``period`` that ``scope``'s reader sees; ``contacts``: its
    contacts when already counted."""
    if contacts is None:
        contacts = await figures.contacts(
            session, period, service_seconds=service, short_seconds=short, scope=scope
        )
    found = contacts.total
    intake = sum(cube.values())
    timely = (
        await figures.timeliness(session, period, now, scope)
        if scope.departments
        else figures.Timeliness()
    )
    rated = await figures.evaluations(session, period, scope)
    every = {
        "offered": found.offered,
        "answered": found.answered,
        "abandon_rate": found.abandon_rate,
        "asa": found.asa,
        "aht": found.aht,
        "service_level": found.service_level,
        "intake": intake,
        "satisfaction": rated.rate,
        "acceptance": timely.acceptance_rate,
        "completion": timely.completion_rate,
        "returns": timely.return_rate,
    }
    return {key: value for key, value in every.items() if scope.shows(key)}


RATES = {"abandon_rate", "service_level", "satisfaction", "acceptance", "completion", "returns"}
SECONDS = {"asa", "aht"}


async def intake_of(
    session: AsyncSession,
    period: Period,
    by: str,
    names: dict[str, dict[str, str]],
    scope: Scope = EVERYTHING,
) -> dict[str, int]:
    """Cases opened in ``period`` that lists show, per ``by``; the agents' names into
    ``names``."""
    if by == "district":
        return await breakdowns.intake_by_district(session, period, listed=True, scope=scope)
    if by != "agent":
        return await figures.intake_by(session, period, by, listed=True, scope=scope)
    found = await breakdowns.intake_by_agent(session, period, listed=True, scope=scope)
    ids = [int(k) for k in found if k and k not in names.setdefault("agent", {})]
    if ids:
        rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
        names["agent"].update({str(i): str(n) for i, n in rows})
    return found


async def over_time(
    session: AsyncSession, chosen: Periods, tz: ZoneInfo, scope: Scope = EVERYTHING
) -> Series:
    """Cases opened step by step through the period, beside the period before."""
    step = step_for(chosen.current)
    if step == "hour":
        hourly = [
            await figures.intake_per_hour(session, span.period(tz), scope)
            for span in (chosen.current, chosen.previous)
        ]
        return series(step, hourly[0], hourly[1], chosen.current, hours=True)
    counts = [
        fold(await breakdowns.intake_per_day(session, span.period(tz), scope), span, step)
        for span in (chosen.current, chosen.previous)
    ]
    return series(step, counts[0], counts[1], chosen.current)


async def build(
    session: AsyncSession,
    chosen: Periods,
    tz: ZoneInfo,
    *,
    by: str = "media",
    lang: str = "zh_CN",
    breakdown: str = "department",
    chart: str = "bar",
    scope: Scope = EVERYTHING,
) -> Report:
    """The report for the periods chosen; ``breakdown``: the cases' breakdown the report is
    about (with its period before), ``chart``: "line" computes the series over time too;
    ``scope``: whose figures (see ``figures.scope``)."""
    now = datetime.now(UTC)
    settings = await load_settings(session)
    service, short = settings.service_level_seconds, settings.short_abandon_seconds
    period = chosen.current.period(tz)
    spans = (chosen.current, chosen.previous, chosen.year_ago)
    cubes = [await breakdowns.intake_cube(session, span.period(tz), scope) for span in spans]
    contacts_now = (
        await figures.contacts(
            session, period, by=by, service_seconds=service, short_seconds=short, scope=scope
        )
        if scope.contacts
        else Breakdown(figures.ContactFigures())
    )
    values = [
        await _headline_values(
            session,
            span.period(tz),
            now,
            service,
            short,
            cube,
            contacts_now if n == 0 or not scope.contacts else None,
            scope,
        )
        for n, (span, cube) in enumerate(zip(spans, cubes, strict=True))
    ]
    headlines = [
        Headline(key, values[0][key], values[1][key], values[2][key], key in RATES, key in SECONDS)
        for key in values[0]
    ]
    every_agent = await figures.agent_figures(session, period, now) if scope.contacts else {}
    per_agent = {a: f for a, f in every_agent.items() if scope.agent_id in (None, a)}
    names: dict[int, Any] = {}
    if per_agent:
        names = dict(
            (
                await session.execute(
                    select(User.id, User.display_name).where(User.id.in_(per_agent))
                )
            ).all()
        )
    agents = sorted(
        ((str(names.get(agent, agent)), found) for agent, found in per_agent.items()),
        key=lambda pair: pair[0],
    )
    by_channel = breakdowns.from_cube(cubes[0], "channel")
    opened = values[0]["intake"] or 0
    by_category = breakdowns.from_cube(cubes[0], "category")
    before = breakdowns.from_cube(cubes[1], "category")
    titles = {
        "department": {str(d.id): d.name(lang) for d in await session.scalars(select(Department))},
        "category": {
            str(c.id): c.name(lang) for c in await session.scalars(select(ServiceCategory))
        },
    }
    previous = chosen.previous.period(tz)
    more = (
        {}
        if breakdown in STANDARD
        else {breakdown: await intake_of(session, period, breakdown, titles, scope)}
    )
    before_counts = {by_field: breakdowns.from_cube(cubes[1], by_field) for by_field in STANDARD}
    if breakdown not in STANDARD:
        before_counts[breakdown] = await intake_of(session, previous, breakdown, titles, scope)
    ranked = await ranking(session, period, now) if scope.departments else []
    return Report(
        chosen,
        headlines,
        contacts_now,
        by_channel,
        breakdowns.from_cube(cubes[0], "kind"),
        agents,
        service,
        int(opened) - sum(by_channel.values()),
        breakdowns.from_cube(cubes[0], "department"),
        by_category,
        figures.rising(by_category, before),
        titles,
        breakdown,
        before_counts,
        more,
        await over_time(session, chosen, tz, scope) if chart == "line" else None,
        scope,
        [(n, s) for n, s in enumerate(ranked, 1) if scope.department_id in (None, s.department_id)],
        len(ranked),
    )
