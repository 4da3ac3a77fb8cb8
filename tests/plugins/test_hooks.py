"""Every hook in core/plugin_host/hookspecs.py is documented and has a test here (a meta-test checks)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from pathlib import Path
from typing import Any

import pluggy
import pytest
from litestar import get
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.admin.guards import requires
from hotline.core.cases.replies import OutboundMessage
from hotline.core.cases.transcripts import Transcript
from hotline.core.delivery.events import CaseEventMessage
from hotline.core.delivery.jobs import JobSpec, ListenerSpec
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.intake.routing import Route
from hotline.core.people.permissions import Permission
from hotline.core.plugin_host import hookspecs
from hotline.core.plugin_host.manager import build_plugin_manager, hookimpl
from hotline.core.shell.app import create_app
from hotline.core.shell.context import AppContext, Kernel, open_context
from hotline.core.storage.enums import DeliveryStatus, Direction
from hotline.core.storage.models.cases import Case, Interaction
from tests.conftest import drain_jobs, seed_city
from tests.factories import submission


def declared_hooks() -> list[str]:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "hotline_spec")
    ]


def test_every_hook_is_documented_and_tested() -> None:
    names = declared_hooks()
    assert len(names) >= 6
    tests = set(globals())
    for name in names:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 80, f"hook {name} needs a docstring a plugin author can use"
        if hookspecs.__dict__[name].hotline_spec.get("firstresult"):
            assert doc.startswith("firstresult"), f"{name}: say it is firstresult"
        assert f"test_hook_{name}" in tests, f"hook {name} has no test_hook_{name}"


def test_misspelt_hook_fails_at_start() -> None:
    class Typo:
        @hookimpl
        def choose_departmnet(self) -> None:  # the misspelling is the point
            return None

    pm = build_plugin_manager(entry_points=False)
    pm.register(Typo())
    with pytest.raises(pluggy.PluginValidationError):
        pm.check_pending()


def test_plugins_can_be_disabled_by_name() -> None:
    pm = build_plugin_manager(disabled=["hotline.plugins.acknowledge"], entry_points=False)
    names = {name for name, plugin in pm.list_name_plugin() if plugin is not None}
    assert "hotline.plugins.acknowledge" not in names
    assert "hotline.plugins.routing" in names


def test_trace_logs_hook_names_only(caplog: pytest.LogCaptureFixture) -> None:
    pm = build_plugin_manager(entry_points=False, trace=True)
    caplog.set_level(logging.INFO, logger="hotline.plugins")
    pm.hook.register_templates()
    record = next(r for r in caplog.records if getattr(r, "hook", None) == "register_templates")
    assert "hotline.portal" in record.plugins  # type: ignore[attr-defined]


class Site:
    """A site's own plugin, registered like any other."""

    def __init__(self) -> None:
        self.events: list[CaseEventMessage] = []
        self.sent: list[OutboundMessage] = []
        self.retried: list[bytes] = []
        self.listening: list[str] = []
        self.job_runs: list[int] = []
        self.committed_when_told: list[bool] = []
        self.ctx: AppContext | None = None

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/site/hello", sync_to_thread=False)
        def hello() -> str:
            return "hello from a site plugin"

        return [hello]

    @hookimpl
    def register_templates(self) -> list[str]:
        return ["tests.plugins"]

    @hookimpl
    def register_commands(self, subparsers: Any) -> None:
        greet = subparsers.add_parser("site-greet", help="say hello")
        greet.set_defaults(func=lambda args: print("hello from the site") or 0)

    @hookimpl
    def check_setup(self, settings: Settings) -> list[str]:
        return ["HOTLINE_SITE_THING: not set up"]

    @hookimpl
    def transcribe(self, audio: bytes, content_type: str, language: str) -> Transcript | None:
        if language != "xx":
            return None
        return Transcript("the bins were not emptied", "xx", "site", seconds=2.0)

    @hookimpl
    def register_console_routes(self) -> list[Any]:
        @get("/console/site/secret", guards=[requires(Permission.SUPERVISE)], sync_to_thread=False)
        def secret() -> str:
            return "for auditors only"

        return [secret]

    @hookimpl
    def register_jobs(self) -> list[JobSpec]:
        async def count(ctx: AppContext, n: int) -> None:
            self.job_runs.append(n)

        return [JobSpec("site.count", count)]

    @hookimpl
    def route_case(self, case: Case) -> Route | None:
        return Route("env", "site: noise words") if "噪音" in case.description else None

    @hookimpl
    async def case_event(self, ctx: AppContext, event: CaseEventMessage) -> None:
        self.events.append(event)
        # told after commit: a separate session already sees the case
        async with ctx.db.session() as s:
            self.committed_when_told.append(await s.get(Case, event.case_id) is not None)

    @hookimpl
    def choose_agent(self, candidates: list[Any]) -> int | None:
        # a site strategy: the agent with the best skill level for this item
        best = min(candidates, key=lambda c: (c.skill_level, c.user_id), default=None)
        return best.user_id if best and best.skill_level == 1 else None

    @hookimpl
    def register_listeners(self) -> list[ListenerSpec]:
        async def listen(ctx: AppContext, stop: asyncio.Event) -> None:
            self.listening.append("started")
            await stop.wait()
            self.listening.append("stopped")

        return [ListenerSpec("site.listen", listen)]

    @hookimpl
    def process_held(self, channel: str, raw: bytes) -> str | None:
        if channel != "site":
            return None
        self.retried.append(raw)
        return "case"

    @hookimpl
    def send_reply(self, message: OutboundMessage) -> str | None:
        if message.contact_kind != "email":
            return None
        self.sent.append(message)
        return f"site-{message.interaction_id}"


@pytest.fixture
def site(kernel: Kernel) -> Site:
    plugin = Site()
    kernel.pm.register(plugin, name="site")
    return plugin


def test_hook_register_routes(settings: Settings, kernel: Kernel, site: Site) -> None:
    with TestClient(create_app(settings, kernel)) as client:
        assert client.get("/site/hello").text == "hello from a site plugin"


def test_hook_register_console_routes(settings: Settings, kernel: Kernel, site: Site) -> None:
    """A plugin's staff screen sits behind the console's sign-in and its own permission."""
    with TestClient(create_app(settings, kernel)) as client:
        assert client.get("/console/site/secret", follow_redirects=False).status_code in (
            302,
            303,
            401,
            403,
        )
        assert "for auditors only" not in client.get("/console/site/secret").text


def test_hook_register_templates(settings: Settings, kernel: Kernel, site: Site) -> None:
    app = create_app(settings, kernel)
    html = app.state.jinja.get_template("plugins/site_page.html").render(_=str, lang="en")
    assert "site template" in html


async def test_hook_register_jobs(ctx: AppContext, kernel: Kernel, site: Site) -> None:
    # jobs are collected when a context is made; make one after the plugin joined
    async with open_context(ctx.settings, Kernel(ctx.settings, kernel.pm)) as other:
        other.jobs.enqueue("site.count", n=7)
        await asyncio.to_thread(drain_jobs, other.jobs)
    assert site.job_runs == [7]


async def test_hook_route_case(ctx: AppContext, site: Site) -> None:
    city = await seed_city(ctx)
    noisy = await receive(ctx, submission(category="pothole", text="工地夜间施工噪音"))
    plain = await receive(ctx, submission(category="pothole"))
    async with ctx.db.session() as s:
        a, b = await s.get(Case, noisy.case_id), await s.get(Case, plain.case_id)
    assert a is not None and b is not None
    assert a.department_id == city["env"]  # the site rule answered first
    assert a.route_reason == "site: noise words"
    assert b.department_id == city["roads"]  # the built-in rule (trylast) answered
    assert b.route_reason == "category:pothole"


async def test_hook_register_listeners(ctx: AppContext, kernel: Kernel, site: Site) -> None:
    """Listeners run in threads of their own while the workers run, and stop with them."""
    async with open_context(ctx.settings, Kernel(ctx.settings, kernel.pm)) as other:
        assert [s.name for s in other.jobs.listeners if s.name.startswith("site.")] == [
            "site.listen"
        ]
        other.jobs.listeners = [s for s in other.jobs.listeners if s.name == "site.listen"]
        other.jobs.start_listeners()
        for _ in range(100):
            if site.listening:
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(other.jobs.stop_listeners)
    assert site.listening == ["started", "stopped"]


async def test_hook_process_held(ctx: AppContext, site: Site) -> None:
    """Each channel reads its own held messages again; others pass."""
    assert ctx.pm.hook.process_held(ctx=ctx, channel="site", raw=b"again", source="") == "case"
    assert site.retried == [b"again"]
    email = ctx.pm.hook.process_held(ctx=ctx, channel="email", raw=b"no headers", source="")
    assert await email == "held"  # the e-mail channel still cannot read it, and says so
    assert ctx.pm.hook.process_held(ctx=ctx, channel="nobody", raw=b"x", source="") is None


async def test_hook_case_event(ctx: AppContext, site: Site) -> None:
    await seed_city(ctx)
    result = await receive(ctx, submission())
    assert [e.action for e in site.events] == ["received", "routed"]
    assert site.events[0].tracking_number == result.tracking_number
    assert site.committed_when_told == [True, True]
    assert "张三" not in repr(site.events) and "13800138000" not in repr(site.events)


async def test_hook_choose_agent(ctx: AppContext, site: Site) -> None:
    from hotline.core.axd.state import set_state
    from hotline.core.storage.enums import AgentState
    from hotline.core.storage.models.axd import QueueItem
    from hotline.core.storage.models.people import User

    await seed_city(ctx)
    async with ctx.db.transaction() as s:
        novice, expert = (
            User(username="n", display_name="n", role="agent", password_hash="x"),
            User(username="e", display_name="e", role="agent", password_hash="x"),
        )
        s.add_all([novice, expert])
    capacity = {"web_form": 5}
    await set_state(ctx, novice.id, AgentState.AVAILABLE, capacity=capacity, skills={"pothole": 3})
    await set_state(ctx, expert.id, AgentState.AVAILABLE, capacity=capacity, skills={"pothole": 1})
    # the novice has waited longer, so the built-in (longest idle) would choose them
    result = await receive(ctx, submission())  # offered at once, to whom the site's hook says
    async with ctx.db.session() as s:
        item = await s.scalar(select(QueueItem).where(QueueItem.case_id == result.case_id))
    assert item is not None and item.state == "offered" and item.agent_id == expert.id


async def test_a_failing_plugin_does_not_undo_the_case(ctx: AppContext, kernel: Kernel) -> None:
    class Broken:
        @hookimpl
        def case_event(self) -> None:
            raise RuntimeError("plugin bug")

    class BrokenAsync:
        @hookimpl
        async def case_event(self) -> None:
            raise RuntimeError("async plugin bug")

    kernel.pm.register(BrokenAsync())
    kernel.pm.register(Broken())
    site = Site()
    kernel.pm.register(site)
    await seed_city(ctx)
    result = await receive(ctx, submission())
    async with ctx.db.session() as s:
        assert await s.get(Case, result.case_id) is not None
    assert [e.action for e in site.events] == ["received", "routed"]  # the others still heard


async def test_hook_send_reply(ctx: AppContext, site: Site) -> None:
    await seed_city(ctx)
    by_mail = await receive(
        ctx, submission(language="en", contacts=[{"kind": "email", "value": "li.si@example.cn"}])
    )
    by_phone = await receive(ctx, submission(contacts=[{"kind": "phone", "value": "13900139000"}]))
    # intake enqueued acknowledgements; a worker runs them (ack job, then delivery job)
    while await asyncio.to_thread(drain_jobs, ctx.jobs):
        pass
    assert len(site.sent) == 1
    message = site.sent[0]
    assert message.contact_value == "li.si@example.cn"
    assert message.tracking_number == by_mail.tracking_number
    assert message.language == "en" and "tracking number" in message.text
    async with ctx.db.session() as s:
        rows = {
            r.case_id: r
            for r in await s.scalars(
                select(Interaction).where(Interaction.direction == Direction.OUT)
            )
        }
    assert rows[by_mail.case_id].delivery_status == DeliveryStatus.SENT
    assert rows[by_mail.case_id].delivery_detail == f"site-{message.interaction_id}"
    # no SMS channel installed: the case says so instead of pretending
    assert rows[by_phone.case_id].delivery_status == DeliveryStatus.NO_CHANNEL


def _site_manager(monkeypatch: pytest.MonkeyPatch, site: Site) -> None:
    from hotline.core.commands import cli

    def with_site(*args: Any, **kwargs: Any) -> Any:
        pm = build_plugin_manager(entry_points=False)
        pm.register(site, name="site")
        return pm

    monkeypatch.setattr(cli, "build_plugin_manager", with_site)


def test_hook_register_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], site: Site
) -> None:
    from hotline.core.commands import cli

    _site_manager(monkeypatch, site)
    assert cli.main(["site-greet"]) == 0
    assert "hello from the site" in capsys.readouterr().out


def test_hook_check_setup(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    site: Site,
) -> None:
    from hotline.core.commands import cli

    _site_manager(monkeypatch, site)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path))
    assert cli.main(["check"]) == 1
    assert "HOTLINE_SITE_THING: not set up" in capsys.readouterr().out


async def test_hook_transcribe(ctx: AppContext, site: Site) -> None:
    """Recorded speech on an interaction is transcribed by whichever engine knows the language."""
    import io
    import wave

    sound = io.BytesIO()
    with wave.open(sound, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(32000))
    result = await receive(
        ctx,
        submission(
            channel="phone",
            text="",
            category=None,
            attachments=[{"filename": "v.wav", "data": sound.getvalue()}],
            meta={"speech_language": "xx"},
        ),
    )
    await asyncio.to_thread(drain_jobs, ctx.jobs)
    async with ctx.db.session() as s:
        row = await s.get(Interaction, result.interaction_id)
    assert row is not None and row.text == "the bins were not emptied"
    assert row.meta["transcripts"][0]["engine"] == "site"


async def test_hook_send_staff_mail(ctx: AppContext, smtp_sink: Any) -> None:
    """The e-mail channel mails staff with the files attached; without outbound mail set up it
    answers None (nothing sent, the caller keeps the work for later)."""
    files = [("r.csv", "text/csv", b"a,b\n1,2\n"), ("r.pdf", "application/pdf", b"%PDF-1.4")]
    ctx.settings.smtp_url = ""
    answer = ctx.pm.hook.send_staff_mail(
        ctx=ctx, to=["head@city.gov.cn"], subject="Report", text="Attached.", attachments=files
    )
    assert await answer is None and smtp_sink.received == []
    ctx.settings.smtp_url, ctx.settings.mail_address = smtp_sink.url, "hotline@city.gov.cn"
    answer = ctx.pm.hook.send_staff_mail(
        ctx=ctx, to=["head@city.gov.cn"], subject="Report", text="Attached.", attachments=files
    )
    assert (await answer).startswith("<")  # the Message-ID the server took
    [mail] = smtp_sink.received
    assert (mail["To"], mail["Subject"], mail["Auto-Submitted"]) == (
        "head@city.gov.cn",
        "Report",
        "auto-generated",
    )
    got = {p.get_filename(): p.get_content() for p in mail.iter_attachments()}
    assert got == {"r.csv": "a,b\n1,2\n", "r.pdf": b"%PDF-1.4"}
