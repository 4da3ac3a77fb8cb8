"""The endpoint smsbox calls: a text becomes a case (once, however often Kannel retries);
STOP stops messages to the number; a status question is answered at once; forged calls,
other addresses and floods are refused without a case or a crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from hotline.core.cases.lookup import lookup_code
from hotline.core.intake.receive import receive
from hotline.core.shell.app import create_app
from hotline.core.storage.models.cases import Case, ContactPoint
from tests.conftest import seed_city, sqlite_app_settings
from tests.factories import submission

SECRET = "kannel-shared-secret-0123"


@pytest.fixture
def sms(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient[Any]]:
    settings = sqlite_app_settings(tmp_path, sqlite_template).model_copy(
        update={"sms_shared_secret": SECRET, "sms_networks": [], "sms_per_number_per_hour": 3}
    )
    with TestClient(create_app(settings)) as client:
        client.blocking_portal.call(lambda: seed_city(client.app.state.ctx))
        yield client


def mo(client: TestClient[Any], text: str, sender: str = "+8613800138000", **extra: str) -> Any:
    query = f"secret={extra.pop('secret', SECRET)}&from={quote(sender)}&to=12345"
    query += f"&text={quote(text)}&coding=0&charset=UTF-8"
    for key, value in extra.items():
        query += f"&{key}={quote(value)}"
    return client.get(f"/channels/sms/kannel/mo?{query}")


def cases(client: TestClient[Any]) -> list[Case]:
    async def read() -> list[Case]:
        async with client.app.state.ctx.db.session() as s:
            return list(await s.scalars(select(Case)))

    return client.blocking_portal.call(read)


def test_a_text_becomes_one_case_however_often_kannel_retries(sms: TestClient[Any]) -> None:
    for _ in range(2):
        answer = mo(sms, "人民路路灯坏了三天", id="kannel-1")
        assert answer.status_code == 200 and answer.text == ""
    [case] = cases(sms)
    assert case.first_channel == "sms" and case.description == "人民路路灯坏了三天"


def test_stop_and_status_are_answered_at_once(sms: TestClient[Any]) -> None:
    ctx = sms.app.state.ctx
    result = sms.blocking_portal.call(lambda: receive(ctx, submission()))
    code = lookup_code(ctx.secret_key, result.tracking_number)
    spaced = " ".join(result.tracking_number[i : i + 4] for i in range(0, 13, 4))
    status = mo(sms, f"查询 {spaced} {code}", id="q1")
    assert result.tracking_number in status.text and "已受理" in status.text
    wrong = mo(sms, f"{spaced} 000000", id="q2", sender="+8613900139000")
    assert wrong.text == "No case matches that number and code."  # asked without Chinese
    stop = mo(sms, "退订", id="s1")
    assert stop.text and stop.status_code == 200

    async def opted() -> bool:
        async with ctx.db.session() as s:
            point = await s.scalar(
                select(ContactPoint).where(ContactPoint.value == "+8613800138000")
            )
        return bool(point and point.opted_out)

    assert sms.blocking_portal.call(opted)
    assert len(cases(sms)) == 1  # none of these made a case


def test_forged_calls_and_floods_are_refused(sms: TestClient[Any]) -> None:
    assert mo(sms, "hello", secret="guess").status_code == 403
    assert mo(sms, "hello", secret="").status_code == 403
    binary = sms.get(
        f"/channels/sms/kannel/mo?secret={SECRET}&from=%2B86138&text=%00%FF&coding=1&charset=8-BIT"
    )
    assert binary.status_code == 200 and binary.text == ""
    for number in range(5):  # three an hour from one number
        assert mo(sms, f"message {number}", id=f"flood-{number}").status_code == 200
    assert len(cases(sms)) == 3

    async def count() -> int:
        async with sms.app.state.ctx.db.session() as s:
            return int(await s.scalar(select(func.count()).select_from(Case)) or 0)

    assert sms.blocking_portal.call(count) == 3


def test_a_reply_of_1_2_or_3_evaluates_the_answered_case(sms: TestClient[Any]) -> None:
    """回访 by SMS: the answer invites a digit; the digit rates the sender's answered case."""
    from hotline.core.storage.enums import CaseStatus, Satisfaction
    from hotline.core.storage.models.cases import CaseEvent

    ctx = sms.app.state.ctx
    result = sms.blocking_portal.call(
        lambda: receive(ctx, submission(contacts=[{"kind": "phone", "value": "+8613800138000"}]))
    )
    early = mo(sms, "1", id="r0")  # nothing answered yet: an ordinary message
    assert early.text == ""

    async def answered() -> None:
        async with ctx.db.transaction() as s:
            case = await s.get(Case, result.case_id)
            case.status = CaseStatus.ANSWERED

    sms.blocking_portal.call(answered)
    stranger = mo(sms, "3", id="r1", sender="+8613900139000")  # not this citizen's number
    assert stranger.text == ""
    thanks = mo(sms, "1。", id="r2")
    assert thanks.text == "感谢您的评价。"

    async def state() -> tuple[str, str | None, list[str]]:
        async with ctx.db.session() as s:
            case = await s.get(Case, result.case_id)
            actions = list(
                await s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id))
            )
            return case.status, case.satisfaction, actions

    status, satisfaction, actions = sms.blocking_portal.call(state)
    assert status == CaseStatus.CLOSED and satisfaction == Satisfaction.SATISFIED
    assert actions.count("rated") == 1
