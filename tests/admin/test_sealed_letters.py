"""Letters to the director never leave the director's office: for every other role, no queue,
offer, page, count, link, notice, audit screen or public API shows a letter, its content, its
writer, or even that its number is a letter (a letter's number is answered like a number that
does not exist)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from hotline.core.axd import selection as axd_selection
from hotline.core.axd import state as axd_state
from hotline.core.intake.receive import receive
from hotline.core.storage.enums import AgentState, Media, QueueState, Role
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Attachment, Case, Citizen, Interaction
from hotline.core.storage.models.people import User
from hotline.core.storage.models.workflow import Notice
from tests.admin.conftest import sign_in
from tests.admin.test_role_matrix import console_endpoints
from tests.conftest import seed_city
from tests.factories import PNG, submission

NOT_OFFICE = [r for r in Role if r != Role.DIRECTOR_OFFICE]
SECRET = "举报某局长受贿一百万"
UNKNOWN = "2099010100001"  # a well-formed number no case has


def _run(client: TestClient[Any], coro: Any) -> Any:
    return client.blocking_portal.call(lambda: coro)


def letters(client: TestClient[Any]) -> dict[str, Any]:
    """A citizen with an ordinary case and a letter (by the portal, with a photo), another known
    only by a letter that came by web chat, and a waiting queue item planted on a letter as
    intake made them before (so every read of the queue must leave it out)."""
    ctx = client.app.state.ctx

    async def make() -> dict[str, Any]:
        await seed_city(ctx)
        ordinary = await receive(ctx, submission())
        letter = await receive(
            ctx,
            submission(
                kind="director_mailbox",
                category=None,
                text=SECRET,
                attachments=[
                    {"filename": "evidence.png", "content_type": "image/png", "data": PNG}
                ],
            ),
        )
        chat = await receive(
            ctx,
            submission(
                channel="webchat",
                kind="director_mailbox",
                category=None,
                media=Media.CHAT,
                text=SECRET + "（网上聊天）",
                contacts=[
                    {"kind": "webchat", "value": "tok-sealed-1"},
                    {"kind": "phone", "value": "139 0000 1111"},
                ],
                citizen_name="李四",
            ),
        )
        async with ctx.db.transaction() as s:
            chat_case = await s.scalar(
                select(Case).where(Case.tracking_number == chat.tracking_number)
            )
            planted = QueueItem(case_id=chat_case.id, media=Media.CHAT, language="zh_CN", skills=[])
            s.add(planted)
            await s.flush()
            attachment = await s.scalar(
                select(Attachment.id)
                .join(Interaction, Interaction.id == Attachment.interaction_id)
                .where(Interaction.case_id == letter.case_id)
            )
            writer_only = chat_case.citizen_id
            citizen = await s.scalar(select(Case.citizen_id).where(Case.id == ordinary.case_id))
        return {
            "ordinary": ordinary.tracking_number,
            "letter": letter.tracking_number,
            "chat": chat.tracking_number,
            "planted": planted.id,
            "attachment": attachment,
            "writer_only": writer_only,
            "citizen": citizen,
        }

    return client.blocking_portal.call(make)


def test_intake_puts_no_letter_in_the_agents_queue(client: TestClient[Any]) -> None:
    made = letters(client)
    ctx = client.app.state.ctx

    async def queued() -> dict[str, int]:
        async with ctx.db.session() as s:
            rows = await s.execute(
                select(Case.tracking_number, func.count(QueueItem.id))
                .outerjoin(QueueItem, QueueItem.case_id == Case.id)
                .group_by(Case.tracking_number)
            )
            return {number: n for number, n in rows}

    counts = client.blocking_portal.call(queued)
    assert counts[made["ordinary"]] == 1 and counts[made["letter"]] == 0
    assert counts[made["chat"]] == 1  # only the planted one


def test_a_letter_item_is_never_offered_picked_or_counted(client: TestClient[Any]) -> None:
    """Even a queue item on a letter (made before this release, or by a plugin) is left out of
    every read: offers, sweeps, picking, the queue and team screens."""
    made = letters(client)
    ctx = client.app.state.ctx

    async def agents_on_shift() -> None:
        async with ctx.db.session() as s:
            ids = list(
                await s.scalars(select(User.id).where(User.role.in_(["agent", "team_leader"])))
            )
        for user_id in ids:
            await axd_state.set_state(
                ctx, user_id, AgentState.AVAILABLE, capacity={"chat": 3, "web_form": 5}
            )

    client.blocking_portal.call(agents_on_shift)
    assert made["planted"] not in client.blocking_portal.call(
        lambda: ctx.db.run(axd_selection.offerable, write=False)
    )
    assert client.blocking_portal.call(lambda: axd_state.offer(ctx, made["planted"])) is None
    agent = client.blocking_portal.call(lambda: _user_id(ctx, "agent1"))
    assert (
        client.blocking_portal.call(lambda: axd_state.accept(ctx, made["planted"], agent)) is False
    )
    sign_in(client, "agent1")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)[1]
    picked = client.post(f"/console/queue/{made['planted']}/pick", data={"_csrf_token": token})
    assert picked.status_code == 409
    assert made["chat"] not in client.get("/console/queue").text.replace(" ", "")

    async def item_state() -> str:
        async with ctx.db.session() as s:
            return str(
                await s.scalar(select(QueueItem.state).where(QueueItem.id == made["planted"]))
            )

    assert client.blocking_portal.call(item_state) == QueueState.WAITING


async def _user_id(ctx: Any, name: str) -> int:
    async with ctx.db.session() as s:
        return int(await s.scalar(select(User.id).where(User.username == name)))


def _pages(client: TestClient[Any], made: dict[str, Any]) -> dict[str, str]:
    """Every console page a role may GET, with the letter's number or ids where a page takes
    one, plus the public APIs."""
    values = {
        "number": made["letter"],
        "citizen_id": str(made["writer_only"]),
        "attachment_id": str(made["attachment"]),
        "user_id": "1",
        "item_id": str(made["planted"]),
        "held_id": "1",
    }
    pages = {}
    for method, path, _permission in console_endpoints(client):
        if method != "GET" or path in ("/console/stream",) or path.endswith("/stream"):
            continue
        names = re.findall(r"\{(\w+):\w+\}", path)
        if any(n not in values for n in names):
            continue
        pages[path] = re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)
    pages["chat"] = f"/console/chat/{made['chat']}"
    pages["ordinary"] = f"/console/cases/{made['ordinary']}"
    pages["citizen"] = f"/console/citizens/{made['citizen']}"
    pages["search-number"] = f"/console/citizens?q={made['letter']}"
    pages["search-phone"] = "/console/citizens?q=13900001111"
    pages["case-search"] = "/console/cases?q=受贿"
    pages["audit"] = f"/console/audit?case={made['letter']}"
    return pages


def _seen(text: str, made: dict[str, Any]) -> list[str]:
    """What of the letters a page shows (a search form echoing what was typed does not count)."""
    text = re.sub(r'value="[^"]*"', "", text)
    flat = re.sub(r"[\s-]", "", text)
    found = [made[k] for k in ("letter", "chat") if made[k] in flat]
    return found + [w for w in ("受贿", "李四", "13900001111", "evidence.png") if w in flat]


@pytest.mark.parametrize("role", NOT_OFFICE)
def test_no_page_shows_a_letter_outside_the_office(client: TestClient[Any], role: Role) -> None:
    made = letters(client)
    assert sign_in(client, f"{role.value}1").status_code == 303
    for name, url in _pages(client, made).items():
        response = client.get(url)
        assert not _seen(response.text, made), (role, name, url, _seen(response.text, made))
    # pages that take a number answer a letter's number as they answer an unknown one
    for path in ("/console/cases/{}", "/console/chat/{}", "/console/department/cases/{}"):
        letter = client.get(path.format(made["letter"])).status_code
        unknown = client.get(path.format(UNKNOWN)).status_code
        assert letter == unknown or {letter, unknown} <= {403}, (role, path, letter, unknown)
        assert letter in (403, 404)
    file_status = client.get(f"/console/files/{made['attachment']}").status_code
    assert (
        file_status in (403, 404) and file_status == client.get("/console/files/999999").status_code
    )


@pytest.mark.parametrize("role", NOT_OFFICE)
def test_no_notice_names_a_letter_outside_the_office(client: TestClient[Any], role: Role) -> None:
    made = letters(client)
    ctx = client.app.state.ctx

    async def office_notices() -> list[str | None]:
        async with ctx.db.session() as s:
            return list(await s.scalars(select(Notice.role)))

    assert set(client.blocking_portal.call(office_notices)) == {"director_office"}
    sign_in(client, f"{role.value}1")
    assert not _seen(client.get("/console/notices").text, made)


def test_the_office_is_told_and_reads_its_letters(client: TestClient[Any]) -> None:
    made = letters(client)
    sign_in(client, "director_office1")
    notices = client.get("/console/notices").text.replace(" ", "")
    assert made["letter"] in notices and f"/console/mailbox/{made['letter']}" in notices
    mailbox = client.get("/console/mailbox").text.replace(" ", "")
    assert made["letter"] in mailbox and made["chat"] in mailbox
    assert "受贿" in client.get(f"/console/mailbox/{made['letter']}").text


def test_linking_to_a_letter_reads_like_an_unknown_number(client: TestClient[Any]) -> None:
    made = letters(client)
    sign_in(client, "agent1")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)[1]
    said = {}
    for target in (made["letter"], UNKNOWN):
        for step, field in (("link", "other"), ("merge", "into")):
            response = client.get(
                client.post(
                    f"/console/cases/{made['ordinary']}/workflow/{step}",
                    data={"_csrf_token": token, field: target},
                    follow_redirects=False,
                ).headers["location"]
            )
            # the agent's work list beside the case says how long things wait: not compared
            page = re.sub(r'<div id="worklist".*?</aside>', "", response.text, flags=re.S)
            said[(target, step)] = page.replace(target, "N").replace(" ", "")
            assert "director" not in response.text.lower() and "信箱" not in response.text
    assert said[(made["letter"], "link")] == said[(UNKNOWN, "link")]
    assert said[(made["letter"], "merge")] == said[(UNKNOWN, "merge")]


def test_citizen_records_do_not_count_or_show_letters(client: TestClient[Any]) -> None:
    made = letters(client)
    sign_in(client, "team_leader1")
    found = client.get("/console/citizens?q=13800138000")
    assert found.status_code == 200
    table = found.text.split('<table id="found">')[1].split("</table>")[0]
    cells = re.findall(r"<td>(.*?)</td>", table, re.S)
    assert cells[-1].strip() == "1"  # the ordinary case; the letter is not counted
    record = client.get(f"/console/citizens/{made['citizen']}")
    assert made["ordinary"] in record.text.replace(" ", "")
    assert made["letter"] not in record.text.replace(" ", "")
    unknown = client.get("/console/citizens/999999").status_code
    assert client.get(f"/console/citizens/{made['writer_only']}").status_code == unknown


def test_public_apis_answer_a_letter_like_an_unknown_number(client: TestClient[Any]) -> None:
    made = letters(client)
    for url in ("/api/v1/cases/{}/status", "/open311/v2/requests/{}.json"):
        letter = client.get(url.format(made["letter"]))
        unknown = client.get(url.format(UNKNOWN))
        assert letter.status_code == unknown.status_code == 404, url
        assert SECRET not in letter.text
    assert client.get(f"/api/v1/cases/{made['ordinary']}/status").status_code == 200


def test_counts_leave_letters_out(client: TestClient[Any]) -> None:
    made = letters(client)
    ctx = client.app.state.ctx

    async def citizen() -> Citizen:
        async with ctx.db.session() as s:
            return await s.get(Citizen, made["citizen"])

    person = client.blocking_portal.call(citizen)

    async def priority() -> bool:
        return await ctx.db.run(
            lambda s: axd_selection.is_priority_citizen(s, s.get(Citizen, person.id), _now(), 2),
            write=False,
        )

    # two cases in 30 days would make a repeat contact; one of them is a letter
    assert client.blocking_portal.call(priority) is False


def _now() -> Any:
    from hotline.core.storage.models.base import utcnow

    return utcnow()


def test_an_unreadable_letter_is_held_for_the_office_alone(client: TestClient[Any]) -> None:
    """What the director's mailbox could not read is a letter all the same."""
    from hotline.core.intake.held import hold_message

    ctx = client.app.state.ctx
    raw = "Subject: 举报\r\n\r\n举报某局长受贿一百万".encode()

    async def hold() -> tuple[int, int]:
        await seed_city(ctx)
        letter = await hold_message(ctx, "email", raw, "unreadable: bad MIME", source="director")
        public = await hold_message(
            ctx, "email", b"Subject: x\r\n\r\nhello", "unreadable", source="public"
        )
        return letter, public

    letter, public = client.blocking_portal.call(hold)
    for role in ("agent1", "team_leader1"):
        client.cookies.clear()
        sign_in(client, role)
        listed = client.get("/console/held").text
        assert f"/console/held/{public}" in listed and f"/console/held/{letter}" not in listed
        assert client.get(f"/console/held/{letter}").status_code == 404
        assert client.get("/console/held/999999").status_code == 404
        assert "受贿" not in client.get(f"/console/held/{letter}").text
        token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)[1]
        dismissed = client.post(f"/console/held/{letter}/dismiss", data={"_csrf_token": token})
        assert dismissed.status_code == 404
        assert client.get("/console/office/held").status_code == 403
    client.cookies.clear()
    sign_in(client, "director_office1")
    assert f"/console/office/held/{letter}" in client.get("/console/office/held").text
    assert "受贿" in client.get(f"/console/office/held/{letter}").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text)[1]
    made = client.post(
        f"/console/office/held/{letter}/case",
        data={"_csrf_token": token, "text": "举报某局长受贿", "kind": "complaint"},
        follow_redirects=False,
    )
    assert made.headers["location"].startswith("/console/mailbox/")
    number = made.headers["location"].rsplit("/", 1)[1]

    async def sealed() -> bool:
        async with ctx.db.session() as s:
            return bool(await s.scalar(select(Case.sealed).where(Case.tracking_number == number)))

    assert client.blocking_portal.call(sealed) is True
