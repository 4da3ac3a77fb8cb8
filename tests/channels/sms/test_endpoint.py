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

from hotline.core.app import create_app
from hotline.core.intake import receive
from hotline.core.lookup import lookup_code
from hotline.core.models import Case, ContactPoint
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
