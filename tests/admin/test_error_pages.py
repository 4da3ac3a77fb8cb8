"""Errors as pages for people on the console and the portal, and in their own formats for
machines: sign in and back (this site only), what is refused and whom to ask, no such page, a
method a page does not take; JSON stays JSON on /api."""

from __future__ import annotations

import html
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.admin.conftest import PASSWORD, token


def login(client: TestClient[Any], username: str, next_path: str) -> Any:
    return client.post(
        "/console/login",
        data={
            "_csrf_token": token(client),
            "username": username,
            "password": PASSWORD,
            "next": next_path,
        },
        follow_redirects=False,
    )


def test_signing_in_leads_back_to_the_page_asked_for(client: TestClient[Any]) -> None:
    asked = client.get("/console/team?view=all", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/console/login?next=%2Fconsole%2Fteam%3Fview%3Dall"
    page = client.get(asked.headers["location"])
    assert 'name="next" value="/console/team?view=all"' in page.text
    assert login(client, "team_leader1", "/console/team?view=all").headers["location"] == (
        "/console/team?view=all"
    )
    htmx = TestClient(client.app).get("/console/queue", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/console/login")


@pytest.mark.parametrize(
    "elsewhere",
    ["//evil.example/console", "https://evil.example/console", "/\\evil.example", "/portal", ""],
)
def test_signing_in_never_leads_off_the_console(client: TestClient[Any], elsewhere: str) -> None:
    assert login(client, "agent1", elsewhere).headers["location"] == "/console"


def test_a_refusal_says_what_and_whom_to_ask(client: TestClient[Any]) -> None:
    login(client, "administrator1", "")
    refused = client.get("/console/cases?lang=en")
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    said = html.unescape(refused.text)
    assert "reading the hotline's cases" in said and "administrator" in said
    assert "case.read" not in refused.text and "your role may not do this" not in refused.text
    zh = client.get("/console/cases?lang=zh_CN")
    assert "阅读热线的案件" in zh.text and "热线管理员" in zh.text


def test_no_such_page_and_wrong_method_are_pages(client: TestClient[Any]) -> None:
    login(client, "agent1", "")
    missing = client.get("/console/no-such-page?lang=en")
    assert missing.status_code == 404 and "There is no such page" in missing.text
    assert 'href="/console"' in missing.text  # the console's own frame, a way home
    portal = client.get("/no-such-page?lang=zh_CN")
    assert portal.status_code == 404 and "页面不存在" in portal.text
    wrong = client.delete("/console?lang=en")
    assert wrong.status_code == 405 and "cannot be used that way" in wrong.text
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")
