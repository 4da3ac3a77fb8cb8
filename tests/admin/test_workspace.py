"""The case workspace: the citizen's whole history on one screen; every opening audited;
director's-mailbox cases only for the director's office."""

from __future__ import annotations

import re
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.intake.receive import receive
from hotline.core.storage.models.axd import AgentPresence, QueueItem
from hotline.core.storage.models.cases import Case, CaseEvent, Interaction
from hotline.core.storage.models.people import User
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission


def cases(client: TestClient[Any]) -> tuple[str, str, str]:
    ctx = client.app.state.ctx

    async def make() -> tuple[str, str, str]:
        await seed_city(ctx)
        earlier = await receive(
            ctx, submission(channel="phone", text="上个月路灯坏了", citizen_name="周杰")
        )
        now = await receive(
            ctx,
            submission(
                channel="email",
                text="路上有坑",
                contacts=[
                    {"kind": "phone", "value": "138 0013 8000"},
                    {"kind": "email", "value": "zj@example.cn"},
                ],
            ),
        )
        sealed = await receive(
            ctx, submission(kind="director_mailbox", category=None, text="给局长的信")
        )
        return earlier.tracking_number, now.tracking_number, sealed.tracking_number

    return client.blocking_portal.call(make)


def test_screen_pop_shows_the_citizen_and_history_and_is_audited(client: TestClient[Any]) -> None:
    earlier, now, _sealed = cases(client)
    sign_in(client, "agent1")
    page = client.get(f"/console/cases/{now}")
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.find(id="citizen-name").get_text(strip=True) == "周杰"
    assert {li.get_text(strip=True) for li in soup.select("#contacts li")} == {
        "Phone: +8613800138000",
        "E-mail: zj@example.cn",
    }
    assert earlier in soup.find(id="history").get_text().replace(" ", "")
    assert "路上有坑" in soup.find(id="interactions").get_text()

    async def audit() -> list[tuple[str, int | None, str | None]]:
        async with client.app.state.ctx.db.session() as s:
            agent = await s.scalar(select(User.id).where(User.username == "agent1"))
            rows = await s.execute(
                select(CaseEvent.action, CaseEvent.actor_id, CaseEvent.address)
                .join(Case, Case.id == CaseEvent.case_id)
                .where(Case.tracking_number == now, CaseEvent.action == "personal_data_read")
            )
            return [(a, i, addr) for a, i, addr in rows], agent

    rows, agent = client.blocking_portal.call(audit)
    assert len(rows) == 1 and rows[0][1] == agent and rows[0][2]


def test_who_may_open_what(client: TestClient[Any]) -> None:
    _earlier, now, sealed = cases(client)
    sign_in(client, "agent1")
    # a letter is not a case page: answered like a number that does not exist
    assert client.get(f"/console/cases/{sealed}").status_code == 404
    client.cookies.clear()
    expected = {
        "agent1": (200, 403),
        "team_leader1": (200, 403),
        "supervisor1": (200, 403),
        "director_office1": (403, 200),
        "department_officer1": (403, 403),
        "department_head1": (403, 403),
        "administrator1": (403, 403),
    }
    for user, (ordinary, letter) in expected.items():
        client.cookies.clear()
        sign_in(client, user)
        got = (
            client.get(f"/console/cases/{now}").status_code,
            client.get(f"/console/mailbox/{sealed}").status_code,
        )
        assert got == (ordinary, letter), user


def test_an_agent_classifies_the_case(client: TestClient[Any]) -> None:
    _earlier, now, _sealed = cases(client)
    sign_in(client, "agent1")
    page = client.get(f"/console/cases/{now}")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    done = client.post(
        f"/console/cases/{now}/classify", data={"_csrf_token": token, "category": "noise"}
    )
    assert done.status_code == 200
    assert 'value="noise" selected' in done.text
    client.cookies.clear()
    sign_in(client, "supervisor1")  # reads cases, does not edit them
    page = client.get(f"/console/cases/{now}")
    assert "/classify" not in page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console").text).group(1)
    assert (
        client.post(
            f"/console/cases/{now}/classify", data={"_csrf_token": token, "category": "other"}
        ).status_code
        == 403
    )


def test_supervisors_search_the_audit_trail(client: TestClient[Any]) -> None:
    _earlier, now, _sealed = cases(client)
    sign_in(client, "agent1")
    client.get(f"/console/cases/{now}")
    assert client.get("/console/audit").status_code == 403  # agents do not search the audit
    client.cookies.clear()
    sign_in(client, "supervisor1")
    found = BeautifulSoup(client.get(f"/console/audit?case={now}&user=agent1").text, "html.parser")
    rows = [
        [td.get_text(strip=True) for td in tr.find_all("td")]
        for tr in found.select("#audit tbody tr")
    ]
    assert len(rows) == 1 and rows[0][1] == "agent1" and rows[0][3] == "Personal data read"
    none = BeautifulSoup(
        client.get("/console/audit?user=agent1&from=2001-01-01&to=2001-01-02").text, "html.parser"
    )
    assert none.select("#audit tbody tr") == []


def test_the_console_can_be_closed_to_other_networks(client: TestClient[Any]) -> None:
    client.app.state.ctx.settings.console_networks = ["10.20.0.0/16"]
    assert client.get("/console/login").status_code == 403
    assert client.get("/").status_code == 200  # the portal stays open to everyone


def _item_of(client: TestClient[Any], number: str) -> int:
    async def find() -> int:
        async with client.app.state.ctx.db.session() as s:
            return int(
                await s.scalar(
                    select(QueueItem.id)
                    .join(Case, Case.id == QueueItem.case_id)
                    .where(Case.tracking_number == number)
                )
            )

    return client.blocking_portal.call(find)


def test_an_agent_answers_on_the_spot_and_the_case_closes(client: TestClient[Any]) -> None:
    _earlier, now, _sealed = cases(client)
    sign_in(client, "agent1")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', client.get("/console/queue").text)[1]
    client.post("/console/state", data={"_csrf_token": csrf, "state": "available"})
    picked = client.post(f"/console/queue/{_item_of(client, now)}/pick", data={"_csrf_token": csrf})
    assert picked.status_code == 200
    page = BeautifulSoup(client.get(f"/console/cases/{now}").text, "html.parser")
    # the citizen's earlier messages on other channels are on the same screen
    assert "上个月路灯坏了" in page.find(id="earlier").get_text()
    saved = client.post(
        f"/console/cases/{now}/classify",
        data={
            "_csrf_token": csrf,
            "category": "pothole",
            "kind": "consultation",
            "summary": "市民询问坑洼修补进度",
        },
    )
    assert (
        "市民询问坑洼修补进度"
        in BeautifulSoup(saved.text, "html.parser").find(id="summary-text").get_text()
    )
    answered = client.post(
        f"/console/cases/{now}/answer",
        data={"_csrf_token": csrf, "answer": "已安排本周内修补。"},
        follow_redirects=False,
    )
    assert answered.status_code == 303 and answered.headers["location"].startswith("/console/queue")

    async def after() -> tuple[Case, list[Interaction], QueueItem, AgentPresence]:
        async with client.app.state.ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == now))
            out = list(
                await s.scalars(
                    select(Interaction).where(
                        Interaction.case_id == case.id, Interaction.direction == "out"
                    )
                )
            )
            item = await s.scalar(select(QueueItem).where(QueueItem.case_id == case.id))
            agent = await s.scalar(select(User.id).where(User.username == "agent1"))
            return case, out, item, await s.get(AgentPresence, agent)

    case, out, item, presence = client.blocking_portal.call(after)
    assert case.status == "closed" and case.kind == "consultation"
    answer = [i for i in out if i.meta.get("purpose") == "answer"]
    assert len(answer) == 1 and answer[0].text == "已安排本周内修补。"
    assert answer[0].channel == "email"  # the channel of the citizen's latest message
    assert item.state == "done" and item.done_at is not None
    assert presence.state == "wrap_up"  # after-contact work before the next offer
    queue = client.get("/console/queue").text
    assert 'id="wrap-up"' in queue
    # the closed case has no answer form any more
    assert "/answer" not in client.get(f"/console/cases/{now}").text


def test_hand_over_needs_a_classification(client: TestClient[Any]) -> None:
    _earlier, now, _sealed = cases(client)

    async def unclassified() -> str:
        ctx = client.app.state.ctx
        return (await receive(ctx, submission(category=None, text="不知道归谁管"))).tracking_number

    other = client.blocking_portal.call(unclassified)
    sign_in(client, "agent1")
    page = client.get("/console/queue?lang=en").text
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page)[1]
    refused = client.post(f"/console/cases/{other}/hand-over", data={"_csrf_token": csrf})
    assert "Classify the case before handing it over" in refused.text
    handed = client.post(
        f"/console/cases/{now}/hand-over", data={"_csrf_token": csrf}, follow_redirects=False
    )
    assert handed.status_code == 303

    async def events() -> tuple[str, list[str]]:
        async with client.app.state.ctx.db.session() as s:
            case = await s.scalar(select(Case).where(Case.tracking_number == now))
            rows = await s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id))
            return case.status, list(rows)

    status, actions = client.blocking_portal.call(events)
    assert status == "received" and "handed_over" in actions  # open, waiting for dispatch


def test_a_voicemail_plays_in_the_case_page_with_range_requests(client: TestClient[Any]) -> None:
    """HTML5 audio asks for byte ranges; one opening is audited, not every range."""
    import io
    import wave

    sound = io.BytesIO()
    with wave.open(sound, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x10\x00\xf0\xff" * 8000)
    ctx = client.app.state.ctx

    async def arrive() -> str:
        await seed_city(ctx)
        sub = submission(
            channel="phone",
            text="",
            category=None,
            attachments=[{"filename": "voicemail.wav", "data": sound.getvalue()}],
        )
        return (await receive(ctx, sub)).tracking_number

    number = client.blocking_portal.call(arrive)

    async def transcribed() -> None:  # as the transcription job leaves it
        async with ctx.db.transaction() as s:
            row = await s.scalar(select(Interaction).order_by(Interaction.id.desc()))
            words = [["人民路", 0.0, 0.6, 0.97], ["路灯", 0.6, 1.0, 0.91], ["坏", 1.0, 1.2, 0.31]]
            row.meta = {**row.meta, "transcripts": [{"engine": "vosk", "words": words}]}

    client.blocking_portal.call(transcribed)
    sign_in(client, "agent1")
    page = BeautifulSoup(client.get(f"/console/cases/{number}").text, "html.parser")
    transcript = page.find(class_="transcript")
    assert transcript is not None and "人民路 路灯" in transcript.text
    assert [m.text for m in transcript.find_all("mark")] == ["坏"]  # the word it was unsure of
    audio = page.find("audio")
    assert audio is not None and audio["preload"] == "none"
    url = audio["src"]
    head = client.get(url, headers={"Range": "bytes=0-99"})
    assert head.status_code == 206 and len(head.content) == 100
    assert head.headers["content-range"] == f"bytes 0-99/{len(sound.getvalue())}"
    tail = client.get(url, headers={"Range": "bytes=1000-"})
    assert tail.status_code == 206 and tail.content == sound.getvalue()[1000:]
    assert client.get(url, headers={"Range": "bytes=99999999-"}).status_code == 416
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"

    async def reads() -> int:
        async with ctx.db.session() as s:
            events = await s.scalars(
                select(CaseEvent.action).where(CaseEvent.action == "personal_data_read")
            )
            return sum(1 for _ in events)

    assert client.blocking_portal.call(reads) >= 2  # the page and the two openings from 0
    before = client.blocking_portal.call(reads)
    client.get(url, headers={"Range": "bytes=5000-5999"})  # a seek: the same listening
    assert client.blocking_portal.call(reads) == before


def test_the_citizens_answers_to_the_services_questions_are_on_the_case(
    client: TestClient[Any],
) -> None:
    ctx = client.app.state.ctx

    async def make() -> str:
        from hotline.core.storage.models.reference import ServiceCategory

        await seed_city(ctx)
        async with ctx.db.transaction() as s:
            service = await s.scalar(
                select(ServiceCategory).where(ServiceCategory.code == "pothole")
            )
            service.attributes = [
                {
                    "code": "size",
                    "datatype": "singlevaluelist",
                    "description_zh": "坑有多大？",
                    "description_en": "How big is the hole?",
                    "values": [
                        {"key": "small", "name_zh": "小于一米", "name_en": "Under a metre"},
                        {"key": "big", "name_zh": "一米以上", "name_en": "Over a metre"},
                    ],
                },
                {"code": "since", "datatype": "string", "description_en": "Since when?"},
            ]
        made = await receive(
            ctx, submission(text="路上有坑", meta={"attributes": {"size": "big", "since": "周一"}})
        )
        return made.tracking_number

    number = client.blocking_portal.call(make)
    sign_in(client, "agent1")
    for lang, size in (
        ("zh_CN", ("坑有多大？", "一米以上")),
        ("en", ("How big is the hole?", "Over a metre")),
    ):
        soup = BeautifulSoup(client.get(f"/console/cases/{number}?lang={lang}").text, "html.parser")
        rows = dict(
            zip(
                [dt.get_text() for dt in soup.select("#answers dt")],
                [dd.get_text() for dd in soup.select("#answers dd")],
                strict=True,
            )
        )
        assert rows[size[0]] == size[1]  # the choice by its name, not its key
        assert rows["Since when?"] == "周一"  # a question without this language's words
