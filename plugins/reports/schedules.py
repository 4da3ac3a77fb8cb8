"""Reports mailed on a schedule: a supervisor asks for the weekly or monthly report to go to a
list of addresses; each hour a job sends, for every schedule, the report of the week (Monday to
Sunday) or month that has just ended, once, as PDF, Excel and CSV through the hotline's outbound
mail (the ``send_staff_mail`` hook). A mail the server refused is sent again at the next hour;
with no outbound mail set up, nothing is marked sent."""

from __future__ import annotations

import inspect
import logging
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from huey import crontab
from sqlalchemy import select

from hotline.core.cases.contacts import InvalidContact, normalise_email
from hotline.core.delivery.jobs import JobSpec
from hotline.core.people.audit import audit
from hotline.core.reference.labels import N_
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.reports import ReportSchedule

from . import report_export, report_pdf
from .report import Periods, build, periods
from .report_page import NAMES
from .writers import FORMATS

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.plugins.reports")
JOB = "reports.scheduled"
EVERY = ("week", "month")
MAX_RECIPIENTS = 20
EVERY_WORDS = {"week": N_("week"), "month": N_("month")}


def just_ended(every: str, today: date) -> tuple[str, Periods]:
    """The week or month that ended before ``today``, with its key (``2026-W49``, ``2026-11``)."""
    if every == "week":
        anchor = today - timedelta(days=today.weekday() + 7)  # last week's Monday
        year, week, _ = anchor.isocalendar()
        return f"{year}-W{week:02d}", periods("week", anchor)
    anchor = today.replace(day=1) - timedelta(days=1)
    return f"{anchor.year}-{anchor.month:02d}", periods("month", anchor)


def recipients(raw: str) -> list[str]:
    """The addresses typed (commas, semicolons, spaces or lines between them); ValueError names
    the first that is not one."""
    found: list[str] = []
    for part in raw.replace(";", ",").replace("\n", ",").replace(" ", ",").split(","):
        if not part.strip():
            continue
        try:
            address = normalise_email(part.strip())
        except InvalidContact:
            raise ValueError(part.strip()[:100]) from None
        if address not in found:
            found.append(address)
    if not found or len(found) > MAX_RECIPIENTS:
        raise ValueError("")
    return found


async def send_due(ctx: AppContext, today: date | None = None) -> int:
    """Job: every schedule whose last ended period is not sent yet is sent; returns how many."""
    today = today or datetime.now(ctx.tz).date()
    async with ctx.db.session() as session:
        schedules = list(await session.scalars(select(ReportSchedule).order_by(ReportSchedule.id)))
    sent = 0
    for schedule in schedules:
        key, chosen = just_ended(schedule.every, today)
        if schedule.last_period == key:
            continue
        if await _send(ctx, schedule, key, chosen):
            sent += 1
    return sent


async def _send(ctx: AppContext, schedule: ReportSchedule, key: str, chosen: Periods) -> bool:
    gettext = ctx.catalogs.get(schedule.language).gettext
    label = report_export.labeller(gettext)

    async with ctx.db.session() as session:
        report = await build(session, chosen, ctx.tz, by=schedule.by, lang=schedule.language)
    name = f"report-{schedule.every}-{key}"
    files = [
        (f"{name}.xlsx", FORMATS["xlsx"], report_export.as_xlsx(report, NAMES, gettext, label)),
        (f"{name}.csv", "text/csv", report_export.as_csv(report, NAMES, gettext, label)),
    ]
    printed = report_pdf.as_pdf(report, NAMES, gettext, label)
    if printed is not None:
        files.insert(0, (f"{name}.pdf", "application/pdf", printed))
    period = f"{chosen.current.first.isoformat()} – {chosen.current.after - timedelta(days=1)}"
    subject = gettext("Civic Hotline report %(period)s") % {"period": period}
    text = gettext(
        "The hotline's report for %(period)s is attached as PDF, Excel and CSV (PDF only where a"
        " Chinese font is installed). It is mailed each %(every)s to the addresses a supervisor"
        " chose in the console."
    ) % {"period": period, "every": gettext(EVERY_WORDS[schedule.every])}
    answer: Any = ctx.pm.hook.send_staff_mail(
        ctx=ctx, to=schedule.recipients, subject=subject, text=text, attachments=files
    )
    try:
        if inspect.isawaitable(answer):
            answer = await answer
    except Exception as exc:  # the server refused: the next hour tries again
        log.warning("the scheduled report %s was not sent: %s", schedule.id, type(exc).__name__)
        return False
    if answer is None:
        log.warning("the scheduled report %s waits: no outbound mail is set up", schedule.id)
        return False
    async with ctx.db.transaction() as session:
        row = await session.get(ReportSchedule, schedule.id)
        if row is not None:
            row.last_period, row.last_sent_at = key, utcnow()
        audit(
            session,
            SYSTEM,
            "report.mailed",
            None,
            schedule=schedule.id,
            period=key,
            recipients=len(schedule.recipients),
        )
    return True


def jobs() -> list[JobSpec]:
    return [JobSpec(JOB, send_due, periodic=crontab(minute="7"), retries=0)]
