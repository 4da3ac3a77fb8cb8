"""The console in Chromium, as each role sees it on the demo city (``hotline demo-data`` with
its one account per role): every role's home and every page its menu offers, in both languages,
with no internal code on screen and no axe-core violation at 1366 or 390 pixels, on them and
on the pages of a case, a letter and a citizen behind the lists; screenshots of each home at
1366 and 390 pixels are kept as test artefacts. The administrator's first sign-in shows the set-up
checklist. An agent goes available, is offered one contact (not all that wait), accepts it,
answers, and wraps up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.admin.console_pages import (
    DETAIL,
    WIDTHS,
    axe_violations,
    codes_on_screen,
    console_links,
    demo_city,
    detail_links,
    dispatch_one,
    page_kind,
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
    dispatch_one(data)
    server = Served(data)
    try:
        yield server, passwords
    finally:
        server.stop()


# the pages of single records each role reaches from its lists, at least
BEHIND_LISTS = {
    "agent": {"/console/cases/{}", "/console/citizens/{}"},
    "team_leader": {"/console/cases/{}", "/console/citizens/{}"},
    "department_officer": {"/console/department/cases/{}"},
    "department_head": {"/console/department/cases/{}"},
    "director_office": {"/console/mailbox/{}"},
    "supervisor": {"/console/cases/{}", "/console/citizens/{}"},
    "administrator": set(),
}


# pages that show names their authors chose (the phone menu's steps), which may be words that
# are also codes ("agent", "closed")
OWN_NAMES = ("/console/settings/phone",)
# pages reached from elsewhere than the menu: the profile (from the account's page), the
# team's work records, the phone menu (from the set-up checklist)
EVERYONE = ("/console/profile", "/console/password")
ELSEWHERE = {
    "team_leader": ("/console/work/team",),
    "supervisor": ("/console/work/team",),
    "administrator": ("/console/settings/phone",),
}


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
    """Every page the role's menu offers and the pages behind its lists (a case, a letter, a
    citizen), in both languages, each checked by axe at 1366 and at 390 pixels: one signed-in
    browser whose window is resized, not a browser per width."""
    from selenium.webdriver.common.by import By

    server, passwords = city
    sign_in(browser, server.url, username(role), passwords[role])
    problems: dict[str, list[str]] = {}

    def check(link: str, lang: str) -> None:
        codes = codes_on_screen(body_text(browser), lang)
        if codes and not link.endswith(OWN_NAMES):
            problems[f"{link} {lang} codes"] = codes
        for width in WIDTHS:
            browser.set_window_size(width, 900)  # type: ignore[attr-defined]
            found = axe_violations(browser)
            if found:
                problems[f"{link} {lang} {width}"] = found

    for lang in ("zh_CN", "en"):
        browser.set_window_size(1366, 900)  # type: ignore[attr-defined]
        browser.get(f"{server.url}/console?lang={lang}")  # type: ignore[attr-defined]
        assert browser.find_element(By.TAG_NAME, "h1").text  # type: ignore[attr-defined]
        text = body_text(browser)
        assert "arrive with the console issue" not in text and "placeholder" not in text.lower()
        for width in WIDTHS:
            shoot(browser, f"home-{role}-{lang}", width)
        check("/console", lang)
        menu = list(dict.fromkeys(console_links(browser)))
        menu += [server.url + path for path in ELSEWHERE.get(role, ()) + EVERYONE]
        details = Details(menu)
        behind = details.add(detail_links(browser))
        for link in menu:
            browser.get(link)  # type: ignore[attr-defined]
            behind += details.add(detail_links(browser))
            check(link, lang)
        for number in [c.rsplit("/", 1)[1] for c in details.kinds.get("/console/cases/{}", [])][:1]:
            browser.get(f"{server.url}/console/citizens?q={number}")  # type: ignore[attr-defined]
            behind += details.add(detail_links(browser))  # the citizen who sent the case
            check("/console/citizens?q=", lang)
        while behind:  # a case, a letter, a citizen... and the pages they lead to
            link = behind.pop(0)
            browser.get(link)  # type: ignore[attr-defined]
            behind += details.add(detail_links(browser))
            check(link, lang)
        kinds = {k for k in details.kinds if DETAIL.search(k.replace("{}", "1"))}
        assert kinds >= BEHIND_LISTS[role], (lang, sorted(details.kinds))
        print(role, lang, len(menu), "menu pages;", "behind them:", sorted(details.kinds))
    assert problems == {}, json.dumps(problems, indent=1, ensure_ascii=False)


class Details:
    """One page of each kind the pages link to beyond the menu (two cases, letters and
    citizens): the pages behind the lists."""

    def __init__(self, menu: list[str]) -> None:
        self.seen = {page_kind(link) for link in menu} | {"/console"}
        self.kinds: dict[str, list[str]] = {}

    def add(self, links: list[str]) -> list[str]:
        """Keep the links of kinds not yet chosen; returns those kept."""
        kept = []
        for link in links:
            kind = page_kind(link)
            if kind in self.seen:
                continue
            chosen = self.kinds.setdefault(kind, [])
            if link not in chosen and len(chosen) < (2 if DETAIL.search(link) else 1):
                chosen.append(link)
                kept.append(link)
        return kept
