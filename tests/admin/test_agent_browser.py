"""An agent in a real browser (Debian's Chromium): signs in, becomes available; a citizen submits
a case on the portal in another tab; the offer arrives live on the agent's screen with a visible
notice; the agent accepts, opens the case with the citizen's earlier case in view, and answers on
the spot; the citizen's case page then shows the answer."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import ROOT, Served, add_user, env_for, hotline_bin

PHONE = "13912345678"


@pytest.fixture
def hotline(tmp_path: Path) -> Iterator[Served]:
    """The demo city, where the administrator lets an agent hold several offers at once: the
    demo's waiting contacts are offered too, and the citizen's must still reach the screen live
    (one offer at a time is the default: tests/admin/test_console_browser.py)."""
    data = tmp_path / "data"
    subprocess.run(
        [hotline_bin(), "demo-data", "--days", "1", "--per-day", "3"],
        env=env_for(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = Served(data, HOTLINE_AXD_OFFERS_PER_AGENT="20")
    try:
        yield server
    finally:
        server.stop()


def submit(browser: Any, url: str, text: str) -> str:
    from selenium.webdriver.common.by import By

    browser.get(url + "/")
    browser.find_element(By.CSS_SELECTOR, "a[href$='/services/road']").click()
    browser.find_element(By.ID, "description").send_keys(text)
    browser.find_element(By.ID, "phone").send_keys(PHONE)
    browser.find_element(By.NAME, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    return str(browser.find_element(By.ID, "tracking-number").text.replace(" ", ""))


def test_an_agent_receives_accepts_and_answers_live(browser: object, hotline: Served) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    browser.set_window_size(1366, 900)  # an agent's desktop
    password = add_user(Path(hotline.data_dir), "lin", "agent")

    citizen = browser.current_window_handle
    earlier = submit(browser, hotline.url, "上周反映的井盖松动，还没有修。")

    browser.switch_to.new_window("tab")
    agent = browser.current_window_handle
    browser.get(hotline.url + "/console/login?lang=en")
    browser.find_element(By.ID, "username").send_keys("lin")
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: "/console/login" not in d.current_url)  # signed in (argon2 takes a while)
    browser.get(hotline.url + "/console/queue")
    browser.find_element(By.CSS_SELECTOR, "button[name=state][value=available]").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "my-state"), "Available"))
    # the earlier case (and the demo's waiting contacts) are offered as soon as the agent is free
    waiting = f"//ul[@id='offers' or @id='mine']/li[contains(., '{earlier[:4]}')]"
    wait.until(ec.presence_of_element_located((By.XPATH, waiting)))

    browser.switch_to.window(citizen)
    number = submit(browser, hotline.url, "解放路口的坑又变大了，请尽快处理。")
    display = " ".join(number[i : i + 4] for i in range(0, len(number), 4))

    browser.switch_to.window(agent)  # the screen was not reloaded: the offer is pushed to it
    row = wait.until(
        ec.presence_of_element_located(
            (By.XPATH, f"//ul[@id='offers']/li[contains(., '{display}')]")
        )
    )
    assert browser.find_element(By.ID, "offer-notice").is_displayed()
    assert browser.title.startswith("● ")
    row.find_element(By.CSS_SELECTOR, "form[action$='/accept'] button").click()
    # the panel refreshes itself as the queue changes: click the case's link once it holds still
    stable = WebDriverWait(browser, 30, ignored_exceptions=[StaleElementReferenceException])
    link = f"#mine a[href='/console/cases/{number}']"
    stable.until(lambda d: d.find_element(By.CSS_SELECTOR, link).click() or True)
    wait.until(ec.presence_of_element_located((By.ID, "interactions")))

    assert "解放路口的坑又变大了" in browser.find_element(By.ID, "interactions").text
    history = browser.find_element(By.ID, "history").text.replace(" ", "")
    assert earlier in history  # the citizen's earlier case, on the same screen
    assert "井盖松动" in browser.find_element(By.ID, "earlier").text
    browser.find_element(By.ID, "answer").send_keys("已派人今晚修补，感谢反映。")
    send = browser.find_element(By.CSS_SELECTOR, "form[action$='/answer'] button")
    # on a loaded machine Chromium reported the button covered at its point (cause not found);
    # a script click submits the same form
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'}); arguments[0].click()",
        send,
    )
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), display))
    assert "After-contact work" in browser.find_element(By.ID, "my-state").text

    browser.switch_to.window(citizen)  # the citizen's page shows the answer
    code = browser.find_element(By.ID, "lookup-code").text.strip()
    browser.get(hotline.url + "/track")
    browser.find_element(By.ID, "number").send_keys(number)
    browser.find_element(By.ID, "factor").send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert "已派人今晚修补" in browser.find_element(By.CLASS_NAME, "timeline").text
