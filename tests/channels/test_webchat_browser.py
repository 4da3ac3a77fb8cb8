"""Web chat in Chromium, in Chinese: the citizen's page goes live (the agent joining and the
agent's lines appear without a reload; the citizen's line is sent without leaving the page),
and a reload shows the same conversation."""

from __future__ import annotations

import re
from typing import Any

from hotline.core.storage.models.axd import QueueItem
from tests.channels.test_webchat import Stream, agent_client, csrf_of, live, rows  # noqa: F401
from tests.liveapp import LiveApp
from tests.processes import wait_for


def test_the_citizen_chats_live_in_the_browser(live: LiveApp, browser: Any) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    agent = agent_client(live)
    browser.get(f"{live.url}/chat/")
    browser.find_element(By.ID, "first").send_keys("楼道灯坏了一周了")
    browser.find_element(By.CSS_SELECTOR, "#start button[type=submit]").click()
    WebDriverWait(browser, 15).until(
        seen.text_to_be_present_in_element((By.ID, "chat-state"), "正在等待话务员")
    )
    assert wait_for(lambda: rows(live, QueueItem)[0].state == "offered", timeout=15)
    queue_page = agent.get("/console/queue")
    accept = re.search(r'action="(/console/queue/\d+/accept)"', queue_page.text)
    assert accept
    agent.post(accept.group(1), data={"_csrf_token": csrf_of(queue_page.text)})
    # the page learns the agent joined without the citizen doing anything
    WebDriverWait(browser, 15).until(
        seen.text_to_be_present_in_element((By.ID, "chat-state"), "话务员已接入")
    )
    page = browser.page_source
    found = re.search(r"工单 (\d{4} \d{4} \d{4} \d)", page) or re.search(
        r"(\d{4} \d{4} \d{4} \d)", page
    )
    assert found
    number = found.group(1).replace(" ", "")
    chat_page = agent.get(f"/console/chat/{number}")
    agent_stream = Stream(agent, f"/console/chat/{number}/stream")
    agent.post(
        f"/console/chat/{number}/say",
        data={"_csrf_token": csrf_of(chat_page.text), "text": "您好，请问具体是哪栋楼？"},
    )
    WebDriverWait(browser, 15).until(
        seen.text_to_be_present_in_element((By.ID, "lines"), "请问具体是哪栋楼")
    )
    url_before = browser.current_url
    box = browser.find_element(By.ID, "text")
    box.send_keys("3号楼2单元")
    browser.find_element(By.CSS_SELECTOR, "#say button[type=submit]").click()
    assert agent_stream.line("3号楼2单元")["who"] == "citizen"
    WebDriverWait(browser, 15).until(
        seen.text_to_be_present_in_element((By.ID, "lines"), "3号楼2单元")
    )
    assert browser.current_url == url_before and box.get_attribute("value") == ""
    browser.refresh()
    WebDriverWait(browser, 15).until(
        seen.text_to_be_present_in_element((By.ID, "lines"), "3号楼2单元")
    )
    assert "请问具体是哪栋楼" in browser.find_element(By.ID, "lines").text
