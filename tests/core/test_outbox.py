"""The job outbox: follow-up work commits with its cause, runs until done, and what a crash or
a broken job store drops is handed again (the relay) or written again (the reconciliation).
Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from hotline.core.cases.lookup import lookup_code
from hotline.core.cases.replies import LOOKUP_CODE_MASK, OutboundMessage
from hotline.core.commands import cli
from hotline.core.commands.jobs import dead_line
from hotline.core.delivery import followups
from hotline.core.delivery.jobs import JobSpec
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext, Kernel
from hotline.core.storage import outbox
from hotline.core.storage.enums import Direction
from hotline.core.storage.models.base import utcnow
from hotline.core.storage.models.cases import CaseEvent, Interaction
from hotline.core.storage.models.delivery import OutboxJob
from hotline.plugins.acknowledge import JOB as ACK_JOB
from tests.conftest import drain_jobs, seed_city
from tests.factories import submission

EMAIL = [{"kind": "email", "value": "wang.fang@example.cn"}]


class Mailbox:
    """A channel for e-mail contact points that keeps what it was given."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    @hookimpl
    async def send_reply(self, message: OutboundMessage) -> str | None:
        if message.contact_kind != "email":
            return None
        self.sent.append(message)
        return f"mail-{message.interaction_id}"


@pytest.fixture
async def mailbox(ctx: AppContext, kernel: Kernel) -> Mailbox:
    box = Mailbox()
    kernel.pm.register(box)
    await seed_city(ctx)
    return box


async def rows(ctx: AppContext, *where: Any) -> list[OutboxJob]:
    async with ctx.db.session() as s:
        return list(await s.scalars(select(OutboxJob).where(*where).order_by(OutboxJob.id)))


async def lapse(ctx: AppContext) -> None:
    """Time passes: every lease and every wait is over (as after a restart long after)."""
    past = utcnow() - timedelta(seconds=1)
    async with ctx.db.transaction() as s:
        await s.execute(update(OutboxJob).values(lease_until=past, next_try_at=past))


async def settle(ctx: AppContext) -> None:
    """Run every due row here, as workers would, until nothing is left to run."""
    for _ in range(10):
        due = await rows(ctx, OutboxJob.state.in_(outbox.LIVE))
        if not due:
            return
        for row in due:
            await followups.run(ctx, row.key)


async def acknowledgements(ctx: AppContext, case_id: int) -> list[Interaction]:
    async with ctx.db.session() as s:
        return list(
            await s.scalars(
                select(Interaction).where(
                    Interaction.case_id == case_id,
                    Interaction.direction == Direction.OUT,
                    Interaction.meta["purpose"].as_string() == "acknowledgement",
                )
            )
        )


async def test_the_acknowledgement_job_commits_with_the_case(
    ctx: AppContext, mailbox: Mailbox
) -> None:
    result = await receive(ctx, submission(contacts=EMAIL))
    [row] = await rows(ctx, OutboxJob.job == ACK_JOB)
    assert (row.case_id, row.state, row.args["case_id"]) == (result.case_id, "pending", row.case_id)
    # a transaction that writes a 'received' event and then fails leaves no job behind
    with pytest.raises(RuntimeError):
        async with ctx.db.transaction() as s:
            s.add(CaseEvent(case_id=result.case_id, action="received"))
            await s.flush()
            raise RuntimeError("the write failed")
    assert len(await rows(ctx, OutboxJob.job == ACK_JOB)) == 1
    # handed to the job store at the commit: a worker runs it, then the delivery
    while await asyncio.to_thread(drain_jobs, ctx.jobs):
        pass
    assert [m.tracking_number for m in mailbox.sent] == [result.tracking_number]
    assert {r.state for r in await rows(ctx)} == {"done"}


async def test_work_the_job_store_never_got_is_handed_again_by_the_relay(
    ctx: AppContext, mailbox: Mailbox
) -> None:
    async def refused(_rows: Any) -> None:
        raise OSError("database or disk is full")  # the job store refuses the hand-over

    ctx.db.on_commit = refused
    result = await receive(ctx, submission(contacts=EMAIL))
    assert ctx.jobs.pending() == 0  # nothing reached huey, the case is committed all the same
    ctx.db.on_commit = ctx.jobs.ahand_over
    assert await followups.relay(ctx) == 0  # its lease has not lapsed: a worker may have it
    await lapse(ctx)
    assert await followups.relay(ctx) == 1
    while await asyncio.to_thread(drain_jobs, ctx.jobs):
        pass
    assert [m.tracking_number for m in mailbox.sent] == [result.tracking_number]


async def test_a_job_lost_mid_run_runs_again_after_its_lease_and_only_once(
    ctx: AppContext, mailbox: Mailbox
) -> None:
    result = await receive(ctx, submission(contacts=EMAIL))
    assert await asyncio.to_thread(ctx.jobs.huey.dequeue) is not None  # huey took it: "killed"
    [row] = await rows(ctx, OutboxJob.job == ACK_JOB)
    claimed = await followups._claim(ctx, row.key)  # a worker claimed it, then died
    assert claimed is not None
    assert await followups.run(ctx, row.key) == "not due"  # held by its lease
    assert await followups.relay(ctx) == 0
    await lapse(ctx)
    assert await followups.relay(ctx) == 1
    await settle(ctx)
    assert len(await acknowledgements(ctx, result.case_id)) == 1
    assert len(mailbox.sent) == 1


async def test_a_job_that_did_its_work_before_the_crash_does_not_do_it_twice(
    ctx: AppContext, mailbox: Mailbox
) -> None:
    from hotline.plugins.acknowledge import acknowledge

    result = await receive(ctx, submission(contacts=EMAIL))
    # the ack job ran and committed its work, then the process died before marking it done
    assert await acknowledge(ctx, result.case_id) == "queued"
    [row] = await rows(ctx, OutboxJob.job == ACK_JOB)
    assert await followups.run(ctx, row.key) == "already acknowledged"
    # two runs at once (a lapsed lease) write one acknowledgement too
    outcomes = await asyncio.gather(*(acknowledge(ctx, result.case_id) for _ in range(3)))
    assert set(outcomes) == {"already acknowledged"}
    await settle(ctx)
    assert len(await acknowledgements(ctx, result.case_id)) == 1 and len(mailbox.sent) == 1


async def test_a_long_job_keeps_its_lease_while_it_runs(ctx: AppContext) -> None:
    ran: list[int] = []

    async def slow(_ctx: AppContext, n: int) -> str:
        await asyncio.sleep(1.5)
        ran.append(n)
        return "slow done"

    ctx.jobs.register(JobSpec("probe.slow", slow, lease_seconds=0.6))
    async with ctx.db.transaction() as s:
        outbox.add(s, "probe.slow", key="probe.slow:1", args={"n": 1})
    running = asyncio.create_task(followups.run(ctx, "probe.slow:1"))
    relayed = 0
    for _ in range(6):  # well past the first lease: renewed, never handed to another worker
        await asyncio.sleep(0.25)
        relayed += await followups.relay(ctx)
    assert await running == "slow done"
    assert relayed == 0 and ran == [1]
    [row] = await rows(ctx)
    assert row.state == "done" and row.attempts == 1


async def test_failures_back_off_then_the_job_is_dead_on_the_case_and_counted(
    ctx: AppContext,
    mailbox: Mailbox,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(_ctx: AppContext, case_id: int) -> None:
        raise ConnectionRefusedError("gateway at 10.0.0.9 refused")

    ctx.jobs.register(JobSpec("probe.broken", broken, retries=2, retry_delay=30, retry_backoff=2))
    result = await receive(ctx, submission(contacts=EMAIL))
    async with ctx.db.transaction() as s:
        outbox.add(
            s, "probe.broken", key="b1", args={"case_id": result.case_id}, case_id=result.case_id
        )
    waits = []
    for _ in range(2):
        assert await followups.run(ctx, "b1") == "retry"
        [row] = await rows(ctx, OutboxJob.key == "b1")
        waits.append((row.next_try_at - utcnow()).total_seconds())
        assert await followups.run(ctx, "b1") == "not due"  # it waits its turn
        await lapse(ctx)
    assert 25 < waits[0] <= 30 and 55 < waits[1] <= 60  # 30 s, then 60 s
    assert await asyncio.to_thread(dead_line, settings) is None
    assert await followups.run(ctx, "b1") == "dead"
    [row] = await rows(ctx, OutboxJob.key == "b1")
    assert row.state == "dead" and "refused" in (row.last_error or "")
    async with ctx.db.session() as s:
        [event] = await s.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == result.case_id, CaseEvent.action == "follow_up_failed"
            )
        )
    assert event.detail["job"] == "probe.broken" and event.detail["attempts"] == 3
    assert (await followups.counts(ctx))["dead"] == 1
    assert "1 follow-up jobs failed" in (await asyncio.to_thread(dead_line, settings) or "")
    assert "10.0.0.9" not in caplog.text  # the log has the error's type, not its text
    assert await followups.run(ctx, "b1") == "not due"  # dead stays dead...
    # ... the operator sees it, with its case, and tries it again
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.db_url)
    assert await asyncio.to_thread(cli.main, ["jobs"]) == 1
    listed = capsys.readouterr().out
    assert "dead 1" in listed and f"dead probe.broken case {result.tracking_number}" in listed
    assert await asyncio.to_thread(cli.main, ["jobs", "retry"]) == 0
    assert "1 follow-up jobs will be tried again" in capsys.readouterr().out
    [row] = await rows(ctx, OutboxJob.key == "b1")
    assert (row.state, row.attempts) == ("pending", 0)


async def test_the_reconciliation_writes_a_missing_acknowledgement_once(
    ctx: AppContext, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    acknowledged = await receive(ctx, submission(contacts=EMAIL))
    await settle(ctx)
    lost = await receive(ctx, submission(contacts=[{"kind": "email", "value": "li@example.cn"}]))
    anonymous = await receive(ctx, submission(contacts=[], citizen_name=None))
    async with ctx.db.transaction() as s:  # as a case from before the outbox: no job at all
        await s.execute(delete(OutboxJob).where(OutboxJob.case_id == lost.case_id))
    with caplog.at_level(logging.INFO, logger="hotline.reconcile"):
        assert await followups.reconcile(ctx) == 1
    [line] = [r for r in caplog.records if r.getMessage().startswith("reconciliation wrote")]
    assert (line.job, line.count) == (ACK_JOB, 1)  # type: ignore[attr-defined]
    assert "li@example.cn" not in caplog.text
    assert await followups.reconcile(ctx) == 0  # written once
    await settle(ctx)
    numbers = sorted(m.tracking_number for m in mailbox.sent)
    assert numbers == sorted([acknowledged.tracking_number, lost.tracking_number])
    assert await acknowledgements(ctx, anonymous.case_id) == []  # nowhere to send one


async def test_a_deduplicated_retry_of_a_submission_without_acknowledgement_gets_one(
    ctx: AppContext, mailbox: Mailbox
) -> None:
    first = submission(contacts=EMAIL)
    result = await receive(ctx, first)
    async with ctx.db.transaction() as s:  # its acknowledgement job was lost
        await s.execute(delete(OutboxJob))
    again = await receive(ctx, first)  # the citizen's client sends it again
    assert again.duplicate and again.case_id == result.case_id
    [row] = await rows(ctx, OutboxJob.job == ACK_JOB)
    assert row.case_id == result.case_id
    await settle(ctx)
    assert len(mailbox.sent) == 1
    assert await receive(ctx, first) and len(await rows(ctx, OutboxJob.job == ACK_JOB)) == 1


@pytest.mark.parametrize("language", ["zh_CN", "en"])
async def test_the_lookup_code_is_sent_but_never_stored(
    ctx: AppContext, mailbox: Mailbox, language: str
) -> None:
    result = await receive(ctx, submission(contacts=EMAIL, language=language))
    await settle(ctx)
    code = lookup_code(ctx.secret_key, result.tracking_number)
    [message] = mailbox.sent
    assert code in message.text and LOOKUP_CODE_MASK not in message.text
    [stored] = await acknowledgements(ctx, result.case_id)
    assert LOOKUP_CODE_MASK in stored.text
    # nowhere an agent could read it: no message, event, notice or job holds it
    async with ctx.db.session() as s:
        texts = [i.text + json.dumps(i.meta) for i in await s.scalars(select(Interaction))]
        texts += [json.dumps(e.detail) for e in await s.scalars(select(CaseEvent))]
        texts += [json.dumps(j.args) + j.key for j in await s.scalars(select(OutboxJob))]
    assert texts and not [t for t in texts if code in t]


def test_job_store_failures_are_logged_once_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Workers polling a job store that fails at every look (here: a damaged file) log it once
    per kind of failure, not once per poll."""
    from hotline.core.delivery.jobs import JobQueue, make_huey

    settings = Settings(data_dir=tmp_path, secret_key="x" * 32)
    queue = JobQueue(make_huey(settings), lambda: None)  # type: ignore[arg-type, return-value]
    for path in tmp_path.glob("jobs.db*"):
        path.unlink()
    (tmp_path / "jobs.db").write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING):
        queue.start_in_process(workers=2, poll_seconds=0.01)
        time.sleep(1.5)  # a hundred failed polls and more
        queue.stop()
    polls = [r for r in caplog.records if r.name.startswith("huey")]
    assert 1 <= len(polls) <= 3, [r.getMessage() for r in polls]  # one per kind of failure
