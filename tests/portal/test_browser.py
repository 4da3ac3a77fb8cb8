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
WIDTHS = (1366, 390)  # a desktop and a phone


def test_every_portal_page_passes_an_accessibility_check(browser: object, hotline: Served) -> None:
    """axe-core (WCAG 2 A/AA rules: labels, contrast, keyboard, landmarks) at 1366 and 390
    pixels on every page a citizen meets, in both languages: the home page, a service's form,
    the form sent back with its errors, the receipt, the lookup and a refused lookup, the case
    page (received, then answered with the rating form), the director's mailbox, the map of
    nearby reports, the information pages and the error page. One browser, resized."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    script = AXE.read_text()

    def violations() -> list[str]:
        if not browser.execute_script("return typeof axe === 'object'"):
            browser.execute_script(script)
        return list(
            browser.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => done(r.violations.map("
                "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
            )
        )

    found: dict[str, list[str]] = {}

    def check(name: str, path: str | None = None) -> None:
        """The page as it is now (or ``path`` loaded) at both widths, without loading it again:
        a page shown after a POST is checked as the citizen sees it."""
        if path is not None:
            browser.get(hotline.url + path)
        assert browser.title, name  # every page names itself
        for width in WIDTHS:
            browser.set_window_size(width, 900)
            result = violations()
            if result:
                found[f"{name} at {width}"] = result

    # the check itself can fail: a page with an unlabelled field and no language does
    browser.get("data:text/html,<title>x</title><input>")
    assert violations()
    db = Path(hotline.data_dir) / "hotline.db"
    with sqlite3.connect(db) as conn:
        place = conn.execute(
            "SELECT latitude, longitude FROM cases WHERE latitude IS NOT NULL LIMIT 1"
        ).fetchone() or (0.0, 0.0)
    for lang in ("zh_CN", "en"):
        check(f"home {lang}", f"/?lang={lang}")
        services = [
            str(a.get_attribute("href"))
            for a in browser.find_elements(By.CSS_SELECTOR, "main a[href*='/services/']")
        ]
        assert services
        check(f"service form {lang}", services[0].removeprefix(hotline.url))
        browser.find_element(By.CSS_SELECTOR, "form.portal-form button[type=submit]").click()
        WebDriverWait(browser, 30).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".govuk-error-summary")
        )
        check(f"form with errors {lang}")
        browser.find_element(By.ID, "description").send_keys(f"路灯不亮 / the lamp is out ({lang})")
        browser.find_element(By.ID, "phone").clear()
        browser.find_element(By.ID, "phone").send_keys("13800138000")
        if not browser.find_element(By.NAME, "consent").is_selected():
            browser.find_element(By.NAME, "consent").click()
        for radio in browser.find_elements(By.CSS_SELECTOR, "input[type=radio]"):
            radio.click()  # the service's own questions, if it asks any
            break
        browser.find_element(By.CSS_SELECTOR, "form.portal-form button[type=submit]").click()
        WebDriverWait(browser, 30).until(ec.url_contains("/receipt/"))
        number = browser.find_element(By.ID, "tracking-number").text.replace(" ", "")
        code = browser.find_element(By.ID, "lookup-code").text.strip()
        check(f"receipt {lang}")
        browser.delete_all_cookies()  # another browser: the case is not known here
        check(f"lookup {lang}", f"/track?lang={lang}")
        browser.find_element(By.ID, "number").send_keys(number)
        browser.find_element(By.ID, "factor").send_keys("000000")
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 30).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".govuk-error-summary")
        )
        check(f"refused lookup {lang}")
        browser.find_element(By.ID, "factor").clear()
        browser.find_element(By.ID, "factor").send_keys(code)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        WebDriverWait(browser, 30).until(ec.url_contains(f"/cases/{number}"))
        assert browser.find_elements(By.CLASS_NAME, "timeline")
        check(f"case page {lang}")
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE cases SET status='answered' WHERE tracking_number=?", (number,))
        browser.refresh()
        assert browser.find_elements(By.CSS_SELECTOR, "input[name=satisfaction]")
        check(f"answered case page {lang}")
        check(f"director's mailbox {lang}", "/director")
        check(f"nearby {lang}", "/nearby")
        check(f"nearby a place {lang}", f"/nearby?lat={place[0]}&lon={place[1]}")
        check(f"information {lang}", "/info")
        assert browser.find_element(By.TAG_NAME, "h1").text in browser.title
        pages = browser.find_elements(By.CSS_SELECTOR, "main a[href^='/info/']")
        if pages:
            check(
                f"an information page {lang}",
                str(pages[0].get_attribute("href")).removeprefix(hotline.url),
            )
        check(f"no such page {lang}", "/no-such-page")
        assert browser.find_elements(By.TAG_NAME, "h1")
    assert found == {}, found
