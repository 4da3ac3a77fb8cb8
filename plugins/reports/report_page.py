"""The report page (``/console/reports``) for supervisors: a period chosen by its kind and a
day in it (or two dates), the breakdown of the contact centre (per medium or queue); the figures
with their change over the period before (环比) and a year earlier (同比). A wrong period gets
the form back with the reason, never a raw error."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Request, Response, get

from hotline.admin.guards import ctx_of, requires
from hotline.core.people.permissions import Permission
from hotline.core.reference.labels import N_
from hotline.core.shell.web import render

from .report import KINDS, PeriodError, build, periods

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


@get("/console/reports", guards=[requires(Permission.SUPERVISE)])
async def report_page(request: Req) -> Response[str]:
    ctx = ctx_of(request)
    query = request.query_params
    today = datetime.now(ctx.tz).date()
    kind = str(query.get("kind", "day"))
    by = "queue" if query.get("by") == "queue" else "media"
    form = {"kind": kind, "date": query.get("date", ""), "end": query.get("end", ""), "by": by}
    try:
        anchor = _day(query.get("date"), today)
        assert anchor is not None
        chosen = periods(kind, anchor, _day(query.get("end"), None))
    except PeriodError as wrong:
        return render(
            request,
            "reports/report.html",
            status=400,
            form=form,
            kinds=KINDS,
            problem=PROBLEMS.get(str(wrong), PROBLEMS["unknown period"]),
            report=None,
            names=NAMES,
        )
    async with ctx.db.session() as session:
        report = await build(session, chosen, ctx.tz, by=by)
    return render(
        request,
        "reports/report.html",
        form=form,
        kinds=KINDS,
        problem=None,
        report=report,
        names=NAMES,
    )


def handlers() -> list[Any]:
    return [report_page]
