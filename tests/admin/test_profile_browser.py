"""The users page and the profile page in Chromium at 1366 and 390 px, in both languages: no
page wider than the screen; screenshots kept as test artefacts (artefacts/console/)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.browser import browser, hotline  # noqa: F401  (fixtures)
from tests.processes import ROOT, Served, add_user

AXE = ROOT / "tests" / "vendor" / "axe-core-4.14.1.min.js"  # from the npm registry
ARTEFACTS = Path(os.environ.get("HOTLINE_ARTEFACTS", ROOT / "artefacts")) / "console"


def _shot(driver: Any, name: str, width: int) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(width, 800)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(max(height, 800), 5000))
    path = ARTEFACTS / f"{name}-{width}.png"
    driver.save_screenshot(str(path))
    return path


def _violations(driver: Any) -> list[str]:
    driver.execute_script(AXE.read_text())
    return list(
        driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => done(r.violations.map("
            "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
        )
    )


def test_users_and_profile_pages_at_both_widths(browser: Any, hotline: Served) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    password = add_user(Path(hotline.data_dir), "chen", "administrator")
    browser.get(hotline.url + "/console/login?lang=en")
    browser.find_element(By.ID, "username").send_keys("chen")
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "/console/login" not in d.current_url)
    found: dict[str, list[str]] = {}
    for language in ("zh_CN", "en"):
        for path, name in (
            ("/console/settings/users", "users"),
            ("/console/settings/users/1", "user"),
            ("/console/profile", "profile"),
        ):
            browser.get(f"{hotline.url}{path}?lang={language}")
            assert browser.find_element(By.TAG_NAME, "h1").text
            for width in (1366, 390):
                shot = _shot(browser, f"{name}-{language}", width)
                assert shot.stat().st_size > 5000
                page_width = browser.execute_script("return document.body.scrollWidth")
                table_ok = browser.execute_script(
                    "return [...document.querySelectorAll('table')].every("
                    "t => t.getBoundingClientRect().width <= window.innerWidth"
                    " || t.parentElement.scrollWidth > t.parentElement.clientWidth)"
                )
                assert page_width <= width + 1, (name, language, width, page_width)
                assert table_ok
                problems = _violations(browser)
                if problems:
                    found[f"{name} {language} {width}"] = problems
    assert found == {}
