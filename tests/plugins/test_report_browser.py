"""The report page's charts in Chromium on the demo city: each chart (bar, line, pie) is drawn
by the vendored ECharts under the console's CSP (no violation reported), the page has no axe-core
violation with the chart drawn, at 1366 and 390 pixels, in both languages (screenshots kept under
test-artefacts/console/); changing the chart in the form keeps it in the address; a contact
figure leads to the list of those contacts, as many as it says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.admin.console_pages import WIDTHS, axe_violations, demo_city, shoot, sign_in
from tests.processes import Served

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _served(data: Path) -> Iterator[tuple[Served, dict[str, str]]]:
    passwords = demo_city(data)
    server = Served(data)
    try:
        yield server, passwords
    finally:
        server.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, str]]]:
    yield from _served(tmp_path_factory.mktemp("report-city") / "data")


def _drawn(browser: Any, chart: str, width: int = 1366) -> None:
    """Drawn, its animation over, for the page's width (a phone's chart is drawn anew)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "var b = document.getElementById('report-chart');"
            "return b && !b.hidden && b.getAttribute('data-drawn') === arguments[0]"
            " && b.getAttribute('data-narrow') === arguments[1]"
            " && b.querySelector('canvas') !== null && b.querySelector('canvas').width > 0",
            chart,
            "1" if width < 600 else "0",
        )
    )


def test_each_chart_is_drawn_under_the_csp_and_passes_axe(
    browser: Any, demo: tuple[Served, dict[str, str]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    server, passwords = demo
    # the demo city's last week, whatever the hour (this week or month may be an hour old)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    week = f"kind=custom&date={today - timedelta(days=6)}&end={today}"
    for lang in ("en", "zh_CN"):
        sign_in(browser, server.url, "demo-supervisor", passwords["supervisor"], lang)
        for chart in ("bar", "line", "pie"):
            browser.set_window_size(1366, 900)
            browser.get(f"{server.url}/console/reports?{week}&chart={chart}&lang={lang}")
            _drawn(browser, chart)
            for width in WIDTHS:
                browser.set_window_size(width, 900)
                browser.execute_script("window.dispatchEvent(new Event('resize'))")
                _drawn(browser, chart, width)
                assert axe_violations(browser) == [], (lang, chart, width)
                shoot(browser, f"report-{chart}-{lang}", width)
        # a contact figure's drill-down: the team's work records of those contacts
        link = browser.find_element(By.CSS_SELECTOR, '#contacts a.drill[data-count="offered"]')
        shown = link.text
        link.click()
        WebDriverWait(browser, 30).until(lambda d: "/console/work/team" in d.current_url)
        total = browser.find_element(By.CSS_SELECTOR, ".pager .total")
        assert total.get_attribute("data-total") == shown
        for width in WIDTHS:
            browser.set_window_size(width, 900)
            assert axe_violations(browser) == [], (lang, "contacts", width)
            shoot(browser, f"report-contacts-{lang}", width)
        severe = [
            entry["message"]
            for entry in browser.get_log("browser")
            if (entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"])
            and "favicon.ico" not in entry["message"]
        ]
        assert severe == [], severe
    # the chart chosen in the form (a boosted GET) is drawn and kept in the address
    browser.set_window_size(1366, 900)
    browser.get(f"{server.url}/console/reports?{week}&lang=en")
    _drawn(browser, "bar")
    Select(browser.find_element(By.ID, "chart")).select_by_value("line")
    browser.find_element(By.CSS_SELECTOR, "#report-form button").click()
    WebDriverWait(browser, 30).until(lambda d: "chart=line" in d.current_url)
    _drawn(browser, "line")
