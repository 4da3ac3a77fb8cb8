"""The administrator's set-up checklist: what ``hotline check`` knows, and what the database
holds, as steps that are done or say what is missing (in words, with the page to fix it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.foundation.settings import Settings
from hotline.core.reference.labels import N_
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import User
from hotline.core.storage.models.reference import CalendarDay, Department, ServiceCategory

NOTE = "note: "


@dataclass
class Step:
    key: str
    title: str  # a message id, translated in the page
    done: bool
    detail: str  # a message id with %(name)s parameters
    params: dict[str, Any] = field(default_factory=dict)
    href: str = ""
    link: str = ""
    optional: bool = False
    lines: list[str] = field(default_factory=list)  # what ``hotline check`` printed, for experts


def plugin_checks(ctx: AppContext) -> dict[str, list[str]]:
    """Each plugin's ``check_setup`` lines, by plugin name (as ``hotline check`` prints them)."""
    found: dict[str, list[str]] = {}
    for impl in ctx.pm.hook.check_setup.get_hookimpls():
        try:
            answer: Any = impl.function(settings=ctx.settings)
            lines = [str(x) for x in answer or []]
        except Exception:  # a plugin's check failing is itself worth a line
            lines = [f"{impl.plugin_name}: its set-up check failed"]
        found[impl.plugin_name] = lines
    return found


def channels_on(settings: Settings) -> list[str]:
    """The channels this hotline has set up besides the web portal, as message ids."""
    on = []
    if settings.imap_public_url or settings.smtp_url:
        on.append(N_("E-mail"))
    if settings.sms_sendsms_url or settings.sms_shared_secret:
        on.append(N_("SMS"))
    if settings.telegram_token:
        on.append(N_("Telegram"))
    if settings.fax_spool_dir or settings.imap_fax_url:
        on.append(N_("Fax"))
    if settings.phone_engine:
        on.append(N_("Phone"))
    return on


async def checklist(session: AsyncSession, ctx: AppContext) -> list[Step]:
    settings = ctx.settings
    departments = int(await session.scalar(select(func.count()).select_from(Department)) or 0)
    services = int(await session.scalar(select(func.count()).select_from(ServiceCategory)) or 0)
    unrouted = int(
        await session.scalar(
            select(func.count())
            .select_from(ServiceCategory)
            .where(ServiceCategory.default_department_id.is_(None))
        )
        or 0
    )
    roles: dict[str, int] = dict(
        (str(row[0]), int(row[1]))
        for row in await session.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
        )
    )
    this_year = date.today().year
    calendar_days = int(
        await session.scalar(
            select(func.count())
            .select_from(CalendarDay)
            .where(
                CalendarDay.day >= date(this_year, 1, 1), CalendarDay.day <= date(this_year, 12, 31)
            )
        )
        or 0
    )
    # in a thread: a plugin's check may run its own event loop (the Open311 key note does)
    checks = await asyncio.to_thread(plugin_checks, ctx)
    phone_lines = [line for name, lines in checks.items() if "phone" in name for line in lines]
    speech_lines = [line for name, lines in checks.items() if "speech" in name for line in lines]
    missing_roles = [
        role
        for role in (Role.AGENT, Role.DEPARTMENT_OFFICER, Role.SUPERVISOR)
        if not roles.get(role)
    ]
    on = channels_on(settings)
    steps = [
        Step(
            "departments",
            N_("Departments"),
            departments > 0,
            N_("%(count)s departments can receive cases.")
            if departments
            else N_("No department yet: add the city's departments that handle cases."),
            {"count": departments},
            "/console/settings/departments",
            N_("Departments"),
        ),
        Step(
            "services",
            N_("Services"),
            services > 0 and unrouted == 0,
            N_("%(count)s services, each with a department to send its cases to.")
            if services and not unrouted
            else N_("%(unrouted)s of %(count)s services have no department to send their cases to.")
            if services
            else N_("No service yet: citizens have nothing to choose from."),
            {"count": services, "unrouted": unrouted},
            "/console/settings/routing",
            N_("Routing rules"),
        ),
        Step(
            "users",
            N_("Staff accounts"),
            not missing_roles,
            N_("%(count)s active staff accounts, every working role filled.")
            if not missing_roles
            else N_("No account yet for: %(roles)s."),
            {"count": sum(roles.values()), "roles": missing_roles},
            "/console/settings/users",
            N_("Staff accounts"),
        ),
        Step(
            "calendar",
            N_("Working calendar"),
            calendar_days > 0,
            N_("This year's public holidays and working weekends are set (%(count)s days).")
            if calendar_days
            else N_(
                "This year's public holidays are not set: deadlines count every weekday as working."
            ),
            {"count": calendar_days},
            "/console/settings/calendar",
            N_("Working calendar"),
        ),
        Step(
            "channels",
            N_("Channels"),
            bool(on),
            N_("Besides the web portal, citizens reach the hotline by: %(names)s.")
            if on
            else N_(
                "Only the web portal takes contacts: no e-mail, SMS, Telegram, fax or phone line is set in the settings."
            ),
            {"names": on},
        ),
        Step(
            "phone",
            N_("Phone menu"),
            bool(settings.phone_engine) and not phone_lines,
            N_("The phone line answers with its menu in both languages.")
            if settings.phone_engine and not phone_lines
            else N_("The phone menu has %(count)s problems to fix.")
            if settings.phone_engine
            else N_("No phone line is set up (the phone engine is off in the settings)."),
            {"count": len(phone_lines)},
            optional=not settings.phone_engine,
            lines=phone_lines,
        ),
        Step(
            "speech",
            N_("Speech recognition"),
            not speech_lines,
            N_("A speech model is installed for every language: recordings get a transcript.")
            if not speech_lines
            else N_(
                "%(count)s languages have no speech model: their recordings are kept without a transcript."
            ),
            {"count": len(speech_lines)},
            optional=True,
            lines=[line.removeprefix(NOTE) for line in speech_lines],
        ),
    ]
    return steps
