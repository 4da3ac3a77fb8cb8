"""A queue's name in the reader's language. A queue is a skill: a skill group the administrator
set up has its own names; a skill with no group yet is named after the service whose code it is
(intake puts a contact in its service's queue); any other skill is a word an administrator typed,
shown as it is."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.storage.models.axd import SkillGroup
from hotline.core.storage.models.reference import ServiceCategory


def _pick(zh: str | None, en: str | None, chinese: bool) -> str:
    return ((zh if chinese else en) or en or zh or "").strip()


async def queue_names(session: AsyncSession, chinese: bool) -> dict[str, str]:
    """Every named queue: code → name (look a code up with ``.get(code, code)``)."""
    found: dict[str, str] = {}
    for code, zh, en in await session.execute(
        select(ServiceCategory.code, ServiceCategory.name_zh, ServiceCategory.name_en)
    ):
        found[code] = _pick(zh, en, chinese) or code
    for code, zh, en in await session.execute(
        select(SkillGroup.code, SkillGroup.name_zh, SkillGroup.name_en)
    ):
        found[code] = _pick(zh, en, chinese) or found.get(code, code)
    return found
