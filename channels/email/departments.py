"""Departments' notices by e-mail: the message centre's notices for a department (a new case,
urging, a reply sent back, deadlines, supervision) also go to its mailbox when it has one.

A job each minute claims the notices not yet sent, groups them per department and sends one
message each, in the hotline's language, with case numbers and links to the department's
console and nothing personal about citizens. A failed send puts the claim back for the next
minute.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select, update

from hotline.core import labels, tracking
from hotline.core.context import AppContext
from hotline.core.models import Department, Notice, utcnow

from .outbound import SmtpServer, our_mail, send

log = logging.getLogger("hotline.channels.email")
NOTIFY = (
    "dispatched",
    "urged",
    "reply_sent_back",
    "extension_approved",
    "extension_refused",
    "deadline_near",
    "overdue",
    "supervised",
    "co_replied",
    "co_returned",
)
BATCH = 200


def digest(
    ctx: AppContext, department: Department, notices: list[Notice], sender: str
) -> EmailMessage:
    language = ctx.settings.default_language
    _ = ctx.catalogs.get(language).gettext
    base = ctx.settings.url.rstrip("/")
    lines = []
    for notice in notices:
        number = str(notice.detail.get("case") or "")
        label = _(labels.NOTICE.get(notice.kind, notice.kind))
        link = f"{base}/console/department/cases/{number}" if number else f"{base}/console"
        lines.append(f"{label}: {tracking.display(number) if number else ''}\n  {link}")
    subject = _("%(n)s new notices for %(department)s") % {
        "n": len(notices),
        "department": department.name(language),
    }
    mail = our_mail(sender, ctx.settings.mail_name, department.email or "", subject, "notices")
    mail["Message-ID"] = make_msgid(domain=sender.partition("@")[2])
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this, please
    mail.set_content("\n\n".join(lines) + "\n")
    return mail


async def mail_notices(ctx: AppContext) -> int:
    """Job: send what waits; returns how many departments were written to."""
    settings = ctx.settings
    if not settings.smtp_url or not settings.mail_address:
        return 0
    now = utcnow()
    async with ctx.db.transaction() as session:
        found = await session.execute(
            select(Notice, Department)
            .join(Department, Department.id == Notice.department_id)
            .where(Notice.emailed_at.is_(None), Notice.kind.in_(NOTIFY))
            .order_by(Notice.id)
            .limit(BATCH)
            .with_for_update(of=Notice)
        )
        rows = [(notice, department) for notice, department in found]
        # claimed: sent now, or put back below; departments without a mailbox are done too
        await session.execute(
            update(Notice).where(Notice.id.in_([n.id for n, _d in rows])).values(emailed_at=now)
        )
    waiting: dict[int, tuple[Department, list[Notice]]] = {}
    for notice, department in rows:
        if department.email:
            waiting.setdefault(department.id, (department, []))[1].append(notice)
    server = SmtpServer.from_url(settings.smtp_url)
    sent = 0
    for department, notices in waiting.values():
        try:
            await send(digest(ctx, department, notices, settings.mail_address), server)
            sent += 1
        except Exception as exc:  # any failure: put the claim back, the next minute tries again
            log.warning("department notices not sent", extra={"why": type(exc).__name__})
            async with ctx.db.transaction() as session:
                await session.execute(
                    update(Notice)
                    .where(Notice.id.in_([n.id for n in notices]))
                    .values(emailed_at=None)
                )
    return sent
