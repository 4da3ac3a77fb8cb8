"""Administrators' workflow settings: routing rules (keyword and district -> department, in
order, optionally for one service), automatic dispatch per service, and the working calendar
(import a year from iCalendar or CSV, or set single days)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import delete, select

from hotline.core.people.permissions import Permission
from hotline.core.reference.calendar import (
    CalendarImportError,
    load_calendar,
    parse_calendar_file,
    store_days,
)
from hotline.core.shell.web import render, request_language
from hotline.core.storage.models.reference import (
    CalendarDay,
    Department,
    RoutingRule,
    ServiceCategory,
)

from .guards import ctx_of, requires

Req = Request[Any, Any, Any]
MAX_CALENDAR_BYTES = 1024 * 1024
KINDS = ("keyword", "district")


@get("/console/settings/routing", guards=[requires(Permission.ADMINISTER)])
async def routing_settings(request: Req) -> Response[str]:
    async with ctx_of(request).db.session() as session:
        rules = list(
            await session.scalars(
                select(RoutingRule).order_by(RoutingRule.kind.desc(), RoutingRule.position)
            )
        )
        departments = list(await session.scalars(select(Department).order_by(Department.code)))
        services = list(
            await session.scalars(select(ServiceCategory).order_by(ServiceCategory.code))
        )
    return render(
        request,
        "admin/routing.html",
        rules=rules,
        departments={d.id: d for d in departments},
        services=services,
        error=request.query_params.get("error"),
    )


@post("/console/settings/routing", guards=[requires(Permission.ADMINISTER)])
async def add_rule(request: Req) -> Response[Any]:
    form = await request.form()
    kind, pattern = str(form.get("kind", "")), str(form.get("pattern", "")).strip()[:200]
    try:
        department_id = int(str(form.get("department", "")))
        position = int(str(form.get("position", "") or 100))
        category_id = int(str(form.get("category"))) if form.get("category") else None
    except ValueError:
        return Redirect("/console/settings/routing?error=rule", status_code=303)
    if kind not in KINDS or not pattern:
        return Redirect("/console/settings/routing?error=rule", status_code=303)
    async with ctx_of(request).db.transaction() as session:
        if await session.get(Department, department_id) is None or (
            category_id is not None and await session.get(ServiceCategory, category_id) is None
        ):
            return Redirect("/console/settings/routing?error=rule", status_code=303)
        session.add(
            RoutingRule(
                kind=kind,
                pattern=pattern,
                department_id=department_id,
                category_id=category_id,
                position=position,
            )
        )
    return Redirect("/console/settings/routing", status_code=303)


@post("/console/settings/routing/{rule_id:int}/delete", guards=[requires(Permission.ADMINISTER)])
async def delete_rule(request: Req, rule_id: FromPath[int]) -> Response[Any]:
    async with ctx_of(request).db.transaction() as session:
        await session.execute(delete(RoutingRule).where(RoutingRule.id == rule_id))
    return Redirect("/console/settings/routing", status_code=303)


@post("/console/settings/services/auto-dispatch", guards=[requires(Permission.ADMINISTER)])
async def auto_dispatch(request: Req) -> Response[Any]:
    """The services whose routing suggestion is dispatched without an agent (ticked boxes)."""
    form = await request.form()
    chosen = {str(code) for code in form.getall("auto", [])}
    async with ctx_of(request).db.transaction() as session:
        for service in await session.scalars(select(ServiceCategory)):
            service.auto_dispatch = service.code in chosen
    return Redirect("/console/settings/routing", status_code=303)


@get("/console/settings/calendar", guards=[requires(Permission.ADMINISTER)])
async def calendar_settings(request: Req) -> Response[str]:
    ctx = ctx_of(request)
    try:
        year = int(request.query_params.get("year", ""))
    except ValueError:
        year = date.today().year
    year = min(max(year, 2000), 2100)
    async with ctx.db.session() as session:
        cal = await load_calendar(session, ctx.settings.holidays_country)
        own = list(
            await session.scalars(
                select(CalendarDay)
                .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
                .order_by(CalendarDay.day)
            )
        )
    # the days that differ from a plain Monday-to-Friday week, as the calendar stands now
    language = request_language(request)
    special = []
    day = date(year, 1, 1)
    while day.year == year:
        working = cal.is_working_day(day)
        if working != (day.weekday() < 5):
            special.append(
                (day, working, cal.days.get(day) is not None, cal.holiday_name(day, language))
            )
        day = date.fromordinal(day.toordinal() + 1)
    return render(
        request,
        "admin/calendar.html",
        year=year,
        special=special,
        own=own,
        country=ctx.settings.holidays_country,
        error=request.query_params.get("error"),
        imported=request.query_params.get("imported"),
    )


@post("/console/settings/calendar/import", guards=[requires(Permission.ADMINISTER)])
async def calendar_import(request: Req) -> Response[Any]:
    """A year's calendar from an iCalendar or CSV file; the years in it are replaced whole."""
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return Redirect("/console/settings/calendar?error=file", status_code=303)
    data = await upload.read(MAX_CALENDAR_BYTES + 1)
    if len(data) > MAX_CALENDAR_BYTES:
        return Redirect("/console/settings/calendar?error=size", status_code=303)
    try:
        days = parse_calendar_file(upload.filename or "", data)
    except CalendarImportError:
        return Redirect("/console/settings/calendar?error=file", status_code=303)
    async with ctx_of(request).db.transaction() as session:
        count = await store_days(session, days, replace_year=True)
    year = min(d.day.year for d in days)
    return Redirect(f"/console/settings/calendar?year={year}&imported={count}", status_code=303)


@post("/console/settings/calendar/day", guards=[requires(Permission.ADMINISTER)])
async def calendar_day(request: Req) -> Response[Any]:
    """One day: a working day, a day off, or back to the country's calendar."""
    form = await request.form()
    try:
        day = date.fromisoformat(str(form.get("day", "")))
    except ValueError:
        return Redirect("/console/settings/calendar?error=day", status_code=303)
    choice = str(form.get("working", ""))
    async with ctx_of(request).db.transaction() as session:
        await session.execute(delete(CalendarDay).where(CalendarDay.day == day))
        if choice in ("1", "0"):
            name = str(form.get("name", "")).strip()[:200]
            session.add(CalendarDay(day=day, working=choice == "1", name=name))
    return Redirect(f"/console/settings/calendar?year={day.year}", status_code=303)
