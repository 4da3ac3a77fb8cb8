"""Administrators set up queues (strategy, offer and wrap-up times, regions) and away reasons;
agents then see those reasons, and offers follow the queue's settings."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.storage.models.axd import AwayReason, SkillGroup
from tests.admin.conftest import sign_in


def csrf(client: TestClient[Any], path: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)[1]


def test_an_administrator_sets_up_a_queue_and_an_away_reason(client: TestClient[Any]) -> None:
    sign_in(client, "administrator1")
    token = csrf(client, "/console/settings/queues")
    saved = client.post(
        "/console/settings/queues",
        data={
            "_csrf_token": token,
            "code": "north",
            "name_zh": "北区",
            "name_en": "North",
            "strategy": "region",
            "offer_seconds": "30",
            "wrap_up_seconds": "45",
            "widen_after_seconds": "90",
            "phone_prefixes": "+86139, +86 150",
        },
    )
    assert saved.status_code == 200
    bad = client.post(
        "/console/settings/queues",
        data={"_csrf_token": token, "code": "x", "strategy": "fastest", "offer_seconds": "1"},
    )
    assert bad.status_code == 422  # shown in place by the console's htmx
    problems = BeautifulSoup(bad.text, "html.parser").find(id="problems").get_text()
    assert "strategy" in problems and "offer_seconds" in problems
    client.post(
        "/console/settings/away-reasons",
        data={
            "_csrf_token": token,
            "code": "coaching",
            "name_zh": "辅导",
            "name_en": "Coaching",
            "active": "yes",
        },
    )
    client.post(
        "/console/settings/away-reasons",
        data={"_csrf_token": token, "code": "meal", "name_zh": "用餐", "name_en": "Meal"},
    )  # no longer offered

    async def stored() -> tuple[SkillGroup | None, dict[str, bool]]:
        async with client.app.state.ctx.db.session() as s:
            reasons = {r.code: r.active for r in await s.scalars(select(AwayReason))}
            return await s.get(SkillGroup, "north"), reasons

    group, reasons = client.blocking_portal.call(stored)
    assert group is not None and group.strategy == "region" and group.offer_seconds == 30
    assert group.phone_prefixes == ["+86139", "+86150"] and group.wrap_up_seconds == 45
    assert reasons["coaching"] is True and reasons["meal"] is False
    assert reasons["break"] is True  # the defaults every site starts with

    client.cookies.clear()
    sign_in(client, "agent1")
    assert client.get("/console/settings/queues").status_code == 403
    queue = BeautifulSoup(client.get("/console/queue?lang=en").text, "html.parser")
    offered = {b["value"]: b.get_text(strip=True) for b in queue.select('button[name="reason"]')}
    assert offered.get("coaching") == "Coaching" and "meal" not in offered
    token = csrf(client, "/console/queue")
    refused = client.post(
        "/console/state", data={"_csrf_token": token, "state": "away", "reason": "meal"}
    )
    assert refused.status_code == 400
    away = client.post(
        "/console/state", data={"_csrf_token": token, "state": "away", "reason": "coaching"}
    )
    assert away.status_code == 200 and "Coaching" in away.text
