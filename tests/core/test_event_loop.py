"""Nothing blocks the event loop on the main request paths.

The app is served by ``tests/loopwatch.py``: asyncio in debug mode with
``slow_callback_duration`` at a few milliseconds, every callback timed and sampled. The test
drives what citizens and staff do most (the portal's form with a photo, the receipt, tracking
a case and adding to it, an SMS and a Telegram message in, web chat, the console's queue,
workspace, attachments, searches, team board, supervision) twice, the first time to warm the
caches (templates compiled on first use), and fails naming every callback that then held the
loop, and the project's code it was in.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from bs4 import BeautifulSoup

from hotline.core.foundation.settings import Settings
from hotline.core.people.accounts import hash_password
from hotline.core.shell.context import open_context
from hotline.core.storage.enums import Role
from hotline.core.storage.models.people import User
from tests.conftest import seed_city
from tests.processes import ROOT, env_for, free_port
from tests.telegram_api import running

pytestmark = pytest.mark.slow

THRESHOLD_MS = 10
PASSWORD = "correct horse battery staple"
SMS_SECRET = "kannel-shared-secret-0123"
TG_TOKEN = "123456:loop-watch-token"
TG_SECRET = "tg-webhook-secret-loopwatch"
# Blocking calls another part of issue 23 removes; they are expected here until it lands.
KNOWN = {
    (
        "core/people/accounts.py",
        "verify_password",
    ): "TODO(issue 23, staff accounts): argon2 at sign-in",
    (
        "core/people/accounts.py",
        "hash_password",
    ): "TODO(issue 23, staff accounts): argon2 at sign-in",
    ("core/people/apikeys.py", "check_key"): "TODO(issue 23, Open311 keys): argon2 per API key",
}


def _photo(width: int = 2400, height: int = 1800) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((width, height), 60).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


async def _seed(settings: Settings) -> None:
    async with open_context(settings) as ctx:
        await seed_city(ctx)
        async with ctx.db.transaction() as s:
            for role in (Role.AGENT, Role.TEAM_LEADER, Role.SUPERVISOR):
                s.add(
                    User(
                        username=f"{role.value}1",
                        display_name=role.value,
                        role=role,
                        password_hash=hash_password(PASSWORD),
                    )
                )


class Watched:
    def __init__(self, data: Path, tg_url: str, db_url: str) -> None:
        self.report = data.parent / "loopwatch.jsonl"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = env_for(
            data,
            HOTLINE_SECRET_KEY="loopwatch-secret-0123456789abcdef",
            HOTLINE_DATABASE_URL=db_url,
            HOTLINE_JOBS_IN_PROCESS="false",
            HOTLINE_RATE_LIMIT_PER_MINUTE="100000",
            HOTLINE_FORM_POSTS_PER_MINUTE="100000",
            HOTLINE_CONSOLE_POSTS_PER_MINUTE="100000",
            HOTLINE_WEBCHAT_POSTS_PER_MINUTE="100000",
            HOTLINE_WEBCHAT_OFFICE_HOURS_ONLY="false",
            HOTLINE_SMS_SHARED_SECRET=SMS_SECRET,
            HOTLINE_SMS_NETWORKS="",
            HOTLINE_TELEGRAM_TOKEN=TG_TOKEN,
            HOTLINE_TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
            HOTLINE_TELEGRAM_API_URL=tg_url,
            LOOPWATCH_MS=str(THRESHOLD_MS),
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.loopwatch", str(self.report), str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.communicate()[1])
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("the watched app did not start")

    def entries(self) -> list[dict[str, Any]]:
        if not self.report.exists():
            return []
        return [json.loads(line) for line in self.report.read_text().splitlines() if line]

    def forget(self) -> None:
        self.report.unlink(missing_ok=True)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=20)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()[1]


@pytest.fixture
def watched(tmp_path: Path, db_url: str) -> Iterator[Watched]:
    """On SQLite and on PostgreSQL: there ``Database.run`` units run on the loop's thread."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    settings = Settings(
        data_dir=data, database_url=db_url, secret_key="loopwatch-secret-0123456789abcdef"
    )
    asyncio.run(_seed(settings))
    with running(TG_TOKEN) as api:
        app = Watched(data, api.url, db_url)
        yield app
        app.stop()


def _token(client: httpx.Client, page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(page).text)
    assert found, page
    return found.group(1)


def _sign_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=True)
    signed = client.post(
        "/console/login",
        data={
            "_csrf_token": _token(client, "/console/login"),
            "username": username,
            "password": PASSWORD,
        },
    )
    assert signed.status_code == 200, signed.text[:300]
    return client


def drive(app: Watched, photo: bytes, round_: int) -> None:
    """One pass over the main paths, as citizens and staff take them."""
    url = app.url
    with httpx.Client(base_url=url, timeout=60, follow_redirects=True) as citizen:
        assert citizen.get("/").status_code == 200
        receipt = citizen.post(
            "/services/pothole",
            data={
                "_csrf_token": _token(citizen, "/services/pothole"),
                "kind": "complaint",
                "description": f"第{round_}次：人民路有一个大坑",
                "phone": "13800138000",
                "consent": "yes",
            },
            files=[("files", ("hole.jpg", photo, "image/jpeg"))],
        )
        page = BeautifulSoup(receipt.text, "html.parser")
        assert page.find(id="tracking-number") is not None, receipt.text[:500]
        number = page.find(id="tracking-number").get_text().replace(" ", "")
        code = page.find(id="lookup-code").get_text().strip()
        tracked = citizen.post(
            "/track",
            data={"_csrf_token": _token(citizen, "/track"), "number": number, "factor": code},
        )
        assert tracked.status_code == 200
        added = citizen.post(
            "/track/case/info",
            data={"_csrf_token": _token(citizen, "/track"), "text": "坑越来越大了"},
        )
        assert added.status_code in (200, 422)  # more information is taken when asked for
        # web chat
        started = citizen.post(
            "/chat/start", data={"_csrf_token": _token(citizen, "/chat/"), "text": "路灯坏了"}
        )
        assert started.status_code == 200
        said = citizen.post(
            "/chat/say", data={"_csrf_token": _token(citizen, "/chat/"), "text": "在吗"}
        )
        assert said.status_code == 200
        with citizen.stream("GET", "/chat/stream?after=0") as stream:
            assert stream.status_code == 200
            next(stream.iter_lines())
    # the APIs other apps read
    assert httpx.get(f"{url}/api/v1/cases/{number}/status").status_code == 200
    assert httpx.get(f"{url}/open311/v2/requests.json").status_code == 200
    assert httpx.get(f"{url}/open311/v2/services.xml").status_code == 200
    # an SMS through Kannel, a Telegram message through the webhook
    sms = httpx.get(
        f"{url}/channels/sms/kannel/mo?secret={SMS_SECRET}&from=%2B8613900139000&to=12345"
        f"&text={quote(f'第{round_}条短信：噪声扰民')}"
    )
    assert sms.status_code == 200
    update = {
        "update_id": 1000 + round_,
        "message": {
            "message_id": 10 + round_,
            "from": {"id": 555, "is_bot": False, "first_name": "Li"},
            "chat": {"id": 555, "type": "private"},
            "date": 1_800_000_000,
            "text": f"第{round_}条：公交站牌倒了",
        },
    }
    hook = httpx.post(
        f"{url}/channels/telegram/webhook",
        content=json.dumps(update),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
    )
    assert hook.status_code == 200
    # the console
    agent = _sign_in(url, "agent1")
    try:
        for page_url in ("/console", "/console/queue", f"/console/cases/{number}", "/console/work"):
            assert agent.get(page_url).status_code == 200, page_url
        state = agent.post(
            "/console/state",
            data={"_csrf_token": _token(agent, "/console/queue"), "state": "available"},
        )
        assert state.status_code < 400
        assert agent.get("/console/cases?q=" + quote("大坑")).status_code == 200
        assert agent.get("/console/citizens?q=13800138000").status_code == 200
        files = re.findall(
            r'href="(/console/files/\d+)"', agent.get(f"/console/cases/{number}").text
        )
        assert files
        assert agent.get(files[0]).status_code == 200
        assert agent.get(files[0], headers={"Range": "bytes=0-1023"}).status_code == 206
    finally:
        agent.close()
    for username, pages in (
        ("team_leader1", ("/console/team", "/console/work/team")),
        ("supervisor1", ("/console/supervision", "/console/audit", "/console/mailbox")),
    ):
        staff = _sign_in(url, username)
        for page_url in pages:
            assert staff.get(page_url).status_code == 200, page_url
        staff.close()


def _where(entry: dict[str, Any]) -> tuple[str, str] | None:
    for frame in entry.get("frames", []):
        found = re.match(r"(.+?):\d+ in (\w+)", frame)
        if found and (found[1], found[2]) in KNOWN:
            return found[1], found[2]
    return None


def test_main_paths_never_block_the_loop(watched: Watched) -> None:
    photo = _photo()
    drive(watched, photo, 0)  # warm: templates compiled, first connections made
    watched.forget()
    drive(watched, photo, 1)
    time.sleep(0.5)
    entries = watched.entries()
    ours = [e for e in entries if "frames" in e or "callback" in e]
    known = [e for e in ours if _where(e)]
    # a callback over the threshold only by the garbage collector's pass inside it: the
    # collector's pause, not the project's code (reported, not failed; no project frame seen)
    collector = [
        e
        for e in ours
        if not e.get("frames") and e.get("cpu_ms", 0) - e.get("gc_ms", 0) < THRESHOLD_MS
    ]
    offenders = [e for e in ours if not _where(e) and e not in collector]
    for entry in known:  # reported, not failed: their fix is another part of issue 23
        print(KNOWN[_where(entry) or ("", "")], entry["cpu_ms"], "ms", file=sys.stderr)
    for entry in collector:
        print("the collector:", entry["gc_ms"], "of", entry["cpu_ms"], "ms", file=sys.stderr)
    assert not offenders, "the loop was blocked:\n" + "\n".join(
        f"{e['callback'][:200]} took {e['wall_ms']} ms ({e['cpu_ms']} ms CPU, of it"
        f" {e.get('gc_ms', 0)} ms the collector's) at "
        + (" <- ".join(e["frames"][:6]) or "(no project frame sampled)")
        for e in offenders
    )


def test_the_watch_names_a_blocking_callback(tmp_path: Path) -> None:
    """The watch itself: a callback that sleeps and one that computes are both reported,
    with the function they were in; a quick one is not."""
    from tests.loopwatch import Watch

    watch = Watch(tmp_path / "report.jsonl", THRESHOLD_MS / 1000)
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    watch.install(loop)

    def sleeps() -> None:
        time.sleep(0.2)

    def computes() -> None:
        deadline = time.thread_time() + 0.05
        while time.thread_time() < deadline:
            pass

    async def main() -> None:
        loop.call_soon(sleeps)
        loop.call_soon(computes)
        loop.call_soon(lambda: None)
        await asyncio.sleep(0.3)

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
        asyncio.events.Handle._run = watch.original  # type: ignore[method-assign]
    found = [json.loads(line) for line in watch.report.read_text().splitlines()]
    where = {e["frames"][0].split(" in ")[-1] for e in found if e.get("frames")}
    assert {"sleeps", "computes"} <= where
    assert len([e for e in found if "callback" in e]) == 2
