"""A citizen in Chromium on the portal with a map (issue 25): the city's tile server is one of
the test's own on loopback serving a PNG tile. The citizen sets a pin on the map, sends the
form with a photo (the button is pressed twice and one case is made), reloads the receipt,
opens the case page by its address (and another browser is asked for the lookup code); a form
whose CSRF token lapsed while typing comes back filled in; axe-core finds nothing on any
portal page at 1366 and 390 pixels; screenshots of every page in both languages are saved."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser import elements_now
from tests.processes import ROOT, Served, env_for, free_port, hotline_bin

AXE = Path(__file__).parents[1] / "vendor" / "axe-core-4.14.1.min.js"  # from the npm registry
ARTEFACTS = Path(os.environ.get("HOTLINE_ARTEFACTS", ROOT / "artefacts")) / "portal"
WIDTHS = (1366, 390)


def _tile() -> bytes:
    picture = Image.new("RGB", (256, 256), (232, 238, 226))
    draw = ImageDraw.Draw(picture)
    for i in range(0, 256, 32):
        draw.line([(i, 0), (i, 255)], fill=(200, 205, 195))
        draw.line([(0, i), (255, i)], fill=(200, 205, 195))
    draw.rectangle([100, 0, 130, 255], fill=(255, 255, 255))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


class TileServer:
    """Any /z/x/y.png answers one PNG tile; the paths asked are kept."""

    def __init__(self) -> None:
        png = _tile()
        asked: list[str] = []
        self.asked = asked

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    server = TileServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mapped(tmp_path: Path, tiles: TileServer) -> Iterator[Served]:
    """The demo city served with the test's tile server as its map."""
    data = tmp_path / "data"
    subprocess.run(
        [hotline_bin(), "demo-data", "--days", "1", "--per-day", "3"],
        env=env_for(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = Served(
        data,
        HOTLINE_MAP_TILE_URL=tiles.url,
        HOTLINE_MAP_ATTRIBUTION="Test tiles",
        HOTLINE_MAP_CENTER="39.9087,116.3975",
        HOTLINE_MAP_ZOOM="15",
    )
    try:
        yield server
    finally:
        server.stop()


def _shot(browser: Any, name: str, width: int) -> Path:
    """A whole-page screenshot at ``width``, kept as a test artefact."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(width, 700)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(max(height, 700), 5000))
    path = ARTEFACTS / f"{name}-{width}.png"
    browser.save_screenshot(str(path))
    return path


def _cases(data_dir: str, text: str) -> list[tuple[str, float | None, float | None]]:
    with sqlite3.connect(Path(data_dir) / "hotline.db") as db:
        return list(
            db.execute(
                "SELECT tracking_number, latitude, longitude FROM cases WHERE description = ?",
                (text,),
            )
        )


def test_a_citizen_sets_a_pin_sends_a_photo_and_finds_the_case_by_its_address(
    browser: object, mapped: Served, tiles: TileServer, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    wait = WebDriverWait(browser, 15)
    photo = tmp_path / "坑.jpg"
    Image.new("RGB", (1600, 1200), (90, 90, 90)).save(photo, format="JPEG", quality=95)
    browser.set_window_size(1366, 900)

    browser.get(mapped.url + "/services/road?lang=zh_CN")
    canvas = browser.find_element(By.ID, "map")
    assert canvas.is_displayed()
    wait.until(
        lambda b: (
            b.execute_script("return document.querySelectorAll('.leaflet-tile-loaded').length") > 0
        )
    )
    assert tiles.asked and all(p.endswith(".png") for p in tiles.asked)
    # nobody types a latitude: the coordinates are hidden fields the map fills
    assert browser.find_element(By.ID, "latitude").get_attribute("type") == "hidden"
    ActionChains(browser).move_to_element_with_offset(canvas, 40, 30).click().perform()
    wait.until(lambda b: b.find_element(By.ID, "latitude").get_attribute("value"))
    lat = float(browser.find_element(By.ID, "latitude").get_attribute("value"))
    lon = float(browser.find_element(By.ID, "longitude").get_attribute("value"))
    assert abs(lat - 39.9087) < 0.02 and abs(lon - 116.3975) < 0.02
    assert browser.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon")
    assert "已设置地点" in browser.find_element(By.ID, "geo-status").text
    _shot(browser, "form-pinned-zh", 1366)

    words = "解放路小学门口有个大坑，孩子上学很危险。"
    browser.find_element(By.ID, "description").send_keys(words)
    browser.find_element(By.ID, "phone").send_keys("13800138000")
    browser.find_element(By.ID, "files").send_keys(str(photo))
    browser.find_element(By.ID, "consent").click()
    button = browser.find_element(By.CSS_SELECTOR, "form.portal-form button[type=submit]")
    # pressed twice: the button is disabled while the request runs, with an indicator shown
    button.click()
    disabled_at_once = browser.execute_script(
        "const b = document.querySelector('form.portal-form button[type=submit]');"
        "const s = document.querySelector('.portal-sending');"
        "return [b.disabled, s ? getComputedStyle(s).display : 'none'];"
    )
    browser.execute_script(
        "const b = document.querySelector('form.portal-form button[type=submit]'); if (b) b.click();"
    )
    wait.until(lambda b: "/receipt/" in b.current_url)
    assert disabled_at_once[0] is True and disabled_at_once[1] != "none"

    number = browser.find_element(By.ID, "tracking-number").text.replace(" ", "")
    code = browser.find_element(By.ID, "lookup-code").text.strip()
    assert browser.current_url.endswith(f"/receipt/{number}")
    made = _cases(mapped.data_dir, words)
    assert len(made) == 1  # one case for a button pressed twice
    assert made[0][0] == number and made[0][1] == pytest.approx(lat, abs=1e-5)
    assert made[0][2] == pytest.approx(lon, abs=1e-5)
    # no SMS gateway in the demo city: the receipt does not claim a copy was sent
    said = browser.find_element(By.ID, "copy").text
    assert "已通过短信" not in said and "正在通过短信" not in said
    _shot(browser, "receipt-zh", 1366)

    browser.refresh()  # a reload shows the same receipt
    assert browser.find_element(By.ID, "tracking-number").text.replace(" ", "") == number
    assert browser.find_element(By.ID, "lookup-code").text.strip() == code
    # printed (or saved as PDF): the number and code, without the menus and buttons
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CSS_SELECTOR, ".govuk-service-navigation").is_displayed()
    assert not browser.find_element(By.ID, "case-link").is_displayed()
    assert browser.find_element(By.ID, "lookup-code").is_displayed()
    _shot(browser, "receipt-print-zh", 1366)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    browser.find_element(By.ID, "case-link").click()
    wait.until(lambda b: b.current_url.endswith(f"/cases/{number}"))
    assert words in browser.find_element(By.ID, "written-text").text
    assert "坑.jpg" in browser.find_element(By.ID, "written").text
    _shot(browser, "case-zh", 1366)

    # another browser (no cookies) is asked for the lookup code at the same address
    browser.delete_all_cookies()
    browser.get(mapped.url + f"/cases/{number}")
    assert not elements_now(browser, By.ID, "written-text")
    browser.find_element(By.ID, "factor").send_keys(code)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait.until(lambda b: b.find_elements(By.ID, "written-text"))
    assert browser.current_url.endswith(f"/cases/{number}")
    browser.refresh()
    assert words in browser.find_element(By.ID, "written-text").text

    # the place is not on the public list: the citizen did not agree to publish it
    browser.get(mapped.url + f"/nearby?lat={lat}&lon={lon}")
    assert not elements_now(browser, By.CSS_SELECTOR, ".portal-nearby-table tbody tr")


def test_a_lapsed_form_token_gives_the_form_back_filled_in(browser: object, mapped: Served) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    wait = WebDriverWait(browser, 15)
    browser.set_window_size(1366, 900)
    browser.get(mapped.url + "/services/noise?lang=en")
    words = "Drilling next door every night after eleven."
    browser.find_element(By.ID, "description").send_keys(words)
    browser.find_element(By.ID, "attr_when").click()  # "at night"
    browser.find_element(By.ID, "phone").send_keys("13800138000")
    browser.find_element(By.ID, "consent").click()
    # the token lapses while they type (the browser was restarted, the cookie is gone)
    browser.delete_cookie("hotline_csrf")
    browser.find_element(By.CSS_SELECTOR, "form.portal-form button[type=submit]").click()
    wait.until(lambda b: b.find_elements(By.ID, "expired"))
    assert "Everything you typed is still here" in browser.find_element(By.ID, "expired").text
    assert browser.find_element(By.ID, "description").get_attribute("value") == words
    assert browser.find_element(By.ID, "phone").get_attribute("value") == "13800138000"
    assert browser.find_element(By.ID, "attr_when").is_selected()
    assert browser.find_element(By.ID, "consent").is_selected()
    assert _cases(mapped.data_dir, words) == []
    _shot(browser, "form-expired-en", 1366)
    # a fresh token came with it: sending again works
    browser.find_element(By.CSS_SELECTOR, "form.portal-form button[type=submit]").click()
    wait.until(lambda b: "/receipt/" in b.current_url)
    assert len(_cases(mapped.data_dir, words)) == 1


def test_every_portal_page_passes_axe_at_both_widths_in_both_languages(
    browser: object, mapped: Served
) -> None:
    """axe-core (WCAG 2 A/AA) on every portal page, with the map on, at 1366 and 390 px;
    a screenshot of each is kept (zh and en)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(browser, WebDriver)
    script = AXE.read_text()
    with sqlite3.connect(Path(mapped.data_dir) / "hotline.db") as db:
        slug = db.execute("SELECT slug FROM pages WHERE published = 1 LIMIT 1").fetchone()[0]
    # a case of our own, for the receipt and case pages
    browser.get(mapped.url + "/services/road?lang=en")
    browser.find_element(By.ID, "description").send_keys("A pothole outside the school")
    browser.find_element(By.ID, "consent").click()
    browser.find_element(By.CSS_SELECTOR, "form.portal-form button[type=submit]").click()
    time.sleep(0.5)
    number = browser.find_element(By.ID, "tracking-number").text.replace(" ", "")

    pages = {
        "home": "/",
        "form": "/services/noise",
        "director": "/director",
        "track": "/track",
        "receipt": f"/receipt/{number}",
        "case": f"/cases/{number}",
        "nearby": "/nearby?lat=39.9087&lon=116.3975",
        "info": "/info",
        "guide": f"/info/{slug}",
    }

    def violations() -> list[str]:
        browser.execute_script(script)
        return list(
            browser.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}).then(r => done(r.violations.map("
                "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
            )
        )

    found: dict[str, list[str]] = {}
    for lang in ("zh_CN", "en"):
        for width in WIDTHS:
            browser.set_window_size(width, 900)
            for name, path in pages.items():
                joiner = "&" if "?" in path else "?"
                browser.get(f"{mapped.url}{path}{joiner}lang={lang}")
                time.sleep(0.3)
                result = violations()
                if result:
                    found[f"{name} {lang} {width}"] = result
                _shot(browser, f"{name}-{lang[:2]}", width)
                browser.set_window_size(width, 900)
    assert found == {}


def test_use_my_location_and_the_public_list_shows_only_what_was_agreed(
    browser: object, mapped: Served
) -> None:
    """Two citizens pin the same corner; only the one who agreed to publish is listed near it,
    rounded, without words; "use my location" (the browser's geolocation) finds it."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    wait = WebDriverWait(browser, 15)
    here = {"latitude": 39.91234, "longitude": 116.40123, "accuracy": 10}
    browser.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": mapped.url, "permissions": ["geolocation"]}
    )
    browser.execute_cdp_cmd("Emulation.setGeolocationOverride", here)
    browser.set_window_size(1366, 900)
    for words, publish in (("路灯不亮，第一位", True), ("路灯不亮，第二位", False)):
        browser.get(mapped.url + "/services/lights?lang=zh_CN")
        browser.find_element(By.ID, "use-location").click()
        wait.until(lambda b: b.find_element(By.ID, "latitude").get_attribute("value"))
        assert float(browser.find_element(By.ID, "latitude").get_attribute("value")) == (
            pytest.approx(here["latitude"], abs=1e-5)
        )
        browser.find_element(By.ID, "description").send_keys(words)
        if publish:
            browser.find_element(By.ID, "publish_location").click()
        browser.find_element(By.ID, "consent").click()
        browser.find_element(By.CSS_SELECTOR, "form.portal-form button[type=submit]").click()
        wait.until(lambda b: "/receipt/" in b.current_url)
        assert len(_cases(mapped.data_dir, words)) == 1

    browser.get(mapped.url + "/nearby?lang=zh_CN")
    browser.find_element(By.ID, "use-location").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".portal-nearby-table tbody tr"))
    rows = browser.find_elements(By.CSS_SELECTOR, ".portal-nearby-table tbody tr")
    assert len(rows) == 1 and "路灯故障" in rows[0].text
    assert rows[0].get_attribute("data-lat") == "39.912"  # rounded to about 100 m
    assert "路灯不亮" not in browser.page_source
    assert "lat=39.912" in browser.current_url
    _shot(browser, "nearby-found-zh", 1366)
    _shot(browser, "nearby-found-zh", 390)


class Sendsms:
    """Kannel's sendsms interface as the SMS channel calls it (loopback): keeps each query."""

    def __init__(self) -> None:
        got: list[str] = []
        self.got = got

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the stdlib's name
                got.append(self.path)
                body = b"0: Accepted for delivery"
                self.send_response(202)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        port = self.server.server_address[1]
        self.url = f"http://tester:secret@127.0.0.1:{port}/cgi-bin/sendsms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_the_receipt_says_a_copy_went_by_sms_only_when_it_did(tmp_path: Path) -> None:
    """With an SMS gateway set up, the receipt says the copy went (and it did: the gateway
    got the number and code); without a phone number it says nobody can send one."""
    import httpx
    from bs4 import BeautifulSoup

    gateway = Sendsms()
    data = tmp_path / "data"
    subprocess.run(
        [hotline_bin(), "demo-data", "--days", "1", "--per-day", "1"],
        env=env_for(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = Served(data, HOTLINE_SMS_SENDSMS_URL=gateway.url)
    try:
        for phone in ("13800138000", ""):
            with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as web:
                form = BeautifulSoup(web.get("/services/road?lang=en").text, "html.parser")
                token = form.find("input", attrs={"name": "_csrf_token"})["value"]
                shown = web.post(
                    "/services/road",
                    data={
                        "_csrf_token": token,
                        "description": f"Broken kerb, phone {bool(phone)}",
                        "phone": phone,
                        "consent": "yes",
                    },
                )
                assert "/receipt/" in str(shown.url)
                receipt = BeautifulSoup(shown.text, "html.parser")
                code = receipt.find(id="lookup-code").get_text(strip=True)
                said = receipt.find(id="copy").get_text(" ", strip=True)
                if phone:
                    assert "by SMS to +86138****8000" in said
                    assert "We sent a copy" in said or "on its way" in said
                    deadline = time.monotonic() + 20
                    while not any(code in q for q in gateway.got) and time.monotonic() < deadline:
                        time.sleep(0.2)
                    assert any(code in q for q in gateway.got)  # it really went
                else:
                    assert "SMS" not in said and "nobody can send you a copy" in said
    finally:
        server.stop()
        gateway.server.shutdown()
