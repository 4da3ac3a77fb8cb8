"""Departments' notices by e-mail: the message centre's notices for a department (a new case,
urging, a reply sent back, deadlines, supervision) also go to its mailbox when it has one.

A job each minute takes the notices not yet sent and, in the same transaction, writes one
digest job per department (a row of the job outbox, ``core/storage/outbox.py``) naming them; the digest
job sends one message, in the hotline's language, with case numbers and links to the
department's console and nothing personal about citizens. So a notice is never marked sent
without a job that sends it: a crash, a stopped SMTP server or a full disk delays it (the job
retries with backoff, and after its last try it is counted in ``hotline check``), never loses
it. The Message-ID is the same at every try, so a mail system can drop a second copy.
"""

from __future__ import annotations

import hashlib
import logging
from email.message import EmailMessage

from sqlalchemy import select, update

from hotline.core.cases import tracking
from hotline.core.reference import labels
from hotline.core.shell.context import AppContext
from hotline.core.storage import outbox
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.workflow import Notice

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
DIGEST_JOB = "email.notice_digest"


def digest(
    ctx: AppContext, department: Department, notices: list[Notice], sender: str, key: str = ""
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
    stable = hashlib.sha256(f"{ctx.secret_key}:{key}".encode()).hexdigest()[:24]
    mail["Message-ID"] = f"<hotline.notices.{stable}@{sender.partition('@')[2]}>"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this, please
    mail.set_content("\n\n".join(lines) + "\n")
    return mail


async def mail_notices(ctx: AppContext) -> int:
    """Job: a digest job per department for the notices that wait; returns how many."""
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
        waiting: dict[int, list[int]] = {}
        for notice, department in rows:
            if department.email:
                waiting.setdefault(department.id, []).append(notice.id)
        for department_id, notice_ids in waiting.items():
            outbox.add(
                session,
                DIGEST_JOB,
                key=f"{DIGEST_JOB}:{notice_ids[0]}",
                args={"department_id": department_id, "notice_ids": notice_ids},
            )
        # with their digest job, in one commit; departments without a mailbox are done too
        await session.execute(
            update(Notice).where(Notice.id.in_([n.id for n, _d in rows])).values(emailed_at=now)
        )
    return len(waiting)


async def send_digest(ctx: AppContext, department_id: int, notice_ids: list[int]) -> str:
    """Job (from the outbox): one department's digest. Raises when the server does not take
    it; the outbox tries again with backoff."""
    settings = ctx.settings
    if not settings.smtp_url or not settings.mail_address:
        return "no mail out configured"
    async with ctx.db.session() as session:
        department = await session.get(Department, department_id)
        notices = list(
            await session.scalars(
                select(Notice).where(Notice.id.in_(notice_ids)).order_by(Notice.id)
            )
        )
    if department is None or not department.email or not notices:
        return "nothing to send"
    key = f"{DIGEST_JOB}:{notice_ids[0]}"
    mail = digest(ctx, department, notices, settings.mail_address, key)
    await send(mail, SmtpServer.from_url(settings.smtp_url))
    return "sent"
