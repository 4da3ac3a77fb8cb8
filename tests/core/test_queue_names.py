"""A queue is named in words on every screen (the wallboard, the team board, the triage table):
a skill group's own name; a skill that is a service's code, that service's name; any other
skill as the administrator typed it."""

from __future__ import annotations

from hotline.core.axd.queue_names import queue_names
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.axd import SkillGroup
from hotline.core.storage.models.reference import ServiceCategory


async def test_queues_are_named_after_their_group_or_service(ctx: AppContext) -> None:
    async with ctx.db.transaction() as s:
        s.add(ServiceCategory(code="lights", name_zh="路灯故障", name_en="Street lights"))
        s.add(ServiceCategory(code="road", name_zh="道路破损", name_en="Damaged road"))
        s.add(SkillGroup(code="road", name_zh="道路组", name_en="Roads team"))
        s.add(SkillGroup(code="vip", name_zh="", name_en="Priority callers"))
    async with ctx.db.session() as s:
        zh, en = await queue_names(s, True), await queue_names(s, False)
    assert zh["lights"] == "路灯故障" and en["lights"] == "Street lights"
    assert zh["road"] == "道路组" and en["road"] == "Roads team"
    assert zh["vip"] == "Priority callers"  # no Chinese name: the English one, never the code
    assert zh.get("night-shift", "night-shift") == "night-shift"
