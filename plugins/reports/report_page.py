"""The report page (``/console/reports``): a period chosen by its kind and a day in it (or two
dates), the breakdown of the contact centre (per medium or queue); the figures with their change
over the period before (环比) and a year earlier (同比). A wrong period gets the form back with
the reason, never a raw error. Each reader sees their own scope (``figures.scope``): the whole
centre (supervisors, team leaders, the director's office), their department's cases, or their
own work; the downloads are the page's, scoped alike."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import PermissionDeniedException
from sqlalchemy import select

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.reference.labels import N_
from hotline.core.shell.web import render, request_language
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.reports import ReportSchedule

from . import report_chart, report_pdf
from . import report_export as report_export_file
from .figures import Scope, scope_for
from .report import (
    CHARTS,
    KINDS,
    STANDARD,
    PeriodError,
    Periods,
    breakdowns_for,
    build,
    periods,
)
from .writers import FORMATS

Req = Request[Any, Any, Any]
NAMES = {
    "offered": N_("Contacts offered"),
    "answered": N_("Answered by an agent"),
    "abandon_rate": N_("Abandon rate"),
    "asa": N_("Average speed of answer"),
    "aht": N_("Average handling time"),
    "service_level": N_("Service level"),
    "intake": N_("Cases opened"),
    "satisfaction": N_("Satisfaction rate"),
    "acceptance": N_("On-time acceptance rate"),
    "completion": N_("On-time completion rate"),
    "returns": N_("Return rate"),
}
PROBLEMS = {
    "unknown period": N_("Choose a day, week, month, quarter, year or your own dates."),
    "the last day comes before the first": N_("The last day comes before the first."),
    "at most three years at once": N_("At most three years at once."),
    "bad date": N_("Write the dates as YYYY-MM-DD."),
}


def _day(raw: str | None, default: date | None) -> date | None:
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PeriodError("bad date") from None


def scope_of(request: Req) -> Scope:
    """The reader's scope; refused (403) when they have none (a department's person whose
    account names no department)."""
    found = scope_for(request.scope["state"]["user"], request.scope["state"]["permissions"])
    if found is None:
        raise PermissionDeniedException("your account names no department to report on")
    return found


def _form(request: Req) -> dict[str, str]:
    query = request.query_params
    by = "queue" if query.get("by") == "queue" else "media"
    breakdown = str(query.get("breakdown", ""))
    chart = str(query.get("chart", ""))
    allowed = breakdowns_for(scope_of(request))
    return {
        "kind": str(query.get("kind", "day")),
        "date": str(query.get("date", "")),
        "end": str(query.get("end", "")),
        "by": by,
        "breakdown": breakdown if breakdown in allowed else allowed[0],
        "chart": chart if chart in CHARTS else CHARTS[0],
    }


def _periods(request: Req, form: dict[str, str]) -> Periods:
    """The periods the form asks for; PeriodError when they cannot be reported on."""
    anchor = _day(form["date"], datetime.now(ctx_of(request).tz).date())
    assert anchor is not None
    return periods(form["kind"], anchor, _day(form["end"], None))


def _refused(request: Req, form: dict[str, str], wrong: PeriodError) -> Response[str]:
    """The form back as typed, with the reason (400)."""
    return render(
        request,
        "reports/report.html",
        status=400,
        form=form,
        kinds=KINDS,
        problem=PROBLEMS.get(str(wrong), PROBLEMS["unknown period"]),
        report=None,
        names=NAMES,
        breakdowns=breakdowns_for(scope_of(request)),
        titles=report_chart.TITLES,
        scope=scope_of(request),
    )


def as_file(report: Any, fmt: str, say: Any, label: Any) -> bytes | None:
    """The report as a ``fmt`` file (pdf, xlsx, else csv); None: no PDF without a Chinese
    font. The page's downloads and ``hotline report`` both write it so."""
    if fmt == "pdf":
        return report_pdf.as_pdf(report, NAMES, say, label)
    if fmt == "xlsx":
        return report_export_file.as_xlsx(report, NAMES, say, label)
    return report_export_file.as_csv(report, NAMES, say, label)


@get("/console/reports", guards=[requires(Permission.REPORTS)])
async def report_page(request: Req) -> Response[str]:
    return await show(request)


async def show(request: Req, *, status: int = 200, **extra: Any) -> Response[str]:
    """The page for the period the query asks (the form back with the reason when it cannot be
    reported on), with the mailed and saved reports; ``extra``: what a form posted here gives
    back."""
    from . import saved_routes  # it answers with this page

    ctx = ctx_of(request)
    form = _form(request)
    try:
        chosen = _periods(request, form)
    except PeriodError as wrong:
        return _refused(request, form, wrong)
    lang = request_language(request)
    scope = scope_of(request)
    permissions = request.scope["state"]["permissions"]
    async with ctx.db.session() as session:
        report = await build(
            session,
            chosen,
            ctx.tz,
            by=form["by"],
            lang=lang,
            breakdown=form["breakdown"],
            chart=form["chart"],
            scope=scope,
        )
        scheduled = (
            list(await session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)))
            if Permission.SUPERVISE in permissions
            else []
        )
        department = await _department_name(session, scope, lang)
    # the case list's filters hold the whole hotline's cases: a number links to its cases only
    # where the list behind it counts the same rows
    drills = report_chart.DRILLS if scope.whole and Permission.CASE_READ in permissions else ()
    say = ctx.catalogs.get(lang).gettext
    label = report_export_file.labeller(say)
    return render(
        request,
        "reports/report.html",
        status=status,
        form=form,
        kinds=KINDS,
        problem=None,
        report=report,
        names=NAMES,
        breakdowns=breakdowns_for(scope),
        standard=[b for b in STANDARD if b in breakdowns_for(scope)],
        department=department,
        scope=scope,
        titles=report_chart.TITLES,
        drills=drills,
        chart_data=report_chart.chart_data(report, form["chart"], say, label),
        caption=lambda by, key: report_chart.caption(report, by, key, say, label),
        rows=lambda by: report_chart.rows(report, by),
        change_of=report_chart.change,
        schedules=scheduled,
        saved=await saved_routes.visible(ctx, request.scope["state"]["user"]),
        shared_roles=saved_routes.SHARED_ROLES,
        me=request.scope["state"]["user"].id,
        **extra,
    )


@get("/console/reports/export", guards=[requires(Permission.REPORTS)])
async def report_export(request: Req) -> Response[Any]:
    """The report as CSV (its figures) or Excel (every table, a sheet each); audited."""
    ctx = ctx_of(request)
    form = _form(request)
    try:
        chosen = _periods(request, form)
    except PeriodError as wrong:
        return _refused(request, form, wrong)
    asked = request.query_params.get("format")
    fmt = asked if asked in ("xlsx", "pdf") else "csv"
    lang = request_language(request)
    gettext = ctx.catalogs.get(lang).gettext
    label = report_export_file.labeller(gettext)

    async with ctx.db.transaction() as session:
        report = await build(
            session,
            chosen,
            ctx.tz,
            by=form["by"],
            lang=request_language(request),
            breakdown=form["breakdown"],
            scope=scope_of(request),
        )
        audit(
            session,
            staff_actor(request),
            "export",
            None,
            list="report",
            filters={k: v for k, v in form.items() if v},
            format=fmt,
            rows=len(report.headlines) + len(report.agents),
            personal=False,
            scope=_scope_words(report.scope),
        )
    body = as_file(report, fmt, gettext, label)
    if body is None:  # no Chinese font on this machine
        return Response(
            gettext("No PDF: no Chinese font is installed (fonts-noto-cjk)."),
            status_code=503,
            media_type="text/plain; charset=utf-8",
        )
    name = f"report-{chosen.kind}-{chosen.current.first.isoformat()}.{fmt}"
    return Response(
        body,
        media_type=FORMATS.get(fmt, "application/pdf"),
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def _department_name(session: Any, scope: Scope, lang: str) -> str:
    if scope.department_id is None:
        return ""
    found = await session.get(Department, scope.department_id)
    return found.name(lang) if found is not None else ""


def _scope_words(scope: Scope) -> str:
    """The scope as the audit trail keeps it."""
    if scope.department_id is not None:
        return f"department {scope.department_id}"
    return f"agent {scope.agent_id}" if scope.agent_id is not None else "centre"


def handlers() -> list[Any]:
    return [report_page, report_export]
