"""A citizen in a real browser (Debian's Chromium, driven by Selenium through Debian's
chromedriver, nothing downloaded): submit a complaint with a photo in Chinese, keep the tracking
number, look the case up, see the timeline, and rate it after an answer is recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PIL import Image

from tests.processes import Served


def test_a_citizen_submits_tracks_and_rates_in_a_browser(
    browser: object, hotline: Served, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(browser, WebDriver)
    photo = tmp_path / "坑.jpg"
    Image.new("RGB", (320, 240), (90, 90, 90)).save(photo, format="JPEG")

    browser.get(hotline.url + "/")
    assert "紧急情况请拨打 110" in browser.find_element(By.CLASS_NAME, "emergency").text
    assert browser.execute_script("return typeof htmx") == "object"  # vendored, allowed by the CSP
    browser.find_element(By.LINK_TEXT, "道路破损").click()
    browser.find_element(By.ID, "description").send_keys("解放路小学门口有个大坑，孩子上学很危险。")
    browser.find_element(By.ID, "phone").send_keys("13800138000")
    browser.find_element(By.ID, "files").send_keys(str(photo))
    browser.find_element(By.NAME, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()

    number = browser.find_element(By.ID, "tracking-number").text.replace(" ", "")
    code = browser.find_element(By.ID, "lookup-code").text.strip()
    assert len(number) == 13 and len(code) == 6
    assert "我们已收到您的诉求" in browser.page_source

    browser.find_element(By.LINK_TEXT, "查询工单").click()
    browser.find_element(By.ID, "number").send_keys(number)
    browser.find_element(By.ID, "factor").send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    timeline = browser.find_element(By.CLASS_NAME, "timeline").text
    assert "已受理" in timeline
    assert "13800138000" not in browser.page_source

    # the hotline answers (the workflow issue will do this through the console)
    with sqlite3.connect(Path(hotline.data_dir) / "hotline.db") as db:
        db.execute("UPDATE cases SET status='answered' WHERE tracking_number=?", (number,))
    browser.refresh()
    browser.find_element(By.CSS_SELECTOR, "input[name=satisfaction][value=satisfied]").click()
    browser.find_element(By.ID, "rate-text").send_keys("处理得很快，谢谢")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/rate'] button").click()
    assert "感谢您的评价" in browser.find_element(By.CLASS_NAME, "notice").text
    assert "您评价了答复" in browser.find_element(By.CLASS_NAME, "timeline").text


AXE = Path(__file__).parents[1] / "vendor" / "axe-core-4.14.1.min.js"  # from the npm registry


def test_the_portal_passes_an_accessibility_check(browser: object, hotline: Served) -> None:
    """axe-core (WCAG 2 A/AA rules: labels, contrast, keyboard, landmarks) on each page kind."""
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(browser, WebDriver)
    script = AXE.read_text()

    def violations(url: str) -> list[str]:
        browser.get(url)
        browser.execute_script(script)
        return list(
            browser.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => done(r.violations.map("
                "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
            )
        )

    # the check itself can fail: a page with an unlabelled field and no language does
    assert violations("data:text/html,<title>x</title><input>")
    found = {}
    for width in (1366, 390):  # a desktop and a phone
        browser.set_window_size(width, 900)
        for path in (
            "/?lang=zh_CN",
            "/services/noise",
            "/director",
            "/track",
            "/info",
            "/?lang=en",
        ):
            result = violations(hotline.url + path)
            if result:
                found[f"{path} at {width}"] = result
    assert found == {}
