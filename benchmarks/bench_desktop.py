"""The agent desktop's first paint in Chromium, with ``--waiting`` contacts (default 200) in the
AXD queue.

Loads ``--cases`` cases the way ``bench_console.py`` does, puts ``--waiting`` of them in the
queue, starts ``hotline serve`` and signs an agent in with headless Chromium. Then, ``--loads``
times after an untimed warm-up, opens ``/console/queue`` (the state bar, the work list and the
triage table) and reads the browser's own First Contentful Paint.

The raw baseline, in the same run: the same page's bytes (its HTML and every file it names)
served by Python's plain ``http.server`` from memory, no framework, no database, opened the
same way. Prints ``name value unit``; ``desktop_first_paint_ratio`` is raw p50 / app p50.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from bench_console import load
from bench_offer import PASSWORD
from bench_portal import Server, hotline_bin, percentile, server_env

FCP = (
    "const e = performance.getEntriesByName('first-contentful-paint')[0];"
    "return e ? e.startTime : null;"
)


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,900"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def first_paints(driver: Any, url: str, loads: int, warmup: int) -> list[float]:
    from selenium.webdriver.support.ui import WebDriverWait

    found: list[float] = []
    for n in range(warmup + loads):
        driver.get(url)
        paint = WebDriverWait(driver, 30).until(lambda d: d.execute_script(FCP))
        if n >= warmup:
            found.append(float(paint))
    return sorted(found)


def snapshot(base: str, cookies: dict[str, str]) -> dict[str, tuple[str, bytes]]:
    """The page and every file it names, as the app served them: path -> (type, bytes)."""
    files: dict[str, tuple[str, bytes]] = {}
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        page = client.get("/console/queue")
        files["/console/queue"] = ("text/html; charset=utf-8", page.content)
        for path in set(re.findall(r'(?:href|src)="(/static/[^"#]+)', page.text)):
            got = client.get(path)
            files[path] = (got.headers.get("content-type", "application/octet-stream"), got.content)
    return files


def serve_plain(files: dict[str, tuple[str, bytes]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kind, body = files.get(self.path.split("?")[0], ("text/plain", b""))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--waiting", type=int, default=200)
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    # the page is painted by the browser; the database is SQLite here (bench_console has both)
    parser.add_argument("--skip-postgres", action="store_true", help="accepted; SQLite only")
    args = parser.parse_args()
    args.requests = 0  # bench_console's loader also picks cases to open: none here
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        load(data, args)
        server = Server("app", [hotline_bin(), "serve"], server_env(data), Path(tmp) / "app.log")
        driver = None
        try:
            server.wait_ready()
            base = f"http://127.0.0.1:{server.port}"
            driver = browser()
            driver.get(base + "/console/login?lang=zh_CN")
            driver.find_element("id", "username").send_keys("agent")
            driver.find_element("id", "password").send_keys(PASSWORD)
            driver.find_element("css selector", "form button[type=submit]").click()
            from selenium.webdriver.support.ui import WebDriverWait

            WebDriverWait(driver, 30).until(lambda d: "/console/login" not in d.current_url)
            app = first_paints(driver, base + "/console/queue", args.loads, args.warmup)
            shown = driver.find_element("id", "waiting-total").text
            cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
            plain = serve_plain(snapshot(base, cookies))
            raw = first_paints(
                driver,
                f"http://127.0.0.1:{plain.server_address[1]}/console/queue",
                args.loads,
                args.warmup,
            )
            plain.shutdown()
        finally:
            if driver is not None:
                driver.quit()
            server.stop()
    print(f"# {args.waiting} contacts waiting (the page says {shown}), {args.loads} loads")
    p50, p99 = percentile(app, 0.5), percentile(app, 0.99)
    raw50 = percentile(raw, 0.5)
    print(f"desktop_first_paint_ms {p50:.1f} ms")
    print(f"desktop_first_paint_p99_ms {p99:.1f} ms")
    print(f"desktop_first_paint_raw_ms {raw50:.1f} ms")
    print(f"desktop_first_paint_ratio {raw50 / p50 if p50 else 0:.2f} x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
