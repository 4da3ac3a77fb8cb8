"""Built-in routing rules (``route_case``, answering last): the administrator's keyword rules
(words in the subject or text), then district rules (names in the address or place), then the
service category's default department. Rules are checked in their order (``position``); a
rule limited to one service applies only to cases of it."""

from __future__ import annotations

from collections.abc import Awaitable

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.core.intake.routing import Route
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import Department, RoutingRule, ServiceCategory

KEYWORD, DISTRICT = "keyword", "district"


def _matches(rule: RoutingRule, case: Case) -> bool:
    pattern = rule.pattern.strip().lower()
    if not pattern:
        return False
    if rule.kind == DISTRICT:
        haystack = case.location_text or ""
    else:
        haystack = f"{case.subject}\n{case.description}"
    return pattern in haystack.lower()


async def _route(ctx: AppContext, case: Case, category: ServiceCategory | None) -> Route | None:
    async with ctx.db.session() as session:
        rules = await session.scalars(
            select(RoutingRule)
            .join(Department, Department.id == RoutingRule.department_id)
            .where(RoutingRule.active.is_(True), Department.active.is_(True))
            .options(joinedload(RoutingRule.department))
            .order_by(RoutingRule.kind.desc(), RoutingRule.position, RoutingRule.id)
        )
        for rule in rules:  # "keyword" sorts after "district" descending: keywords first
            if rule.category_id not in (None, case.category_id):
                continue
            if _matches(rule, case):
                return Route(rule.department.code, f"{rule.kind}:{rule.pattern}")
        if category is None or category.default_department_id is None:
            return None
        code = await session.scalar(
            select(Department.code).where(Department.id == category.default_department_id)
        )
    return Route(code, f"category:{category.code}") if code else None


@hookimpl(trylast=True)
def route_case(
    ctx: AppContext, case: Case, category: ServiceCategory | None
) -> Awaitable[Route | None]:
    return _route(ctx, case, category)
