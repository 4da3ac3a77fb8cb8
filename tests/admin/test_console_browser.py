"""The console in Chromium, as each role sees it on the demo city (``hotline demo-data`` with
its one account per role): every role's home and every page its menu offers, in both languages,
with no internal code on screen and no axe-core violation at 1366 or 390 pixels, on them and
on the pages of a case, a letter and a citizen behind the lists; screenshots of each home at
1366 and 390 pixels are kept as test artefacts. The administrator's first sign-in shows the set-up
checklist. An agent goes available, is offered one contact (not all that wait), accepts it,
answers, and wraps up."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
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


def _served(data: Path, *, dispatched: bool) -> Iterator[tuple[Served, dict[str, str]]]:
    passwords = demo_city(data)
    if dispatched:
        dispatch_one(data)
    server = Served(data)
    try:
        yield server, passwords
    finally:
        server.stop()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    yield from _served(tmp_path_factory.mktemp("city") / "data", dispatched=False)


@pytest.fixture(scope="module")
def department_city(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Served, dict[str, str]]]:
    """The demo city with one case sent to the demo department (its own city: the journeys
    below keep the demo city's queue as it is)."""
    yield from _served(tmp_path_factory.mktemp("department-city") / "data", dispatched=True)


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


def all_widths(browser: Any, widths: tuple[int, ...] = WIDTHS) -> dict[int, list[str]]:
    """axe's violations on the page as it is, at each width (the window resized, not reloaded)."""
    found = {}
    for width in widths:
        browser.set_window_size(width, 900)
        if violations := axe_violations(browser):
            found[width] = violations
    return found


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
    browser: object, request: pytest.FixtureRequest, role: str
) -> None:
    """Every page the role's menu offers and the pages behind its lists (a case, a letter, a
    citizen), in both languages, checked by axe at 1366 and at 390 pixels in Chinese and at 1366
    in English (axe's rules read the markup, which the language does not change; the
    English pass is for the words: no code on screen): one signed-in browser whose window is
    resized, not a browser per width."""
    from selenium.webdriver.common.by import By

    department = role in ("department_officer", "department_head")
    server, passwords = request.getfixturevalue("department_city" if department else "city")
    sign_in(browser, server.url, username(role), passwords[role])
    problems: dict[str, list[str]] = {}

    def check(link: str, lang: str) -> None:
        codes = codes_on_screen(body_text(browser), lang)
        if codes and not link.endswith(OWN_NAMES):
            problems[f"{link} {lang} codes"] = codes
        for width, found in all_widths(browser, WIDTHS if lang == "zh_CN" else WIDTHS[:1]).items():
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


def test_the_administrators_first_sign_in_shows_the_checklist(
    browser: object, city: tuple[Served, dict[str, str]]
) -> None:
    from selenium.webdriver.common.by import By

    server, passwords = city
    sign_in(browser, server.url, "demo-admin", passwords["administrator"], lang="zh_CN")
    assert browser.current_url.endswith("/console")  # type: ignore[attr-defined]
    checklist = browser.find_element(By.ID, "checklist")  # type: ignore[attr-defined]
    steps = {
        li.get_attribute("id"): li.get_attribute("data-done")
        for li in checklist.find_elements(By.CSS_SELECTOR, "li[id^=step-]")
    }
    assert set(steps) == {
        f"step-{k}"
        for k in ("departments", "services", "users", "calendar", "channels", "phone", "speech")
    }
    assert steps["step-departments"] == "yes" and steps["step-users"] == "yes"  # the demo's
    assert steps["step-channels"] == "no"  # no e-mail, SMS... set in the test's settings
    # an administrator may not read cases: told why and where, not a refusal
    assert "督办员" in browser.find_element(By.ID, "why-no-cases").text  # type: ignore[attr-defined]
    browser.get(server.url + "/console/cases")  # type: ignore[attr-defined]
    refused = browser.find_element(By.ID, "refused").text  # type: ignore[attr-defined]
    assert "阅读热线的案件" in refused and "case.read" not in refused


def test_signing_in_returns_to_the_page_asked_for(
    browser: object, city: tuple[Served, dict[str, str]]
) -> None:
    from selenium.webdriver.common.by import By

    server, passwords = city
    browser.delete_all_cookies()  # type: ignore[attr-defined]
    browser.get(server.url + "/console/team?lang=en")  # type: ignore[attr-defined]
    assert "/console/login?next=" in browser.current_url  # type: ignore[attr-defined]
    assert browser.find_element(By.ID, "sign-in-first").is_displayed()  # type: ignore[attr-defined]
    assert all_widths(browser) == {}
    browser.find_element(By.ID, "username").send_keys("demo-team-leader")  # type: ignore[attr-defined]
    browser.find_element(By.ID, "password").send_keys(passwords["team_leader"])  # type: ignore[attr-defined]
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()  # type: ignore[attr-defined]
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda d: "/console/team" in d.current_url)
    assert "/console/login" not in browser.current_url  # type: ignore[attr-defined]
    browser.get(server.url + "/console/no-such-page")  # type: ignore[attr-defined]
    assert browser.find_element(By.ID, "error-heading").text == "There is no such page"  # type: ignore[attr-defined]
    assert all_widths(browser) == {}
    shoot(browser, "error-404-en", 390)


# counts the refreshes the live queue makes by itself (they carry the X-Hotline-Refresh header)
LIVE_REFRESHES = """
window.liveRefreshes = 0;
document.addEventListener("htmx:afterSettle", function (e) {
  var config = e.detail && e.detail.requestConfig;
  if (config && config.headers && config.headers["X-Hotline-Refresh"]) { window.liveRefreshes += 1; }
});
"""


def _case_with_questions(data: Path, questions: dict[str, str]) -> tuple[str, str]:
    """The newest demo case of a service that asks its own questions, and its first question."""
    with closing(sqlite3.connect(data / "hotline.db")) as db:
        for service, question in questions.items():
            found = db.execute(
                "SELECT c.tracking_number FROM cases c JOIN service_categories s"
                " ON s.id = c.category_id WHERE s.name_zh = ? ORDER BY c.id DESC LIMIT 1",
                (service,),
            ).fetchone()
            if found:
                return found[0], question
    raise AssertionError("the demo city has no case with questions")


def test_an_agent_is_offered_one_contact_accepts_answers_and_wraps_up(
    browser: object, city: tuple[Served, dict[str, str]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    server, passwords = city
    sign_in(browser, server.url, "demo-agent", passwords["agent"], lang="zh_CN")
    browser.get(server.url + "/console/queue")  # type: ignore[attr-defined]
    waiting = int(browser.find_element(By.ID, "waiting-total").text)  # type: ignore[attr-defined]
    assert waiting > 1  # the demo city's contacts wait
    rows = browser.find_elements(By.CSS_SELECTOR, "#triage-table tbody tr")  # type: ignore[attr-defined]
    assert rows and all(r.find_element(By.CSS_SELECTOR, "td.waiting").text for r in rows)
    shoot(browser, "queue-agent-zh_CN", 1366)
    shoot(browser, "queue-agent-zh_CN", 390)
    browser.set_window_size(1366, 900)  # type: ignore[attr-defined]
    browser.find_element(By.CSS_SELECTOR, "button[name=state][value=available]").click()  # type: ignore[attr-defined]
    wait = WebDriverWait(browser, 30)
    try:
        wait.until(ec.text_to_be_present_in_element((By.ID, "my-state"), "空闲"))
    finally:
        shoot(browser, "queue-agent-available-zh_CN", 1366)
    offered = "//ul[@id='offers']//form[contains(@action, '/accept')]"
    wait.until(ec.presence_of_element_located((By.XPATH, offered)))
    browser.get(server.url + "/console/queue")  # type: ignore[attr-defined]
    assert len(browser.find_elements(By.XPATH, offered)) == 1  # one offer, not all that wait  # type: ignore[attr-defined]
    assert axe_violations(browser) == []
    # count the live queue's own refreshes: the accept itself changes the queue, so one follows
    browser.execute_script(LIVE_REFRESHES)  # type: ignore[attr-defined]
    browser.find_element(By.XPATH, offered + "//button").click()  # type: ignore[attr-defined]
    # read afresh at each look: the live queue may swap the page's parts while it is read
    toast = (By.CSS_SELECTOR, ".flash [role=status]")
    assert wait.until(ec.text_to_be_present_in_element(toast, "现在由您处理"))
    # the refresh that follows keeps what the click did on screen (it once wiped it at once)
    wait.until(lambda d: d.execute_script("return window.liveRefreshes") > 0)
    assert "现在由您处理" in browser.find_element(*toast).text  # type: ignore[attr-defined]
    shoot(browser, "queue-accepted-zh_CN", 1366)
    browser.set_window_size(1366, 900)  # type: ignore[attr-defined]
    # the live queue may replace the list between finding the link and clicking it
    wait.until(lambda d: _click_fresh(d, "#mine a[href^='/console/cases/']"))
    wait.until(ec.presence_of_element_located((By.ID, "answer")))
    wait.until(lambda d: "/console/cases/" in d.current_url)  # htmx sets the address after the swap
    number = browser.current_url.rstrip("/").split("/")[-1]  # type: ignore[attr-defined]
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    # the desktop: the work list marks this case; the citizen has a pane of their own
    assert browser.find_element(By.CSS_SELECTOR, "#mine a[aria-current=page]")  # type: ignore[attr-defined]
    assert browser.find_element(By.CSS_SELECTOR, ".desk-citizen #citizen-h")  # type: ignore[attr-defined]
    for width in WIDTHS:
        browser.set_window_size(width, 900)  # type: ignore[attr-defined]
        assert axe_violations(browser) == [], width
        shoot(browser, "desktop-agent-zh_CN", width)
    browser.set_window_size(1366, 900)  # type: ignore[attr-defined]
    # "?" lists the page's shortcuts; "t" goes to the reply templates, choosing one fills the box
    browser.find_element(By.TAG_NAME, "body").send_keys("?")  # type: ignore[attr-defined]
    keys = wait.until(ec.visibility_of_element_located((By.ID, "shortcuts")))
    assert "选择答复模板" in keys.text and "接受分配" not in keys.text  # no offer on screen now
    keys.find_element(By.CSS_SELECTOR, "form[method=dialog] button").click()
    browser.find_element(By.TAG_NAME, "body").send_keys("t")  # type: ignore[attr-defined]
    picker = browser.switch_to.active_element  # type: ignore[attr-defined]
    assert picker.get_attribute("id") == "template"
    from selenium.webdriver.support.ui import Select

    Select(picker).select_by_index(1)
    answer = browser.find_element(By.ID, "answer")  # type: ignore[attr-defined]
    wait.until(lambda d: answer.get_attribute("value"))
    assert number in answer.get_attribute("value").replace(" ", "")  # filled in from the case
    send = browser.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button")  # type: ignore[attr-defined]
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", send
    )  # type: ignore[attr-defined]
    send.click()
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash [role=status]"), spaced))
    assert "话后处理" in browser.find_element(By.ID, "my-state").text  # type: ignore[attr-defined]
    # a case whose service asks its own questions, picked from the queue filtered by service:
    # the citizen's answers are in the citizen's pane (the demo has a noise and a road case)
    # (older demo cases were worked already: when none waits, the newest such case is opened)
    questions = {"噪声扰民": "噪声什么时候出现？", "道路破损": "破损有多大？"}
    picked = ""
    for service in questions:
        browser.get(server.url + "/console/queue")  # type: ignore[attr-defined]
        Select(browser.find_element(By.ID, "f-service")).select_by_visible_text(service)  # type: ignore[attr-defined]
        browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()  # type: ignore[attr-defined]
        wait.until(lambda d: "service=" in d.current_url)
        rows = browser.find_elements(By.CSS_SELECTOR, "#triage-table form[action$='/pick'] button")  # type: ignore[attr-defined]
        question = questions[service]
        if rows:
            rows[0].click()
            wait.until(lambda d: "case=" in d.current_url)
            picked = browser.current_url.split("case=")[1].split("&")[0]  # type: ignore[attr-defined]
            break
    if not picked:
        picked, question = _case_with_questions(server.data_dir, questions)
    browser.get(f"{server.url}/console/cases/{picked}")  # type: ignore[attr-defined]
    answers = browser.find_element(By.CSS_SELECTOR, ".desk-citizen #answers")  # type: ignore[attr-defined]
    assert question in answers.text
    # a button pressed once sends once: disabled while its request runs, a bar shown meanwhile
    browser.execute_script(  # type: ignore[attr-defined]
        "window.sent = []; document.addEventListener('htmx:beforeSend', function (e) {"
        " var f = e.detail.elt.closest ? e.detail.elt.closest('form') : null;"
        " var b = f ? f.querySelector('button[value=available]') : null; if (!b) { return; }"
        " window.sent.push([b.disabled, document.getElementById('loading')"
        ".classList.contains('htmx-request')]); });"
    )
    browser.find_element(By.CSS_SELECTOR, "button[name=state][value=available]").click()  # type: ignore[attr-defined]
    wait.until(ec.text_to_be_present_in_element((By.ID, "my-state"), "空闲"))
    sent = browser.execute_script("return window.sent")  # type: ignore[attr-defined]
    assert sent and all(disabled and bar for disabled, bar in sent), sent
    shoot(browser, "queue-agent-after-zh_CN", 1366)


def _click_fresh(driver: Any, css: str) -> str | bool:
    """Click what ``css`` finds now; False (try again) when the page replaced it meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        element = driver.find_element(By.CSS_SELECTOR, css)
        text = str(element.text)
        element.click()
    except StaleElementReferenceException:
        return False
    return text
