"""Beginning chats: free a few times an hour per address, then only with a proof of work, and
never past the caps per address and per phone or e-mail; refused starts store no case."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from hotline.channels.chat.webchat import proof
from hotline.core.shell.app import create_app
from tests.conftest import count_rows, seed_city, sqlite_app_settings


@pytest.fixture
def client(tmp_path: Path, sqlite_template: Path) -> Iterator[TestClient[Any]]:
    settings = sqlite_app_settings(tmp_path, sqlite_template).model_copy(
        update={
            "chat_starts_free": 2,
            "chat_starts_per_address": 4,
            "chat_starts_per_contact": 2,
            "chat_pow_bits": 8,
        }
    )
    with TestClient(create_app(settings)) as c:
        c.headers["Accept-Language"] = "en"
        c.blocking_portal.call(seed_city, c.app.state.ctx)
        yield c


def cases(client: TestClient[Any]) -> int:
    return int(client.blocking_portal.call(count_rows, client.app.state.ctx)["cases"])


def form(client: TestClient[Any]) -> tuple[str, str | None]:
    client.cookies.pop("hotline_chat", None)
    html = client.get("/chat/").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    challenge = re.search(r'name="pow_challenge" value="([^"]+)"', html)
    assert token
    return token.group(1), challenge.group(1) if challenge else None


def start(client: TestClient[Any], contact: str = "", solve: bool = True) -> Any:
    token, challenge = form(client)
    data = {"_csrf_token": token, "text": "路灯不亮", "contact": contact}
    if challenge and solve:
        data |= {"pow_challenge": challenge, "pow_nonce": proof.solve(challenge, 8)}
    return client.post("/chat/start", data=data, follow_redirects=False)


def test_a_few_free_then_a_proof_of_work_then_the_cap(client: TestClient[Any]) -> None:
    assert [start(client).status_code for _ in range(2)] == [303, 303]
    token, challenge = form(client)
    assert challenge is not None  # the page now asks for the work (pow.js, or wait without JS)
    page = client.get("/chat/").text
    assert "/static/chat/pow.js" in page and "<noscript>" in page
    unsolved = start(client, solve=False)
    assert unsolved.status_code == 429 and "solve a small puzzle" in unsolved.text
    assert cases(client) == 2
    # a forged or replayed proof is refused too
    token, challenge = form(client)
    assert challenge is not None
    nonce = proof.solve(challenge, 8)
    forged = challenge[:-4] + "0000"
    data = {"_csrf_token": token, "text": "x", "pow_challenge": forged, "pow_nonce": nonce}
    assert client.post("/chat/start", data=data).status_code == 429
    data["pow_challenge"] = challenge
    assert client.post("/chat/start", data=data, follow_redirects=False).status_code == 303
    client.cookies.pop("hotline_chat", None)
    assert client.post("/chat/start", data=data).status_code == 429  # spent once
    assert start(client).status_code == 303  # the fourth, with work
    capped = start(client)
    assert capped.status_code == 429 and "Many chats were begun from your network" in capped.text
    assert cases(client) == 4


def test_a_cap_per_contact(client: TestClient[Any]) -> None:
    client.app.state.ctx.settings.chat_starts_free = 100
    client.app.state.ctx.settings.chat_starts_per_address = 100
    assert [start(client, "138 0013 8000").status_code for _ in range(2)] == [303, 303]
    again = start(client, "+86 13800138000")  # the same number, written otherwise
    assert again.status_code == 429 and "with this phone number" in again.text
    assert start(client, "someone@example.cn").status_code == 303
    assert cases(client) == 3


def test_the_proof_checks() -> None:
    challenge = proof.new_challenge("secret", 10, now=1000)
    nonce = proof.solve(challenge, 10)
    assert proof.check("secret", challenge, nonce, 10, now=1001)
    assert proof.check("other secret", challenge, nonce, 10, now=1001) is None
    assert proof.check("secret", challenge, nonce, 12, now=1001) is None  # asked for more
    assert proof.check("secret", challenge, nonce, 10, now=1000 + 601) is None  # too old
    assert proof.check("secret", challenge, "12a", 10, now=1001) is None
    wrong = next(
        str(n) for n in range(10_000) if proof.check("secret", challenge, str(n), 10, 1001) is None
    )
    assert proof.check("secret", challenge, wrong, 10, now=1001) is None
