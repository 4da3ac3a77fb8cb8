"""The menu editor knows the step that puts a caller in a queue: the administrator chooses the
queue among the site's skill groups (named in the reader's language), sets how often a waiting
caller hears their place in line, and a queue that does not exist, or a queue step without
one, is refused beside the step, in the reader's language, with nothing written. And on the
agent's screen: a call offered to the agent is gone from it once the caller hangs up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient

from hotline.channels.phone.menu import MenuFile
from hotline.core.storage.models.axd import SkillGroup
from tests.admin.conftest import client, sign_in  # noqa: F401
from tests.channels.phone.test_ivr_menu_console import _form, _step_index


def _queues(client: TestClient[Any]) -> None:  # noqa: F811
    async def add() -> None:
        async with client.app.state.ctx.db.transaction() as s:
            s.add(SkillGroup(code="general", name_zh="综合咨询", name_en="General enquiries"))
            s.add(SkillGroup(code="water", name_zh="供水", name_en="Water supply"))

    client.blocking_portal.call(add)


def test_a_step_puts_the_caller_in_a_queue(client: TestClient[Any]) -> None:  # noqa: F811
    data_dir: Path = client.app.state.ctx.settings.data_dir
    _queues(client)
    sign_in(client, "administrator1")
    page = client.get("/console/settings/phone?lang=zh_CN")
    soup = BeautifulSoup(page.text, "html.parser")
    agent = _step_index(_form(page.text, "steps"), "agent")
    options = [o.get_text() for o in soup.select(f"#node-{agent}-action option")]
    assert "排队等候话务员" in options  # the new action, in the reader's language
    queues = [o.get_text() for o in soup.select(f"#node-{agent}-queue option")]
    assert queues == ["—", "综合咨询", "供水"]
    assert soup.select_one("label[for=menu-announce_seconds]") is not None

    values = _form(page.text, "steps")
    values[f"node-{agent}-action"] = "queue"
    values[f"node-{agent}-queue"] = "water"
    values["announce_seconds"] = "30"
    assert values["announce_recording"] == "true"  # callers are told, unless a site says not
    values["announce_recording"] = "false"
    saved = client.post("/console/settings/phone/steps?lang=en", data=values)
    assert saved.status_code == 200 and 'id="saved"' in saved.text
    menu = MenuFile(data_dir).current()
    assert (menu.nodes["agent"].action, menu.nodes["agent"].queue) == ("queue", "water")
    assert menu.announce_seconds == 30 and menu.announce_recording is False
    assert "Waits in the queue Water supply" in saved.text  # the preview names it

    before = (data_dir / "phone-menu.toml").read_text(encoding="utf-8")
    values = _form(saved.text, "steps")
    values[f"node-{agent}-queue"] = ""
    refused = client.post("/console/settings/phone/steps?lang=en", data=values)
    assert refused.status_code == 422
    beside = BeautifulSoup(refused.text, "html.parser").select_one("#problems-agent")
    assert beside is not None and "needs the queue it waits in" in beside.get_text()
    values[f"node-{agent}-queue"] = "gone"  # a queue removed meanwhile (or typed by hand)
    refused = client.post("/console/settings/phone/steps?lang=zh_CN", data=values)
    beside = BeautifulSoup(refused.text, "html.parser").select_one("#problems-agent")
    assert refused.status_code == 422 and beside is not None
    assert "gone" in beside.get_text() and "没有" in beside.get_text()
    assert (data_dir / "phone-menu.toml").read_text(encoding="utf-8") == before


def test_a_caller_hanging_up_takes_the_offer_off_the_agents_screen(
    client: TestClient[Any],  # noqa: F811
) -> None:
    from sqlalchemy import select

    from hotline.channels.phone.desk import KernelDesk
    from hotline.channels.phone.ivr import Caller
    from hotline.core.axd.state import set_state
    from hotline.core.storage.enums import AgentState
    from hotline.core.storage.models.people import User

    ctx = client.app.state.ctx
    caller = Caller("c1", "+8613800138000", "12345", "zh_CN", ("main", "agent"))

    async def offered() -> tuple[int, str]:
        async with ctx.db.session() as s:
            agent = await s.scalar(select(User.id).where(User.username == "agent1"))
        await set_state(
            ctx, agent, AgentState.AVAILABLE, capacity={"voice": 1}, skills={}, languages=["zh_CN"]
        )
        item_id, _ = await KernelDesk(ctx).enqueue(caller, "general")
        place = await KernelDesk(ctx).place(item_id)
        assert place is not None and place.state == "offered"
        return item_id, f"/console/queue/{item_id}/accept"

    item_id, accept = client.blocking_portal.call(offered)
    sign_in(client, "agent1")
    assert accept in client.get("/console/queue").text  # the agent is offered the call

    async def hang_up() -> None:
        assert await KernelDesk(ctx).leave(item_id, "abandoned", caller) is not None

    client.blocking_portal.call(hang_up)
    screen = client.get("/console/queue").text
    assert accept not in screen  # withdrawn: no longer on the agent's screen
    assert "Nothing offered to you right now." in screen
