"""Departments' notices by e-mail: a dispatch, an urging, a deadline reach the department's
mailbox once, with links and no citizen's personal data; departments without a mailbox are
skipped; a stopped SMTP server delays them (the digest job waits in the outbox and retries),
never loses them, and a retry sends the same Message-ID."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, update

from hotline.channels.email.departments import DIGEST_JOB, mail_notices
from hotline.core.delivery import followups
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.shell.context import AppContext, Kernel, open_context
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.delivery import OutboxJob
from hotline.core.storage.models.reference import Department
from hotline.core.storage.models.workflow import Notice
from hotline.core.workflow.dispatch import do_dispatch
from hotline.core.workflow.oversight import do_urge
from tests.factories import submission
from tests.mailservers import SmtpSink

AGENT = Actor(ActorKind.STAFF, label="agent1")


@pytest.fixture
async def notice_ctx(settings: Settings, smtp_sink: SmtpSink) -> AsyncIterator[AppContext]:
    configured = settings.model_copy(
        update={
            "smtp_url": smtp_sink.url,
            "mail_address": "12345@hotline.example.cn",
            "public_url": "https://12345.example.cn",
            "default_language": "zh_CN",
        }
    )
    async with open_context(configured, Kernel(configured)) as context:
        yield context


async def test_department_notices_go_to_its_mailbox_once(
    notice_ctx: AppContext, smtp_sink: SmtpSink, city: dict[str, int]
) -> None:
    ctx = notice_ctx
    async with ctx.db.transaction() as s:
        await s.execute(
            update(Department).where(Department.code == "roads").values(email="roads@gov.cn")
        )
    case = await receive(ctx, submission())
    await do_dispatch(ctx, case.case_id, "roads", AGENT, co=["env"])  # env has no mailbox
    await do_urge(ctx, case.case_id, "请尽快办理", AGENT)

    smtp_sink.stop()
    assert await mail_notices(ctx) == 1  # one digest job, for roads
    assert await mail_notices(ctx) == 0  # each notice in one digest
    async with ctx.db.session() as s:
        [job] = await s.scalars(select(OutboxJob).where(OutboxJob.job == DIGEST_JOB))
    assert await followups.run(ctx, job.key) == "retry"  # the server is down: nothing lost
    async with ctx.db.transaction() as s:  # its next try is due (as a minute later)
        row = await s.get(OutboxJob, job.id)
        assert row is not None and row.state == "pending" and "Error" in (row.last_error or "")
        row.next_try_at = utcnow()
    smtp_sink.start()
    assert await followups.run(ctx, job.key) == "sent"
    assert await followups.run(ctx, job.key) == "not due"  # done: never sent twice
    assert await followups.relay(ctx) == 0

    [mail] = smtp_sink.received
    assert mail["Message-ID"].startswith("<hotline.notices.")
    body = mail.get_content()
    assert mail["To"] == "roads@gov.cn" and mail["Auto-Submitted"] == "auto-generated"
    assert "贵单位有新派工单" in body and "催办" in body
    assert f"https://12345.example.cn/console/department/cases/{case.tracking_number}" in body
    assert "张三" not in body and "13800138000" not in body  # nothing personal
    async with ctx.db.session() as s:
        waiting = await s.scalar(
            select(func.count()).select_from(Notice).where(Notice.emailed_at.is_(None))
        )
    # the hotline's own notices stay in the message centre only
    assert waiting == await _hotline_notices(ctx)


async def _hotline_notices(ctx: AppContext) -> int:
    async with ctx.db.session() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(Notice).where(Notice.department_id.is_(None))
            )
            or 0
        )
