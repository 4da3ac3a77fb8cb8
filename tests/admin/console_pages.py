"""Helpers for the console's browser tests: the demo city with one account per role, signing
in, screenshots kept as test artefacts, axe-core, and the check that no internal code (event
names, channel and medium codes, permission codes, rule reasons) is on screen."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from hotline.core.people.permissions import Permission
from hotline.core.reference import labels
from hotline.core.storage.enums import AgentState, Channel, Media, Role
from tests.browser import links_now
from tests.processes import ROOT, env_for, hotline_bin

AXE = Path(__file__).parents[1] / "vendor" / "axe-core-4.14.1.min.js"  # from the npm registry
ARTEFACTS = Path(os.environ.get("HOTLINE_TEST_ARTEFACTS", ROOT / "test-artefacts")) / "console"
WIDTHS = (1366, 390)
_AXE_SCRIPT = AXE.read_text()


def demo_city(data: Path) -> dict[str, str]:
    """``hotline demo-data`` as a newcomer runs it; returns each role's password, as printed."""
    done = subprocess.run(
        [hotline_bin(), "demo-data", "--days", "2", "--per-day", "6"],
        env=env_for(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = dict(re.findall(r"^\s+(\w+)\s+demo-[\w-]+\s+(\S+)$", done.stdout, re.M))
    assert set(found) == {r.value for r in Role}, done.stdout
    return found


_DISPATCH = """
import asyncio
from sqlalchemy import select
from hotline.core.commands.demo_accounts import busiest_department
from hotline.core.foundation.settings import Settings
from hotline.core.shell.context import Kernel, open_context
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.reference import Department
from hotline.core.workflow.dispatch import do_dispatch

async def main():
    settings = Settings()
    async with open_context(settings, Kernel(settings)) as ctx:
        department = await busiest_department(ctx)
        async with ctx.db.session() as session:
            code = (await session.get(Department, department)).code
            case = await session.scalar(select(Case.id).where(
                Case.status == "received", Case.sealed.is_(False), Case.category_id.is_not(None),
                Case.merged_into_id.is_(None)).order_by(Case.id.desc()).limit(1))
        await do_dispatch(ctx, case, code, SYSTEM)

asyncio.run(main())
"""


def dispatch_one(data: Path) -> None:
    """The newest demo case sent to the demo department's people, so that they have a case to
    open (the newest: the contacts offered to agents stay those of the demo city)."""
    subprocess.run(
        [sys.executable, "-c", _DISPATCH],
        env=env_for(data),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


def username(role: str) -> str:
    return {
        "team_leader": "demo-team-leader",
        "department_officer": "demo-department",
        "department_head": "demo-department-head",
        "director_office": "demo-director-office",
        "administrator": "demo-admin",
    }.get(role, f"demo-{role}")


def sign_in(browser: Any, url: str, name: str, password: str, lang: str = "en") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.delete_all_cookies()
    browser.get(f"{url}/console/login?lang={lang}")
    browser.find_element(By.ID, "username").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "/console/login" not in d.current_url)


def shoot(browser: Any, name: str, width: int) -> Path:
    """A full-page screenshot at ``width`` pixels, kept under test-artefacts/console/."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    height = int(browser.execute_script("return document.documentElement.scrollHeight")) or 800
    browser.set_window_size(width, min(max(height + 120, 700), 4000))
    path = ARTEFACTS / f"{name}-{width}.png"
    browser.save_screenshot(str(path))
    return path


def axe_violations(browser: Any) -> list[str]:
    """axe-core's WCAG 2 A and AA rules on the page as it is laid out now (loaded once a page)."""
    if not browser.execute_script("return typeof axe === 'object'"):
        browser.execute_script(_AXE_SCRIPT)
    return list(
        browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa'], resultTypes: ['violations']})"
            ".then(r => done(r.violations.map("
            "v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))));"
        )
    )


def _codes() -> tuple[set[str], set[str]]:
    """Codes that never occur in words (with ``_``, ``.`` or ``:``), and plain-word codes that
    are codes on a Chinese page."""
    every = (
        set(labels.EVENT)
        | set(labels.ACTION)
        | set(labels.NOTICE)
        | set(labels.KIND)
        | set(labels.STATUS)
        | {c.value for c in Channel}
        | {m.value for m in Media}
        | {p.value for p in Permission}
        | {r.value for r in Role}
        | {s.value for s in AgentState}
    )
    marked = {c for c in every if re.search(r"[_.]", c)} | {f"{c.value}:" for c in Channel}
    marked |= {"category:", "keyword:", "district:"}
    plain = {c for c in every if re.fullmatch(r"[a-z]+", c)}
    return marked, plain


MARKED, PLAIN = _codes()


def codes_on_screen(text: str, lang: str) -> list[str]:
    found = sorted(c for c in MARKED if re.search(rf"(?<![\w.@/-]){re.escape(c)}(?![\w-])", text))
    if lang.startswith("zh"):  # a lone English code among Chinese words (not English prose)
        for code in sorted(PLAIN):
            for match in re.finditer(rf"(?<![\w.@/-]){code}(?![\w.@-])", text):
                around = text[max(0, match.start() - 15) : match.start()]
                around += text[match.end() : match.end() + 15]
                if not re.search(r"[A-Za-z]{2,}", around):
                    found.append(code)
                    break
    return found


def console_links(browser: Any) -> list[str]:
    """The pages the side navigation offers this user."""
    return [href for href, _ in links_now(browser, "#sidenav nav a.nav-link")]


DETAIL = re.compile(r"/console/(cases|department/cases|mailbox|citizens)/[^/?#]+$")
# not pages to check: files, live streams and audio, signing out, and other sites
NOT_A_PAGE = re.compile(r"/(files|stream|listen|logout|login)(/|$)")


def page_kind(href: str) -> str:
    """The page a link leads to, whatever its record: numbers and codes become {}."""
    path = href.split("?", 1)[0].split("#", 1)[0]
    path = path[path.index("/console") :] if "/console" in path else path
    return re.sub(r"/(\d+|[A-Z0-9]{6,}|[0-9a-f-]{32,36})(?=/|$)", "/{}", path)


def detail_links(browser: Any) -> list[str]:
    """Links from a page to the console's other pages: the page of one case, letter or citizen
    behind a list, an account's page, a team member's profile, the team's work records..."""
    found = []
    for href, download in links_now(browser, "main a[href]"):
        path = href.split("#", 1)[0]
        if "/console/" not in path or "?" in path or NOT_A_PAGE.search(path) or download:
            continue
        if path not in found:
            found.append(path)
    return found
