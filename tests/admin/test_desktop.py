"""The agent desktop: the work list beside the case, the citizen's own words first, the citizen
pane, the state bar; reply templates written by administrators and offered on the case in the
citizen's language; the queue's skill filter and pages."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select, update

from hotline.core.intake.receive import receive
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.reference import ReplyTemplate, ServiceCategory
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def soup(client: TestClient[Any], path: str) -> BeautifulSoup:
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    return BeautifulSoup(page.text, "html.parser")


def take_a_case(client: TestClient[Any], seed: bool = True, **fields: Any) -> str:
    """A case arrives and the signed-in agent takes it from the queue; its tracking number."""
    ctx = client.app.state.ctx

    async def arrive() -> tuple[str, int]:
        if seed:
            await seed_city(ctx)
        made = await receive(ctx, submission(**fields))
        async with ctx.db.session() as s:
            item = await s.scalar(select(QueueItem.id).where(QueueItem.case_id == made.case_id))
        return made.tracking_number, int(item or 0)

    number, item = client.blocking_portal.call(arrive)
    screen = client.get("/console/queue").text
    client.post("/console/state", data={"_csrf_token": csrf_of(screen), "state": "available"})
    taken = client.post(f"/console/queue/{item}/pick", data={"_csrf_token": csrf_of(screen)})
    assert taken.status_code == 200
    return number


def test_the_case_opens_between_the_work_list_and_the_citizen(client: TestClient[Any]) -> None:
    sign_in(client, "agent1")
    words = "小区门口的井盖丢了，晚上看不见，已经有人踩空。"
    number = take_a_case(client, channel="email", text=words, citizen_name="周杰")
    page = soup(client, f"/console/cases/{number}")
    work, main, side = (
        page.select_one(".desk-list"),
        page.select_one(".desk-main"),
        page.select_one(".desk-citizen"),
    )
    assert work and main and side
    # the work list marks the case on screen and says what is in progress, per medium
    current = work.select_one("#mine a[aria-current=page]")
    assert current is not None and current["href"] == f"/console/cases/{number}"
    assert "E-mail 1" in " ".join(work.select_one("#in-progress").get_text().split())
    assert work.select_one("#my-state").get_text() == "Available"
    assert work.select_one("#time-in-state").get_text().startswith("For ")
    # the citizen's own words come first, before the timeline
    assert main.select_one("#first-words").get_text() == words
    text = str(main)
    assert text.index('id="first-words"') < text.index('id="interactions"')
    # the citizen beside the case: name and contacts, not in the middle pane
    assert side.select_one("#citizen-name").get_text() == "周杰"
    assert "+8613800138000" in side.select_one("#contacts").get_text()
    assert main.select_one("#citizen-name") is None


def test_the_work_list_refreshes_alone(client: TestClient[Any]) -> None:
    sign_in(client, "agent1")
    number = take_a_case(client)
    pane = client.get(f"/console/queue/worklist?current={number}")
    assert pane.status_code == 200 and "<html" not in pane.text
    found = BeautifulSoup(pane.text, "html.parser")
    assert found.select_one("#worklist")["data-current"] == number
    assert found.select_one("#mine a[aria-current=page]")["href"] == f"/console/cases/{number}"
    sign_in(client, "department_officer1")
    assert client.get("/console/queue/worklist").status_code == 403


def _add_template(client: TestClient[Any], **fields: str) -> Any:
    screen = client.get("/console/settings/replies").text
    return client.post(
        "/console/settings/replies",
        data={"_csrf_token": csrf_of(screen), **fields},
        follow_redirects=False,
    )


def test_administrators_write_reply_templates_and_agents_start_from_them(
    client: TestClient[Any],
) -> None:
    ctx = client.app.state.ctx
    client.blocking_portal.call(seed_city, ctx)

    async def service_ids() -> dict[str, int]:
        async with ctx.db.session() as s:
            return {c.code: c.id for c in await s.scalars(select(ServiceCategory))}

    ids = client.blocking_portal.call(service_ids)
    sign_in(client, "administrator1")
    # an incomplete template comes back with what was typed and what is missing
    refused = _add_template(client, title_en="Pothole fixed", body_zh="", body_en="")
    assert refused.status_code == 422
    form = BeautifulSoup(refused.text, "html.parser")
    assert form.select_one("#t-title_en")["value"] == "Pothole fixed"
    assert "Write its text" in form.select_one("#template-errors").get_text()
    saved = _add_template(
        client,
        title_zh="坑已修补",
        title_en="Pothole fixed",
        body_zh="{name}您好，编号 {number} 的{service}问题已修补。",
        body_en="Hello {name}, the {service} of case {number} is fixed.",
        category=str(ids["pothole"]),
    )
    assert saved.status_code == 303
    _add_template(client, title_en="Noise", body_en="About the noise", category=str(ids["noise"]))
    listed = soup(client, "/console/settings/replies").select_one("#templates").get_text()
    assert "Pothole fixed" in listed and "Noise" in listed

    sign_in(client, "agent1")
    assert client.get("/console/settings/replies").status_code == 403
    number = take_a_case(client, seed=False, category="pothole", citizen_name="张三")
    page = soup(client, f"/console/cases/{number}")
    options = {o.get_text(): o for o in page.select("#template option[value]") if o["value"]}
    assert "Pothole fixed" in options and "Noise" not in options  # only the case's service
    spaced = " ".join(number[i : i + 4] for i in range(0, 13, 4))
    # the citizen wrote in Chinese: the template's Chinese text, filled in from the case
    body = options["Pothole fixed"]["data-body"]
    assert body.startswith("张三您好") and spaced in body and "{" not in body
    # without JavaScript, "use this template" puts the same text in the answer box
    chosen = soup(client, f"/console/cases/{number}?template={options['Pothole fixed']['value']}")
    assert chosen.select_one("#answer").get_text() == body

    async def stored() -> list[ReplyTemplate]:
        async with ctx.db.session() as s:
            return list(await s.scalars(select(ReplyTemplate)))

    assert len(client.blocking_portal.call(stored)) == 2


def test_the_queue_filters_by_skill_and_pages_through_every_contact(
    client: TestClient[Any],
) -> None:
    ctx = client.app.state.ctx

    async def many() -> None:
        await seed_city(ctx)
        for n in range(120):
            made = await receive(ctx, submission(text=f"第{n}号反映：路灯不亮"))
            async with ctx.db.transaction() as s:
                await s.execute(
                    update(QueueItem)
                    .where(QueueItem.case_id == made.case_id)
                    .values(skills=["lights"] if n % 3 == 0 else ["roads"])
                )

    client.blocking_portal.call(many)
    sign_in(client, "agent1")
    seen: list[str] = []
    for page_number in (1, 2, 3):
        page = soup(client, f"/console/queue?page={page_number}")
        seen += [a["action"] for a in page.select("#triage-table form[action$='/pick']")]
        assert page.select_one("#waiting-total").get_text() == "120"
    assert len(seen) == 120 and len(set(seen)) == 120  # every contact once, none left out
    assert soup(client, "/console/queue?page=3").select_one("a[rel=next]") is None
    lights = soup(client, "/console/queue?skill=lights")
    assert lights.select_one("#waiting-total").get_text() == "40"
    assert lights.select_one("#f-skill option[selected]")["value"] == "lights"
