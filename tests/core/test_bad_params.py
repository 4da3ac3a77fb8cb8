"""Every route of the app, with malformed values in every path parameter, every query parameter
and every form field the code reads, for a stranger and for a signed-in person of each role:
a bad value is a 4xx in the path's format, never a 5xx.

The parameter names come from the code and the templates (what ``.get("x")``,
``_int(form, "x")`` and ``name="x"`` say), so a parameter added tomorrow is walked too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select, update

from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.people.accounts import hash_password
from hotline.core.people.permissions import allowed
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.enums import Role
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.people import User
from hotline.core.workflow.dispatch import do_dispatch
from tests.conftest import seed_city
from tests.factories import PNG, submission
from tests.liveapp import LiveApp

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"

# Not a number, past 64 bits, negative, a fraction, a bad date, NUL and CJK, very long,
# markup, a path escape, an unknown id that looks right.
BAD = [
    "",
    "abc",
    "-1",
    "99999999999999999999",
    "1.5",
    "2024-13-45T99:99",
    "中文\x00",
    "9" * 3000,
    "<b>x</b>",
    "NaN",
    "../../etc/passwd",
    "999999",
]
# For a route another role has walked already: what the role changes is the branch taken (a
# department's own cases, a team leader's team), not how a value is read; one value of each
# kind that breaks a different layer (the parser, the database's integer, its text) walks it.
BAD_AGAIN = ["abc", "99999999999999999999", "中文\x00"]
# Steps and actions a path may name: every one is walked with bad form values.
STEPS = [
    "dispatch",
    "review",
    "evaluate",
    "close",
    "reopen",
    "merge",
    "link",
    "split",
    "urge",
    "supervise",
    "unsupervise",
    "extension",
    "answer",
    "sign",
    "reply",
    "return",
    "dismiss",
    "retry",
    "case",
    "accept",
    "pick",
    "decline",
    "done",
]
STREAMS = {"/console/stream", "/chat/stream", "/console/chat/{number:str}/stream"}
SMS_SECRET = "kannel-shared-secret-0123"


def parameter_names() -> list[str]:
    """Every query or form name the code or a template reads."""
    names: set[str] = set()
    code = re.compile(
        r"""(?:\.get(?:all)?\(|_(?:text|int|one|field)\(\s*\w+,\s*)f?"([a-z][a-z0-9_]*)"""
    )
    markup = re.compile(r"""name="([a-z][a-z0-9_]*)\"""")
    for folder in ("admin", "portal", "channels", "core", "speech", "plugins"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(code.findall(path.read_text(encoding="utf-8")))
        for path in (ROOT / folder).rglob("*.html"):
            names.update(markup.findall(path.read_text(encoding="utf-8")))
    for media in ("voice", "chat", "sms", "email", "web", "letter"):
        names.add(f"capacity_{media}")
    names.update({"lang_zh_CN", "lang_en", "secret", "from", "to", "text", "id", "type"})
    names.discard("_csrf_token")
    names.discard("website")  # the portal's honeypot: filled in, the form is dropped unread
    return sorted(names)


NAMES = parameter_names()


def routes(app: Any) -> list[tuple[str, str, Any]]:
    found = []
    for route in app.routes:
        if route.path.startswith("/static") or route.path.startswith("/api/schema"):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, handler))
    return found


def permission_of(handler: Any) -> Any:
    perms = [g.permission for g in handler.resolve_guards() if hasattr(g, "permission")]
    return perms[0] if perms else None


def fill(path: str, values: dict[str, str], override: dict[str, str] | None = None) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        value = (override or {}).get(name, values.get(name, "1"))
        return quote(value, safe="")

    return re.sub(r"\{(\w+):\w+\}", one, path)


@pytest.fixture
def walk_app(settings: Settings) -> Iterator[tuple[LiveApp, httpx.Client]]:
    settings.sms_shared_secret = SMS_SECRET
    settings.sms_networks = []
    settings.telegram_token = "123:abc"
    settings.telegram_webhook_secret = "webhook-secret"
    # the walk is thousands of requests from one address: no rate limit may answer for it
    for limit in (
        "rate_limit_per_minute",
        "form_posts_per_minute",
        "console_posts_per_minute",
        "webchat_posts_per_minute",
        "sms_per_number_per_hour",
    ):
        setattr(settings, limit, 10**6)
    live = LiveApp(settings)
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            client.headers["X-Telegram-Bot-Api-Secret-Token"] = "webhook-secret"
            yield live, client
    finally:
        live.stop()


async def _seed(ctx: Any) -> dict[str, str]:
    city = await seed_city(ctx)
    async with ctx.db.transaction() as s:
        for role in Role:
            s.add(
                User(
                    username=f"{role.value}1",
                    display_name=f"{role.value} one",
                    role=role,
                    password_hash=hash_password(PASSWORD),
                    department_id=city["roads"]
                    if role in (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_HEAD)
                    else None,
                )
            )
        s.add(
            User(
                username="victim",
                display_name="Someone else",
                role=Role.AGENT,
                password_hash=hash_password(PASSWORD),
            )
        )
    result = await receive(ctx, submission(attachments=[{"filename": "a.png", "data": PNG}]))
    await do_dispatch(ctx, result.case_id, "roads", SYSTEM, direct_callback=True)
    letter = await receive(ctx, submission(kind="director_mailbox", category=None))
    async with ctx.db.session() as s:
        item = await s.scalar(select(QueueItem.id).where(QueueItem.case_id == result.case_id))
        victim = await s.scalar(select(User.id).where(User.username == "victim"))
        citizen = await s.scalar(select(Case.citizen_id).where(Case.id == result.case_id))
    async with ctx.db.transaction() as s:
        await s.execute(update(User).where(User.id == victim).values(active=True))
    return {
        "number": result.tracking_number,
        "letter": letter.tracking_number,
        "item_id": str(item or 1),
        "agent_id": str(victim),
        "user_id": str(victim),
        "citizen_id": str(citizen),
        "grant_id": "1",
        "rule_id": "1",
        "attachment_id": "1",
        "held_id": "1",
        "code": "pothole",
        "slug": "guide",
        "name": "requests.json",
        "step": "close",
        "action": "decline",
    }


def _token(client: httpx.Client, page: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(page).text)
    return found.group(1) if found else ""


def _status(client: httpx.Client, method: str, url: str, token: str, bad: str | None) -> int:
    path = url.split("?")[0]
    if path in STREAMS or path.endswith("/stream"):
        # an event stream (chat, queue, wallboard, a screen link's): its answer's status
        with client.stream(method, url) as response:
            return response.status_code
    if method == "GET":
        return client.get(url, follow_redirects=False).status_code
    data = {name: bad for name in NAMES} if bad is not None else {}
    data["_csrf_token"] = token
    return client.post(url, data=data, follow_redirects=False).status_code


def _query(bad: str) -> str:
    values = {n: bad[:100] for n in NAMES}
    values["secret"] = SMS_SECRET  # past the SMS gateway's check, to where values are read
    return "&".join(f"{n}={quote(v, safe='')}" for n, v in values.items())


def _start_chat(client: httpx.Client) -> None:
    token = _token(client, "/chat/")
    started = client.post("/chat/start", data={"_csrf_token": token, "text": "路灯坏了"})
    assert started.status_code < 400, started.text[:300]


def walk(
    app: Any,
    client: httpx.Client,
    values: dict[str, str],
    role: Role | None,
    token: str,
    walked: set[tuple[str, str]],
    only_once: bool,
) -> list[str]:
    """Every route this role may reach, with every bad value; the 5xx answers found.

    With ``only_once``, a route already walked for another role is left out: on PostgreSQL
    the walk looks for what the database refuses (numbers past 64 bits, NUL), which does not
    depend on who asks; SQLite's walk covers every role on every route, with ``BAD_AGAIN``
    on a route another role walked with every value."""
    failures = []
    for method, template, handler in routes(app):
        again = (method, template) in walked
        if again and only_once:
            continue
        permission = permission_of(handler)
        console = template.startswith("/console")
        if role is None and console and permission is not None:
            continue  # a stranger is refused before any parameter is read (the role matrix)
        if role is not None and (not console or (permission and not allowed(role, permission))):
            continue
        if template == "/console/logout":
            continue
        walked.add((method, template))
        bad_values = BAD_AGAIN if again else BAD
        if template == "/chat/stream":
            _start_chat(client)  # a conversation of this browser's, so its ``after`` is read
        base = dict(values)
        if template.startswith("/console/mailbox/"):
            base["number"] = values["letter"]
        steps = STEPS if re.search(r"\{(step|action):", template) else [None]
        for step in steps:
            if step is not None:
                base["step"] = base["action"] = step
            url = fill(template, base)
            for bad in bad_values:
                status = _status(client, method, f"{url}?{_query(bad)}", token, bad)
                if status >= 500:
                    failures.append(f"{role} {method} {url} all params={bad[:20]!r}: {status}")
        for name in re.findall(r"\{(\w+):\w+\}", template):
            for bad in [v for v in bad_values if v]:
                url = fill(template, base, {name: bad})
                status = _status(client, method, url, token, None)
                if status >= 500:
                    failures.append(f"{role} {method} {template} {name}={bad[:20]!r}: {status}")
    return failures


def test_no_bad_value_gives_a_server_error(
    walk_app: tuple[LiveApp, httpx.Client], caplog: pytest.LogCaptureFixture
) -> None:
    live, client = walk_app
    values = live.call(_seed)
    sessions = {}
    for role in Role:  # first: the walk's bad sign-ins lock this address out afterwards
        client.cookies = httpx.Cookies()
        signed = client.post(
            "/console/login",
            data={
                "_csrf_token": _token(client, "/console/login"),
                "username": f"{role.value}1",
                "password": PASSWORD,
            },
            follow_redirects=False,
        )
        assert signed.status_code == 303, role
        sessions[role] = (httpx.Cookies(client.cookies), _token(client, "/console/password"))
    client.cookies = httpx.Cookies()
    walked: set[tuple[str, str]] = set()
    once = live.ctx.settings.is_postgres
    failures = walk(live.app, client, values, None, _token(client, "/track"), walked, once)
    for role, (cookies, token) in sessions.items():
        client.cookies = cookies
        failures += walk(live.app, client, values, role, token, walked, once)
    # and no value reached the database unparsed (the web shell's last net caught none)
    caught = {
        (r.getMessage(), getattr(r, "route", ""))
        for r in caplog.records
        if r.name == "hotline.http" and r.levelno >= logging.WARNING
    }
    failures += [f"{message} in {route}" for message, route in sorted(caught)]
    assert not failures, "\n".join(failures[:80])


def test_open311_and_api_errors_keep_their_format(
    walk_app: tuple[LiveApp, httpx.Client],
) -> None:
    _live, client = walk_app
    for url in (
        "/open311/v2/requests/99999999999999999999.xml",
        "/open311/v2/requests.xml?start_date=x",
    ):
        response = client.get(url)
        assert 400 <= response.status_code < 500
        assert response.headers["content-type"].startswith("text/xml")
        assert "<errors>" in response.text
    response = client.get("/api/v1/cases/%00/status")
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")
