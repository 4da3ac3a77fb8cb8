"""Sign-in as an attacker would try it: wrong passwords for someone else's name slow that account
down but never lock its owner out; an address that keeps failing is refused; a password change
ends the user's other sessions; common, breached-list and repetitive passwords are refused; a
TOTP code works once; argon2 runs off the event loop."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.core.people import passwords
from hotline.core.people.signin import FREE_FAILURES, MAX_DELAY, delay_after
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import FailedAttempt, User
from tests.admin.conftest import PASSWORD, sign_in


def token_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def age_failures(client: TestClient[Any], seconds: float) -> None:
    """As if the failures so far happened ``seconds`` earlier."""

    async def run() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            for row in await s.scalars(select(FailedAttempt)):
                row.at -= timedelta(seconds=seconds)

    client.blocking_portal.call(run)


@pytest.mark.parametrize("role", list(Role))
def test_wrong_passwords_slow_an_account_but_never_lock_its_owner_out(
    client: TestClient[Any], role: Role
) -> None:
    name = f"{role.value}1"
    codes = [sign_in(client, name, f"guess{n}").status_code for n in range(FREE_FAILURES)]
    assert codes == [401] * FREE_FAILURES
    slowed = sign_in(client, name)  # the right password, but too soon after the guesses
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1
    assert "wait" in slowed.text.lower()
    assert sign_in(client, "agent1" if role != Role.AGENT else "supervisor1").status_code == 303
    client.cookies.clear()
    age_failures(client, delay_after(FREE_FAILURES))
    assert sign_in(client, name).status_code == 303  # the owner gets in once the delay passed


def test_the_delay_grows_with_the_guesses_up_to_a_minute(client: TestClient[Any]) -> None:
    waits = []
    for failures in range(1, 11):
        assert sign_in(client, "administrator1", f"guess{failures}").status_code == 401
        if failures < FREE_FAILURES:
            continue  # the first few are free
        at_once = sign_in(client, "administrator1")  # the right password, straight after
        assert at_once.status_code == 429
        waits.append(int(at_once.headers["retry-after"]))
        age_failures(client, delay_after(failures))  # wait it out
    assert waits == sorted(waits) and waits[0] == 1 and waits[-1] == MAX_DELAY
    assert sign_in(client, "administrator1").status_code == 303  # the administrator gets in


@given(st.integers(min_value=0, max_value=10_000))
def test_delays_are_free_then_doubling_then_capped(failures: int) -> None:
    delay = delay_after(failures)
    assert 0 <= delay <= MAX_DELAY
    assert (delay == 0) == (failures < FREE_FAILURES)
    assert delay_after(failures + 1) >= delay


def test_an_address_that_keeps_failing_is_refused_outright(client: TestClient[Any]) -> None:
    # one guess for each of many names: no account is slowed, but the address is
    for n in range(20):
        assert sign_in(client, f"someone{n}", "guess").status_code == 401
    refused = sign_in(client, "agent1")
    assert refused.status_code == 429 and "this address" in refused.text
    age_failures(client, 16 * 60)
    assert sign_in(client, "agent1").status_code == 303


def test_a_password_change_ends_the_users_other_sessions(client: TestClient[Any]) -> None:
    assert sign_in(client, "supervisor1").status_code == 303
    other = client.cookies.get("hotline_console")
    assert client.get("/console").status_code == 200
    client.cookies.clear()
    assert sign_in(client, "supervisor1").status_code == 303
    form = client.get("/console/password")
    done = client.post(
        "/console/password",
        data={
            "_csrf_token": token_of(form.text),
            "current": PASSWORD,
            "new": "quiet river lamp 47",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get("/console").status_code == 200  # the session that changed it goes on
    mine = client.cookies.get("hotline_console")
    client.cookies.set("hotline_console", other)
    assert (
        client.get("/console", follow_redirects=False).headers.get("location") == "/console/login"
    )  # the other ended
    client.cookies.set("hotline_console", mine)
    assert client.get("/console").status_code == 200


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("aaaaaaaaaaaa", "repeats, sequences"),
        ("abcdefghijklmn", "repeats, sequences"),
        ("qwertyuiopasdf", "common or leaked"),
        ("password1234", "common or leaked"),
        ("iloveyou12345", "common or leaked"),
        ("supervisor1supervisor1", "your name"),
        ("short", "at least 12"),
    ],
)
def test_guessable_passwords_are_refused(
    client: TestClient[Any], password: str, problem: str
) -> None:
    sign_in(client, "supervisor1")
    form = client.get("/console/password")
    refused = client.post(
        "/console/password",
        data={"_csrf_token": token_of(form.text), "current": PASSWORD, "new": password},
    )
    assert refused.status_code == 422 and problem in refused.text
    client.cookies.clear()
    assert sign_in(client, "supervisor1", password).status_code == 401  # nothing changed


def test_the_policy_names_each_problem() -> None:
    assert passwords.password_problem("aaaaaaaaaaaa") == "repetitive"
    assert passwords.password_problem("password1234") == "common"
    assert passwords.password_problem("wang.fang.wang.fang", "wang.fang") == "personal"
    assert passwords.password_problem("quiet river lamp 47") is None
    assert passwords.password_problem("长亭外古道边芳草碧连天晚风") is None  # 中文 passphrases too


def test_a_totp_code_signs_in_once(client: TestClient[Any]) -> None:
    secret = pyotp.random_base32()

    async def give() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            await s.execute(
                update(User).where(User.username == "director_office1").values(totp_secret=secret)
            )

    client.blocking_portal.call(give)
    code = pyotp.TOTP(secret).now()
    for attempt in range(2):
        client.cookies.clear()
        assert sign_in(client, "director_office1").headers["location"] == "/console/login/totp"
        form = client.get("/console/login/totp")
        answer = client.post(
            "/console/login/totp",
            data={"_csrf_token": token_of(form.text), "code": code},
            follow_redirects=False,
        )
        if attempt == 0:
            assert answer.status_code == 303
        else:  # the same code again, still inside its 30 seconds: refused
            assert answer.status_code == 401 and "used already" in answer.text
            assert (
                client.get("/console", follow_redirects=False).headers.get("location")
                == "/console/login"
            )


def test_argon2_runs_off_the_event_loop(
    client: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing and checking people's passwords happen in worker threads, never on the thread
    that runs the event loop (where they would stall every other request)."""
    threads: list[str] = []
    real = passwords.hasher

    class Watched:
        def verify(self, *args: Any) -> Any:
            threads.append(threading.current_thread().name)
            return real.verify(*args)

        def hash(self, *args: Any) -> Any:
            threads.append(threading.current_thread().name)
            return real.hash(*args)

    loop_thread = client.blocking_portal.call(_thread_name)
    monkeypatch.setattr(passwords, "hasher", Watched())
    assert sign_in(client, "agent1").status_code == 303
    assert sign_in(client, "nobody-here", "guess").status_code == 401
    form = client.get("/console/password")
    client.post(
        "/console/password",
        data={
            "_csrf_token": token_of(form.text),
            "current": PASSWORD,
            "new": "quiet river lamp 47",
        },
    )
    assert len(threads) >= 4 and loop_thread not in threads


async def _thread_name() -> str:
    return threading.current_thread().name
