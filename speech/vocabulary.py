"""The city's own words for the speech engine: district names (the routing rules' districts),
service and department names, in the language heard. Read from the database for each
recording (three small queries beside seconds of decoding, and always what the administrator
last saved); the engine gets them as its initial prompt and as corrections."""

from __future__ import annotations

import re

from sqlalchemy import select

from hotline.core.shell.context import AppContext
from hotline.core.storage.models.reference import Department, RoutingRule, ServiceCategory

_PLAIN = re.compile(r"[^\w\s·-]+")


def _clean(word: str) -> str:
    return _PLAIN.sub("", word).strip()


async def city_words(ctx: AppContext, language: str) -> list[str]:
    """Districts first (most confusable), then services, then departments; no repeats."""
    zh = language.startswith("zh")
    async with ctx.db.session() as session:
        districts = await session.scalars(
            select(RoutingRule.pattern)
            .where(RoutingRule.kind == "district", RoutingRule.active.is_(True))
            .order_by(RoutingRule.position, RoutingRule.id)
        )
        name = ServiceCategory.name_zh if zh else ServiceCategory.name_en
        services = await session.scalars(
            select(name).where(ServiceCategory.active.is_(True)).order_by(ServiceCategory.id)
        )
        dept = Department.name_zh if zh else Department.name_en
        departments = await session.scalars(select(dept).order_by(Department.id))
        found: list[str] = []
        for group in (list(districts), list(services), list(departments)):
            for raw in group:
                for word in re.split(r"[|,，、/]+", raw or ""):
                    word = _clean(word)
                    if word and word not in found and (not zh or _has_cjk(word)):
                        found.append(word)
    return found


def _has_cjk(word: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in word)
