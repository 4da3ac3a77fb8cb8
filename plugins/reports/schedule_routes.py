"""The supervisor's side of mailed reports, on the report page: mail this report each week or
month to these addresses; stop one. Both audited; a wrong address gets the form back."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath
from litestar.response import Redirect

from hotline.admin.guards import ctx_of, requires, staff_actor
from hotline.core.people.audit import audit
from hotline.core.people.permissions import Permission
from hotline.core.shell.web import request_language
from hotline.core.storage.models.reports import ReportSchedule

from .report_page import show
from .schedules import EVERY, recipients

Req = Request[Any, Any, Any]
PAGE = "/console/reports"


@post(f"{PAGE}/schedules", guards=[requires(Permission.SUPERVISE)])
async def add_schedule(request: Req) -> Response[Any]:
    form = await request.form()
    every = str(form.get("every", ""))
    by = "queue" if form.get("by") == "queue" else "media"
    typed = str(form.get("recipients", ""))[:2000]
    try:
        if every not in EVERY:
            raise ValueError("")
        addresses = recipients(typed)
    except ValueError:  # the page again, the form as typed with the reason beside it
        return await show(request, status=400, schedule_error=True, typed=typed)
    ctx = ctx_of(request)
    actor = staff_actor(request)
    async with ctx.db.transaction() as session:
        schedule = ReportSchedule(
            every=every,
            by=by,
            recipients=addresses,
            language=request_language(request),
            created_by=actor.id,
        )
        session.add(schedule)
        await session.flush()
        audit(session, actor, "report.scheduled", None, schedule=schedule.id, every=every)
    return Redirect(f"{PAGE}?scheduled=1#schedules", status_code=303)


@post(f"{PAGE}/schedules/{{schedule_id:int}}/stop", guards=[requires(Permission.SUPERVISE)])
async def stop_schedule(request: Req, schedule_id: FromPath[int]) -> Response[Any]:
    ctx = ctx_of(request)
    actor = staff_actor(request)
    async with ctx.db.transaction() as session:
        schedule = await session.get(ReportSchedule, schedule_id)
        if schedule is not None:
            await session.delete(schedule)
            audit(session, actor, "report.unscheduled", None, schedule=schedule_id)
    return Redirect(f"{PAGE}?stopped=1#schedules", status_code=303)


def handlers() -> list[Any]:
    return [add_schedule, stop_schedule]
