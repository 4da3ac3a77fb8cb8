"""Browser fixtures shared by the portal's and the console's tests: Debian's Chromium driven by
Selenium through Debian's chromedriver (nothing downloaded), and a served demo hotline."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need
from tests.processes import ROOT, Served, env_for, hotline_bin

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
IMPLICIT_WAIT = 10  # seconds: boosted links swap the page in a moment later


def chromium_driver(profile: Path, *flags: str, prefs: dict[str, object] | None = None) -> Any:
    """Debian's Chromium, headless, with a throw-away profile and ``flags`` besides."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        f"--user-data-dir={profile}",
        *flags,
    ):
        options.add_argument(flag)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def links_now(browser: Any, selector: str) -> list[tuple[str, bool]]:
    """Each link ``selector`` finds on the page as it is, as (absolute href, is a download), in
    one round trip: ``find_elements`` would wait out the implicit wait on a page with none."""
    found = browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]),"
        " a => [a.href, a.hasAttribute('download')]);",
        selector,
    )
    return [(str(href), bool(download)) for href, download in found]


def elements_now(browser: Any, by: str, selector: str) -> list[Any]:
    """The elements on the page as it is, without the implicit wait (for asserting absence)."""
    browser.implicitly_wait(0)
    try:
        return list(browser.find_elements(by, selector))
    finally:
        browser.implicitly_wait(IMPLICIT_WAIT)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    need(
        Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(),
        "Chromium and chromedriver (Debian packages chromium, chromium-driver)",
    )
    driver = chromium_driver(
        tmp_path / "profile",
        "--disable-quic",
        "--disable-component-update",
        "--disable-sync",
        "--lang=zh-CN",
        prefs={"intl.accept_languages": "zh-CN,zh"},
    )
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(IMPLICIT_WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def hotline(tmp_path: Path) -> Iterator[Served]:
    data = tmp_path / "data"
    subprocess.run(
        [hotline_bin(), "demo-data", "--days", "1", "--per-day", "3"],
        env=env_for(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = Served(data)
    try:
        yield server
    finally:
        server.stop()
