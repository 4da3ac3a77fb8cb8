"""core.intake.receive.receive: the only way a channel creates or adds to a case."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select
from stdnum import damm

from hotline.core.cases import tracking
from hotline.core.cases.actions import do_set_priority
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import CaseStatus, Media, Priority, QueueState
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import (
    Attachment,
    Case,
    CaseEvent,
    Citizen,
    ContactPoint,
    Interaction,
)
from tests.conftest import count_rows
from tests.factories import ELF, PDF, PNG, submission


async def test_new_case_is_stored_whole_and_routed(ctx: AppContext, city: dict[str, int]) -> None:
    result = await receive(ctx, submission(channel="sms", external_id="sms-1"))
    assert result.created and not result.duplicate
    assert tracking.is_valid(result.tracking_number)
    async with ctx.db.session() as s:
        case = await s.get(Case, result.case_id)
        assert case is not None
        assert case.status == CaseStatus.RECEIVED
        assert case.department_id == city["roads"]
        assert case.first_channel == "sms"
        assert case.language == "zh_CN"
        assert case.reply_deadline is not None and case.reply_deadline > case.created_at
        citizen = await s.get(Citizen, case.citizen_id)
        assert citizen is not None and citizen.name == "张三"
        phone = await s.scalar(select(ContactPoint).where(ContactPoint.citizen_id == citizen.id))
        assert phone is not None and phone.value == "+8613800138000"
        interaction = await s.get(Interaction, result.interaction_id)
        assert interaction is not None and "大坑" in interaction.text
        item = await s.scalar(select(QueueItem).where(QueueItem.case_id == case.id))
        assert item is not None
        assert (item.media, item.state, item.skills) == (Media.SMS, QueueState.WAITING, ["pothole"])
        actions = list(
            await s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id))
        )
        assert actions == ["received", "routed"]


async def test_same_external_id_never_makes_a_second_case(
    ctx: AppContext, city: dict[str, int]
) -> None:
    first = await receive(ctx, submission(external_id="imap-42"))
    again = await receive(ctx, submission(external_id="imap-42", text="another poll"))
    assert again.duplicate and again.case_id == first.case_id
    # a gateway retrying in parallel
    results = await asyncio.gather(
        *(receive(ctx, submission(external_id="retry-7")) for _ in range(5))
    )
    assert len({r.case_id for r in results}) == 1
    counts = await count_rows(ctx)
    assert counts["cases"] == 2 and counts["interactions"] == 2


async def test_citizen_is_matched_by_contact_across_channels(
    ctx: AppContext, city: dict[str, int]
) -> None:
    a = await receive(
        ctx, submission(channel="phone", contacts=[{"kind": "phone", "value": "13800138000"}])
    )
    b = await receive(
        ctx,
        submission(
            channel="email",
            contacts=[
                {"kind": "phone", "value": "+86 138-0013-8000"},
                {"kind": "email", "value": "Zhang.San@Example.CN"},
            ],
        ),
    )
    async with ctx.db.session() as s:
        ca, cb = await s.get(Case, a.case_id), await s.get(Case, b.case_id)
        assert ca is not None and cb is not None
        assert ca.citizen_id == cb.citizen_id
        values = set(
            await s.scalars(
                select(ContactPoint.value).where(ContactPoint.citizen_id == ca.citizen_id)
            )
        )
    assert values == {"+8613800138000", "Zhang.San@example.cn"}


async def test_anonymous_submission_has_no_citizen(ctx: AppContext, city: dict[str, int]) -> None:
    result = await receive(ctx, submission(contacts=[], citizen_name=None))
    async with ctx.db.session() as s:
        case = await s.get(Case, result.case_id)
        assert case is not None and case.citizen_id is None


async def test_tracking_number_appends_to_open_case_and_follows_closed_one(
    ctx: AppContext, city: dict[str, int]
) -> None:
    first = await receive(ctx, submission())
    spoken = tracking.display(first.tracking_number)  # as read out over the phone
    more = await receive(
        ctx, submission(tracking_number=spoken, text="坑越来越大了", channel="phone")
    )
    assert more.case_id == first.case_id and not more.created
    async with ctx.db.transaction() as s:
        case = await s.get(Case, first.case_id)
        assert case is not None
        case.status = CaseStatus.CLOSED
    later = await receive(ctx, submission(tracking_number=first.tracking_number, text="又坏了"))
    assert later.created and later.case_id != first.case_id
    async with ctx.db.session() as s:
        events = list(
            await s.execute(
                select(CaseEvent.action, CaseEvent.detail)
                .where(CaseEvent.case_id.in_([first.case_id, later.case_id]))
                .order_by(CaseEvent.id)
            )
        )
    assert ("information_added", {"channel": "phone"}) in [(a, d) for a, d in events]
    assert any(a == "received" and d.get("follows") == first.tracking_number for a, d in events)


async def test_mistyped_tracking_number_still_keeps_the_message(
    ctx: AppContext, city: dict[str, int]
) -> None:
    first = await receive(ctx, submission())
    wrong = first.tracking_number[:-1] + str((int(first.tracking_number[-1]) + 1) % 10)
    result = await receive(ctx, submission(tracking_number=wrong, text="补充说明"))
    assert result.created and result.case_id != first.case_id


async def test_bad_input_names_every_problem_and_stores_nothing(
    ctx: AppContext, city: dict[str, int]
) -> None:
    before = await count_rows(ctx)
    bad = submission(
        text="x" * (ctx.settings.max_text_chars + 1),
        category="no-such-service",
        contacts=[{"kind": "phone", "value": "12"}, {"kind": "email", "value": "not-an-address"}],
        attachments=[{"filename": "photo.jpg", "data": ELF}, {"filename": "ok.pdf", "data": PDF}],
    )
    with pytest.raises(IntakeRefused) as refused:
        await receive(ctx, bad)
    codes = {(p.field, p.code) for p in refused.value.problems}
    assert codes == {
        ("text", "too_long"),
        ("category", "unknown_category"),
        ("contacts.0", "invalid_phone"),
        ("contacts.1", "invalid_email"),
        ("attachments.0", "type_not_allowed"),
    }
    assert "photo.jpg" in str(refused.value)
    assert await count_rows(ctx) == before
    assert not ctx.files.root.exists() or not any(p.is_file() for p in ctx.files.root.rglob("*"))


async def test_too_many_and_too_large_attachments_are_refused(
    ctx: AppContext, city: dict[str, int]
) -> None:
    ctx.settings.max_attachment_bytes = 1024
    big = PDF + b"0" * 2000
    with pytest.raises(IntakeRefused) as refused:
        await receive(
            ctx,
            submission(attachments=[{"filename": "big.pdf", "data": big}] + [{"data": PNG}] * 10),
        )
    assert {p.code for p in refused.value.problems} == {"too_many", "too_large"}


async def test_attachment_type_comes_from_content_and_bytes_are_stored_once(
    ctx: AppContext, city: dict[str, int]
) -> None:
    raw = b"From: someone\r\n\r\nraw source"
    a = await receive(ctx, submission(attachments=[{"filename": "scan.pdf", "data": PNG}], raw=raw))
    await receive(ctx, submission(attachments=[{"filename": "again.png", "data": PNG}]))
    async with ctx.db.session() as s:
        rows = list(await s.scalars(select(Attachment).order_by(Attachment.id)))
        interaction = await s.get(Interaction, a.interaction_id)
    assert [r.content_type for r in rows] == ["image/png", "image/png"]
    assert rows[0].filename == "scan.pdf" and rows[0].sha256 == rows[1].sha256
    assert ctx.files.get(rows[0].sha256) == PNG
    files = [p for p in ctx.files.root.rglob("*") if p.is_file()]
    assert len(files) == 2  # the PNG once, the raw source once
    assert (
        interaction is not None
        and interaction.raw_sha256
        and ctx.files.get(interaction.raw_sha256) == raw
    )


async def test_director_mailbox_cases_are_sealed(ctx: AppContext, city: dict[str, int]) -> None:
    result = await receive(ctx, submission(kind="director_mailbox", category=None))
    async with ctx.db.session() as s:
        case = await s.get(Case, result.case_id)
    assert case is not None and case.sealed and case.department_id is None
    # a letter has no service, but a reply deadline like every case (15 working days by default)
    assert case.reply_deadline is not None
    assert case.reply_deadline - case.created_at >= timedelta(days=15)


async def test_language_follows_submission_then_citizen(
    ctx: AppContext, city: dict[str, int]
) -> None:
    first = await receive(ctx, submission(language="en", text="Big pothole on Renmin Road"))
    second = await receive(ctx, submission(text="Still there"))  # same phone, no language given
    async with ctx.db.session() as s:
        c1, c2 = await s.get(Case, first.case_id), await s.get(Case, second.case_id)
    assert c1 is not None and c2 is not None and (c1.language, c2.language) == ("en", "en")


async def test_tracking_number_clash_draws_again(
    ctx: AppContext, city: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = (await receive(ctx, submission())).tracking_number
    fresh_valid = f"261123000000{damm.calc_check_digit('261123000000')}"
    fresh = iter([taken, taken, fresh_valid])
    monkeypatch.setattr(tracking, "new_tracking_number", lambda now: next(fresh))
    result = await receive(ctx, submission())
    assert result.tracking_number == fresh_valid


async def test_a_refused_action_writes_nothing(ctx: AppContext, city: dict[str, int]) -> None:
    result = await receive(ctx, submission())
    await do_set_priority(ctx, result.case_id, Priority.URGENT, SYSTEM)
    before = await count_rows(ctx)
    with pytest.raises(Exception, match="already urgent"):
        await do_set_priority(ctx, result.case_id, Priority.URGENT, SYSTEM)
    assert await count_rows(ctx) == before
