"""The users page as a table with words for permissions, one account's page, and the profile
page where anyone turns on two-factor sign-in (required of administrators by default)."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from bs4 import BeautifulSoup
from litestar.testing import TestClient

from hotline.core.foundation.settings import Settings
from hotline.core.people.permissions import Permission
from tests.admin.conftest import sign_in
from tests.admin.test_totp import token_of

CODES = [p.value for p in Permission if "." in p.value]  # the others are English words too


def _text(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    return soup.get_text(" ", strip=True)


def test_the_users_page_is_a_table_and_permissions_are_words(client: TestClient[Any]) -> None:
    sign_in(client, "administrator1")
    for language, word in (("en", "Read the director's mailbox"), ("zh_CN", "阅读局长信箱")):
        html = client.get(f"/console/settings/users?lang={language}").text
        soup = BeautifulSoup(html, "html.parser")
        headers = [th.get_text(strip=True) for th in soup.select("#users thead th")]
        assert len(headers) == 7 and all(headers[:6])
        row = soup.select_one('#users tr[data-user="agent1"]')
        assert row is not None and len(row.find_all("td")) == 7
        shown = _text(html)
        assert word in shown  # the overrides' choice of permission, in words
        codes = CODES + (["administer", "supervise", "console"] if language == "zh_CN" else [])
        assert not [code for code in codes if re.search(rf"\b{re.escape(code)}\b", shown)]
    assert "用户名" in _text(client.get("/console/settings/users?lang=zh_CN").text)


def test_an_administrator_edits_one_account_on_its_own_page(client: TestClient[Any]) -> None:
    sign_in(client, "administrator1")
    listing = BeautifulSoup(client.get("/console/settings/users").text, "html.parser")
    link = listing.select_one('#users tr[data-user="agent1"] a')["href"]
    page = client.get(link)
    assert page.status_code == 200
    shown = _text(page.text)
    assert "Take contacts from the queue" in shown and "queue.work" not in shown
    saved = client.post(
        link,
        data={
            "_csrf_token": token_of(page.text),
            "display_name": "Agent Zhang",
            "role": "team_leader",
            "active": "yes",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    again = _text(client.get(link).text)
    assert "Agent Zhang" in again and "Manage the team's queue" in again
    assert client.get("/console/settings/users/99999").status_code == 404
    client.cookies.clear()
    sign_in(client, "agent1")
    assert client.get(link).status_code == 403


def test_anyone_turns_on_two_factor_from_the_profile(client: TestClient[Any]) -> None:
    sign_in(client, "agent1")
    profile = client.get("/console/profile")
    assert profile.status_code == 200 and "What you may do" in profile.text
    assert "Take contacts from the queue" in _text(profile.text)
    started = client.post("/console/profile/totp", data={"_csrf_token": token_of(profile.text)})
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', started.text).group(1)
    wrong = client.post(
        "/console/profile/totp", data={"_csrf_token": token_of(started.text), "code": "000000"}
    )
    assert wrong.status_code == 422 and 'id="totp-wrong"' in wrong.text
    done = client.post(
        "/console/profile/totp",
        data={"_csrf_token": token_of(started.text), "code": pyotp.TOTP(secret).now()},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert 'id="totp-done"' in client.get(done.headers["location"]).text
    # from now on the agent gives a code after the password
    client.cookies.clear()
    assert sign_in(client, "agent1").headers["location"] == "/console/login/totp"


def test_administrators_must_use_it_unless_the_site_relaxes_it(
    client: TestClient[Any], monkeypatch: Any
) -> None:
    monkeypatch.delenv("HOTLINE_REQUIRE_TOTP", raising=False)
    assert Settings().require_totp is True  # the product's default
    monkeypatch.setenv("HOTLINE_REQUIRE_TOTP", "false")
    assert Settings().require_totp is False
    client.app.state.ctx.settings.require_totp = True
    assert sign_in(client, "administrator1").headers["location"] == "/console/totp/setup"
    client.cookies.clear()
    assert sign_in(client, "director_office1").headers["location"] == "/console/totp/setup"
    client.cookies.clear()
    assert sign_in(client, "agent1").headers["location"] == "/console"
