"""The built-in routing rules: keyword and district rules before the category's default, the
reason kept for the agent, and automatic dispatch only where a category has it on."""

from __future__ import annotations

from sqlalchemy import select, update

from hotline.core.intake.receive import receive
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseStatus
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import RoutingRule, ServiceCategory
from hotline.core.storage.models.workflow import Assignment
from tests.factories import submission


async def _case(ctx: AppContext, case_id: int) -> Case:
    async with ctx.db.session() as s:
        case = await s.get(Case, case_id)
    assert case is not None
    return case


async def test_keyword_then_district_then_category(ctx: AppContext, city: dict[str, int]) -> None:
    async with ctx.db.transaction() as s:
        s.add_all(
            [
                RoutingRule(kind="keyword", pattern="噪音", department_id=city["env"]),
                RoutingRule(kind="district", pattern="高新区", department_id=city["city"]),
                RoutingRule(
                    kind="keyword",
                    pattern="井盖",
                    department_id=city["env"],
                    category_id=None,
                    active=False,
                ),
            ]
        )
    noisy = await receive(
        ctx, submission(text="工地夜间噪音", location={"text": "高新区科技路1号"})
    )
    placed = await receive(ctx, submission(location={"text": "高新区科技路2号"}))
    plain = await receive(ctx, submission(text="井盖缺失，很危险"))
    cases = [await _case(ctx, r.case_id) for r in (noisy, placed, plain)]
    assert [(c.department_id, c.route_reason) for c in cases] == [
        (city["env"], "keyword:噪音"),
        (city["city"], "district:高新区"),
        (city["roads"], "category:pothole"),  # the switched-off rule did not apply
    ]
    assert all(c.status == CaseStatus.RECEIVED for c in cases)  # suggested, not dispatched


async def test_rule_limited_to_a_service(ctx: AppContext, city: dict[str, int]) -> None:
    async with ctx.db.transaction() as s:
        noise = await s.scalar(select(ServiceCategory.id).where(ServiceCategory.code == "noise"))
        s.add(
            RoutingRule(
                kind="keyword", pattern="夜间", department_id=city["city"], category_id=noise
            )
        )
    pothole = await receive(ctx, submission(text="夜间路灯下有坑"))
    night_noise = await receive(ctx, submission(category="noise", text="夜间施工"))
    assert (await _case(ctx, pothole.case_id)).department_id == city["roads"]
    assert (await _case(ctx, night_noise.case_id)).department_id == city["city"]


async def test_automatic_dispatch_where_the_category_has_it(
    ctx: AppContext, city: dict[str, int]
) -> None:
    async with ctx.db.transaction() as s:
        await s.execute(
            update(ServiceCategory)
            .where(ServiceCategory.code == "pothole")
            .values(auto_dispatch=True)
        )
    auto = await receive(ctx, submission())
    manual = await receive(ctx, submission(category="noise"))
    assert (await _case(ctx, auto.case_id)).status == CaseStatus.DISPATCHED
    assert (await _case(ctx, manual.case_id)).status == CaseStatus.RECEIVED
    async with ctx.db.session() as s:
        [assignment] = list(await s.scalars(select(Assignment)))
    assert (assignment.case_id, assignment.department_id) == (auto.case_id, city["roads"])
