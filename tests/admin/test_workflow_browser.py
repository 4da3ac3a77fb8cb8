"""The workflow in a real browser (Debian's Chromium), in Chinese: a citizen reports on the
portal; the agent dispatches it from the workflow desk; the department officer signs for it
from the to-do list and replies with a photo; the agent accepts the reply; the citizen's case
page shows the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.factories import PNG
from tests.processes import Served, add_user


def press(browser: Any, css: str) -> None:
    """Click a form's button once it is in the middle of the window (the console's fixed top
    bar may cover one that was only just scrolled to)."""
    from selenium.common.exceptions import ElementClickInterceptedException
    from selenium.webdriver.common.by import By

    button = browser.find_element(By.CSS_SELECTOR, css)
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", button
    )
    try:
        button.click()
    except ElementClickInterceptedException:  # headless Chromium misplaces the point at times
        browser.execute_script("arguments[0].click()", button)


def sign_in(browser: Any, url: str, name: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.delete_all_cookies()
    browser.get(url + "/console/login?lang=zh_CN")
    browser.find_element(By.ID, "username").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    press(browser, "form button[type=submit]")
    WebDriverWait(browser, 30).until(lambda d: "/console/login" not in d.current_url)


def test_a_case_travels_the_loop_in_the_browser(
    browser: object, hotline: Served, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    assert isinstance(browser, WebDriver)
    browser.set_window_size(1366, 900)  # an agent's desk, not a phone (the phone is tested apart)
    wait = WebDriverWait(browser, 30)
    agent = add_user(Path(hotline.data_dir), "wang", "agent")
    officer = add_user(
        Path(hotline.data_dir), "zhao", "department_officer", "--department", "transport"
    )

    # the citizen reports a pothole
    browser.get(hotline.url + "/services/road?lang=zh_CN")
    browser.find_element(By.ID, "description").send_keys("建设路中段有个深坑，雨天积水。")
    browser.find_element(By.ID, "phone").send_keys("13912345678")
    browser.find_element(By.NAME, "consent").click()
    press(browser, "form button[type=submit]")
    number = browser.find_element(By.ID, "tracking-number").text.replace(" ", "")
    code = browser.find_element(By.ID, "lookup-code").text.strip()
    display = " ".join(number[i : i + 4] for i in range(0, len(number), 4))

    # the agent dispatches it from the desk, to the suggested department
    sign_in(browser, hotline.url, "wang", agent)
    browser.get(hotline.url + "/console/desk")
    browser.find_element(By.LINK_TEXT, display).click()
    wait.until(ec.presence_of_element_located((By.ID, "dispatch-form")))
    assert "建议承办单位" in browser.find_element(By.ID, "suggestion").text
    lead = Select(browser.find_element(By.ID, "department")).first_selected_option
    assert lead.get_attribute("value") == "transport"
    browser.find_element(By.ID, "instructions").send_keys("请三日内处理")
    press(browser, "#dispatch-form button")
    wait.until(ec.presence_of_element_located((By.ID, "done")))
    assert "派单" in browser.find_element(By.ID, "path").text

    # the department officer: to-do list, sign for, reply with a photo
    sign_in(browser, hotline.url, "zhao", officer)
    browser.get(hotline.url + "/console/department")
    browser.find_element(By.CSS_SELECTOR, "#todo-sign").find_element(By.LINK_TEXT, display).click()
    wait.until(ec.presence_of_element_located((By.ID, "sign-form")))
    assert "13912345678" not in browser.find_element(By.ID, "contacts").text.replace(" ", "")
    press(browser, "#sign-form button")
    wait.until(ec.presence_of_element_located((By.ID, "reply-form")))
    photo = tmp_path / "修复后.png"
    photo.write_bytes(PNG)
    browser.find_element(By.ID, "reply").send_keys("已于今日填平压实。")
    browser.find_element(By.ID, "reply-files").send_keys(str(photo))
    press(browser, "#reply-form button")
    # the new page lists the reply with its photo (the old one showed "done" for the sign-for)
    wait.until(ec.text_to_be_present_in_element((By.ID, "messages"), "修复后.png"))
    assert "承办单位回复" in browser.find_element(By.ID, "messages").text

    # the agent reviews from the desk and accepts
    sign_in(browser, hotline.url, "wang", agent)
    browser.get(hotline.url + "/console/desk")
    browser.find_element(By.CSS_SELECTOR, "#desk-review").find_element(
        By.LINK_TEXT, display
    ).click()
    wait.until(ec.presence_of_element_located((By.ID, "review-form")))
    assert browser.find_element(By.ID, "answer-text").get_attribute("value") == "已于今日填平压实。"
    press(browser, "#review-form button[value=accept]")
    wait.until(ec.presence_of_element_located((By.ID, "evaluate-form")))

    # the citizen's page shows the answer and that the department took the case up
    browser.delete_all_cookies()
    browser.get(hotline.url + "/track?lang=zh_CN")
    browser.find_element(By.ID, "number").send_keys(number)
    browser.find_element(By.ID, "factor").send_keys(code)
    press(browser, "form button[type=submit]")
    timeline = browser.find_element(By.CLASS_NAME, "timeline").text
    assert "已于今日填平压实" in timeline and "承办单位已签收" in timeline
