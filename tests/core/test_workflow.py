"""The government case workflow in core: dispatch, sign-for, reply, review, answer, evaluation,
close; returns, co-handling, extensions, urging, reopen, merge, split, link; on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.core.cases.actions import ActionRefused
from hotline.core.cases.lookup import public_timeline
from hotline.core.intake.receive import receive
from hotline.core.reference.calendar import load_calendar
from hotline.core.reference.deadlines import add_working_days, deadline
from hotline.core.shell.context import AppContext
from hotline.core.storage.actors import Actor
from hotline.core.storage.enums import ActorKind, CaseStatus, Direction, Satisfaction
from hotline.core.storage.models.cases import Case, CaseEvent, CaseLink, Interaction
from hotline.core.storage.models.reference import ServiceCategory
from hotline.core.storage.models.workflow import Assignment, Notice
from hotline.core.workflow.closing import do_evaluate, do_reopen
from hotline.core.workflow.dispatch import (
    do_department_reply,
    do_dispatch,
    do_return,
    do_review,
    do_sign_for,
)
from hotline.core.workflow.linking import do_link, do_merge, do_split
from hotline.core.workflow.oversight import (
    do_decide_extension,
    do_request_extension,
    do_supervise,
    do_urge,
)
from tests.factories import submission

AGENT = Actor(ActorKind.STAFF, label="agent1")
OFFICER = Actor(ActorKind.STAFF, label="roads-officer")
SUPERVISOR = Actor(ActorKind.STAFF, label="supervisor1")


async def _case(ctx: AppContext, case_id: int) -> Case:
    async with ctx.db.session() as s:
        case = await s.get(Case, case_id)
    assert case is not None
    return case


async def _assignments(ctx: AppContext, case_id: int) -> list[Assignment]:
    async with ctx.db.session() as s:
        return list(
            await s.scalars(
                select(Assignment).where(Assignment.case_id == case_id).order_by(Assignment.id)
            )
        )


async def _notices(ctx: AppContext, **where: object) -> list[Notice]:
    async with ctx.db.session() as s:
        query = select(Notice).order_by(Notice.id)
        for key, value in where.items():
            query = query.where(getattr(Notice, key) == value)
        return list(await s.scalars(query))


async def test_the_whole_loop(ctx: AppContext, city: dict[str, int]) -> None:
    """citizen -> hotline -> department -> review -> answer -> evaluation -> closed."""
    received = await receive(ctx, submission(channel="sms", external_id="loop-1"))
    case_id = received.case_id

    await do_dispatch(ctx, case_id, "roads", AGENT, instructions="请三日内到场查看")
    case = await _case(ctx, case_id)
    assert (case.status, case.department_id) == (CaseStatus.DISPATCHED, city["roads"])
    [lead] = await _assignments(ctx, case_id)
    assert lead.lead and lead.state == "dispatched" and lead.instructions == "请三日内到场查看"
    assert lead.sign_deadline is not None and lead.reply_deadline is not None
    assert lead.sign_deadline <= lead.reply_deadline
    assert [n.kind for n in await _notices(ctx, department_id=city["roads"])] == ["dispatched"]

    with pytest.raises(ActionRefused, match="not with this department"):
        await do_sign_for(ctx, case_id, city["env"], OFFICER)
    with pytest.raises(ActionRefused):  # a reply before signing for it
        await do_department_reply(ctx, case_id, city["roads"], "已修复", OFFICER)
    await do_sign_for(ctx, case_id, city["roads"], OFFICER)
    assert (await _case(ctx, case_id)).status == CaseStatus.ACCEPTED

    await do_department_reply(ctx, case_id, city["roads"], "坑已于今日填平。", OFFICER)
    assert (await _case(ctx, case_id)).status == CaseStatus.REPLIED
    assert [n.kind for n in await _notices(ctx, role="hotline")] == ["reply_to_review"]

    await do_review(ctx, case_id, True, AGENT)
    case = await _case(ctx, case_id)
    assert case.status == CaseStatus.ANSWERED and case.answered_at is not None
    async with ctx.db.session() as s:
        sent = await s.scalar(
            select(Interaction).where(
                Interaction.case_id == case_id, Interaction.direction == Direction.OUT
            )
        )
    assert sent is not None and sent.text == "坑已于今日填平。" and sent.channel == "phone"
    assert [a.state for a in await _assignments(ctx, case_id)] == ["done"]

    await do_evaluate(ctx, case_id, Satisfaction.SATISFIED, AGENT, via="call")
    case = await _case(ctx, case_id)
    assert case.status == CaseStatus.CLOSED and case.satisfaction == "satisfied"

    found = await public_timeline(ctx.db, received.tracking_number)
    assert found is not None
    public = [e.action for e in found[1]]
    assert public == ["received", "dispatched", "signed_for", "answered", "evaluated"]
    async with ctx.db.session() as s:
        internal = list(
            await s.scalars(
                select(CaseEvent.action).where(
                    CaseEvent.case_id == case_id, CaseEvent.public.is_(False)
                )
            )
        )
    assert "department_replied" in internal


async def test_return_and_redispatch(ctx: AppContext, city: dict[str, int]) -> None:
    case_id = (await receive(ctx, submission())).case_id
    await do_dispatch(ctx, case_id, "env", AGENT)
    with pytest.raises(ActionRefused, match="empty"):
        await do_return(ctx, case_id, city["env"], "  ", OFFICER)
    await do_return(ctx, case_id, city["env"], "道路问题不属我局职责", OFFICER)
    case = await _case(ctx, case_id)
    assert case.status == CaseStatus.RECEIVED and case.department_id is None
    [notice] = await _notices(ctx, role="hotline")
    assert notice.kind == "returned" and notice.detail["reason"] == "道路问题不属我局职责"
    await do_dispatch(ctx, case_id, "roads", AGENT)
    states = [(a.department_id, a.state) for a in await _assignments(ctx, case_id)]
    assert states == [(city["env"], "returned"), (city["roads"], "dispatched")]
    with pytest.raises(ActionRefused):  # the returning department has nothing left to do
        await do_sign_for(ctx, case_id, city["env"], OFFICER)


async def test_co_handling_closes_only_when_the_lead_replies(
    ctx: AppContext, city: dict[str, int]
) -> None:
    case_id = (await receive(ctx, submission())).case_id
    await do_dispatch(ctx, case_id, "roads", AGENT, co=["env", "roads"])
    assignments = await _assignments(ctx, case_id)
    assert [(a.department_id, a.lead) for a in assignments] == [
        (city["roads"], True),
        (city["env"], False),
    ]
    await do_sign_for(ctx, case_id, city["env"], OFFICER)
    await do_department_reply(ctx, case_id, city["env"], "噪声已监测，达标。", OFFICER)
    case = await _case(ctx, case_id)
    assert case.status == CaseStatus.DISPATCHED  # the co-handler's part does not finish it
    assert [n.kind for n in await _notices(ctx, department_id=city["roads"])][-1] == "co_replied"
    with pytest.raises(ActionRefused, match="no reply to review"):
        await do_review(ctx, case_id, True, AGENT)
    await do_sign_for(ctx, case_id, city["roads"], OFFICER)
    await do_department_reply(ctx, case_id, city["roads"], "道路已修复，噪声已核查。", OFFICER)
    await do_review(ctx, case_id, True, AGENT)
    assert (await _case(ctx, case_id)).status == CaseStatus.ANSWERED
    assert [a.state for a in await _assignments(ctx, case_id)] == ["done", "done"]


async def test_review_sends_the_reply_back_with_a_reason(
    ctx: AppContext, city: dict[str, int]
) -> None:
    case_id = (await receive(ctx, submission())).case_id
    await do_dispatch(ctx, case_id, "roads", AGENT)
    await do_sign_for(ctx, case_id, city["roads"], OFFICER)
    await do_department_reply(ctx, case_id, city["roads"], "已处理。", OFFICER)
    with pytest.raises(ActionRefused, match="reason"):
        await do_review(ctx, case_id, False, AGENT)
    await do_review(ctx, case_id, False, AGENT, reason="答复过于简单，请说明处理结果和时间")
    case = await _case(ctx, case_id)
    assert case.status == CaseStatus.ACCEPTED
    [lead] = await _assignments(ctx, case_id)
    assert lead.state == "accepted" and lead.sent_back == 1 and "处理结果" in lead.reason
    kinds = [n.kind for n in await _notices(ctx, department_id=city["roads"])]
    assert kinds == ["dispatched", "reply_sent_back"]
    await do_department_reply(ctx, case_id, city["roads"], "已于3日填平并压实。", OFFICER)
    await do_review(ctx, case_id, True, AGENT, answer="您反映的道路坑洞已于3日填平。")
    async with ctx.db.session() as s:
        sent = await s.scalar(select(Interaction.text).where(Interaction.direction == "out"))
    assert sent == "您反映的道路坑洞已于3日填平。"  # the reviewer's wording went out


async def test_extension_moves_the_reply_deadline_by_working_days(
    ctx: AppContext, city: dict[str, int]
) -> None:
    case_id = (await receive(ctx, submission())).case_id
    await do_dispatch(ctx, case_id, "roads", AGENT)
    [before] = await _assignments(ctx, case_id)
    with pytest.raises(ActionRefused, match="1 to 30"):
        await do_request_extension(ctx, case_id, city["roads"], 90, "需要招标", OFFICER)
    await do_request_extension(ctx, case_id, city["roads"], 3, "需协调施工单位", OFFICER)
    with pytest.raises(ActionRefused, match="already waiting"):
        await do_request_extension(ctx, case_id, city["roads"], 2, "再次", OFFICER)
    assert [n.kind for n in await _notices(ctx, role="supervisor")] == ["extension_requested"]
    await do_decide_extension(ctx, case_id, city["roads"], True, SUPERVISOR)
    [after] = await _assignments(ctx, case_id)
    async with ctx.db.session() as s:
        cal = await load_calendar(s, ctx.settings.holidays_country)
    assert before.reply_deadline is not None
    expected = add_working_days(before.reply_deadline, 3, ctx.tz, cal)
    assert after.reply_deadline == expected and after.extension_state == "approved"
    assert (await _case(ctx, case_id)).reply_deadline == expected
    with pytest.raises(ActionRefused, match="no extension"):
        await do_decide_extension(ctx, case_id, city["roads"], False, SUPERVISOR)
    await do_request_extension(ctx, case_id, city["roads"], 5, "仍需时间", OFFICER)
    await do_decide_extension(ctx, case_id, city["roads"], False, SUPERVISOR)
    [refused] = await _assignments(ctx, case_id)
    assert refused.reply_deadline == expected and refused.extension_state == "refused"


async def test_urging_and_supervision(ctx: AppContext, city: dict[str, int]) -> None:
    case_id = (await receive(ctx, submission())).case_id
    with pytest.raises(ActionRefused, match="no department"):
        await do_urge(ctx, case_id, "请尽快办理", SUPERVISOR)
    await do_dispatch(ctx, case_id, "roads", AGENT, co=["env"])
    await do_urge(ctx, case_id, "市民再次来电，请尽快办理", SUPERVISOR)
    assert [a.urged for a in await _assignments(ctx, case_id)] == [1, 1]
    urged = await _notices(ctx, kind="urged")
    assert {n.department_id for n in urged} == {city["roads"], city["env"]}
    assert urged[0].detail["text"] == "市民再次来电，请尽快办理"
    await do_supervise(ctx, case_id, "重大民生问题", SUPERVISOR)
    assert (await _case(ctx, case_id)).supervised
    with pytest.raises(ActionRefused):
        await do_supervise(ctx, case_id, "again", SUPERVISOR)
    await do_supervise(ctx, case_id, "", SUPERVISOR, on=False)
    assert not (await _case(ctx, case_id)).supervised


async def _answered(ctx: AppContext, city: dict[str, int], **overrides: object) -> int:
    case_id = (await receive(ctx, submission(**overrides))).case_id
    await do_dispatch(ctx, case_id, "roads", AGENT)
    await do_sign_for(ctx, case_id, city["roads"], OFFICER)
    await do_department_reply(ctx, case_id, city["roads"], "已处理完毕。", OFFICER)
    await do_review(ctx, case_id, True, AGENT)
    return case_id


async def test_reopen_within_the_allowed_days(ctx: AppContext, city: dict[str, int]) -> None:
    case_id = await _answered(ctx, city)
    await do_evaluate(ctx, case_id, Satisfaction.NOT_SATISFIED, AGENT, comment="坑还在")
    assert [n.kind for n in await _notices(ctx, role="hotline")][-1] == "not_satisfied"
    await do_reopen(ctx, case_id, "市民反映问题未解决", AGENT)
    case = await _case(ctx, case_id)
    assert case.status == CaseStatus.RECEIVED and case.reopened == 1
    assert case.satisfaction is None and case.closed_at is None
    await do_dispatch(ctx, case_id, "roads", AGENT)
    assert len(await _assignments(ctx, case_id)) == 2  # the first round is kept

    late = await _answered(ctx, city)
    async with ctx.db.transaction() as s:
        row = await s.get(Case, late)
        assert row is not None and row.answered_at is not None
        row.answered_at -= timedelta(days=ctx.settings.reopen_days + 1)
    with pytest.raises(ActionRefused, match="days since the answer"):
        await do_reopen(ctx, late, "太晚了", AGENT)


async def test_merge_keeps_every_citizen_informed(ctx: AppContext, city: dict[str, int]) -> None:
    first = await receive(ctx, submission())
    second = await receive(
        ctx,
        submission(
            citizen_name="李四",
            contacts=[{"kind": "email", "value": "lisi@example.cn"}],
            channel="email",
        ),
    )
    await do_dispatch(ctx, first.case_id, "roads", AGENT)
    await do_merge(ctx, second.case_id, first.tracking_number, AGENT)
    with pytest.raises(ActionRefused, match="merged itself"):
        await do_merge(ctx, first.case_id, second.tracking_number, AGENT)
    merged = await _case(ctx, second.case_id)
    assert merged.merged_into_id == first.case_id
    found = await public_timeline(ctx.db, second.tracking_number)
    assert found is not None and [e.action for e in found[1]][-1] == "merged"

    await do_sign_for(ctx, first.case_id, city["roads"], OFFICER)
    await do_department_reply(ctx, first.case_id, city["roads"], "坑已填平。", OFFICER)
    await do_review(ctx, first.case_id, True, AGENT)
    async with ctx.db.session() as s:
        out = list(
            await s.execute(
                select(Interaction.case_id, Interaction.channel, Interaction.text).where(
                    Interaction.direction == Direction.OUT
                )
            )
        )
    assert sorted(tuple(r) for r in out) == sorted(
        [(first.case_id, "phone", "坑已填平。"), (second.case_id, "email", "坑已填平。")]
    )
    assert (await _case(ctx, second.case_id)).status == CaseStatus.ANSWERED


async def test_split_and_link(ctx: AppContext, city: dict[str, int]) -> None:
    original = await receive(ctx, submission())
    part = await do_split(ctx, original.case_id, "另外，小区夜间施工噪音扰民。", "noise", AGENT)
    assert part.tracking_number != original.tracking_number
    assert part.status == CaseStatus.RECEIVED and part.description.startswith("另外")
    whole = await _case(ctx, original.case_id)
    assert part.citizen_id == whole.citizen_id
    found = await public_timeline(ctx.db, part.tracking_number)
    assert found is not None and found[1][0].detail["split_from"] == original.tracking_number
    other = await receive(ctx, submission(citizen_name="王五", contacts=[]))
    await do_link(ctx, original.case_id, other.tracking_number, AGENT)
    with pytest.raises(ActionRefused, match="linked already"):
        await do_link(ctx, other.case_id, original.tracking_number, AGENT)
    async with ctx.db.session() as s:
        kinds = sorted(await s.scalars(select(CaseLink.kind)))
    assert kinds == ["related", "split"]


async def test_dispatch_needs_a_category_and_an_active_department(
    ctx: AppContext, city: dict[str, int]
) -> None:
    case_id = (await receive(ctx, submission(category=None))).case_id
    with pytest.raises(ActionRefused, match="classify"):
        await do_dispatch(ctx, case_id, "roads", AGENT)
    other = (await receive(ctx, submission())).case_id
    with pytest.raises(ActionRefused, match="no department"):
        await do_dispatch(ctx, other, "nowhere", AGENT)
    assert await _assignments(ctx, other) == []  # nothing half-written
    await do_dispatch(ctx, other, "roads", AGENT)
    with pytest.raises(ActionRefused, match="already with a department"):
        await do_dispatch(ctx, other, "env", AGENT)


async def test_dispatch_deadlines_follow_the_category_and_calendar(
    ctx: AppContext, city: dict[str, int]
) -> None:
    case_id = (await receive(ctx, submission(category="noise"))).case_id
    await do_dispatch(ctx, case_id, "env", AGENT)
    [assignment] = await _assignments(ctx, case_id)
    async with ctx.db.session() as s:
        category = await s.scalar(select(ServiceCategory).where(ServiceCategory.code == "noise"))
        cal = await load_calendar(s, ctx.settings.holidays_country)
    assert category is not None
    start = assignment.dispatched_at
    assert assignment.reply_deadline == deadline(start, 8, "working_hours", ctx.tz, cal)
    assert assignment.sign_deadline == deadline(start, 1, "working_days", ctx.tz, cal)
