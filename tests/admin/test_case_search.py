"""Finding cases by what was said in them: a voicemail's transcript is found by its words like
any typed message; every word must match; a sealed letter to the director is never found; the
search is audited without the words; people who do not read cases cannot search."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import TestClient
from sqlalchemy import select

from hotline.core.intake.receive import receive
from hotline.core.storage.models.cases import Interaction
from hotline.core.storage.models.people import AuditEntry
from tests.admin.conftest import sign_in
from tests.conftest import seed_city
from tests.factories import submission


def three_cases(client: TestClient[Any]) -> dict[str, str]:
    ctx = client.app.state.ctx

    async def make() -> dict[str, str]:
        await seed_city(ctx)
        voicemail = await receive(ctx, submission(channel="phone", text="", subject="语音留言"))
        async with ctx.db.transaction() as s:  # as the transcription job leaves it
            row = await s.scalar(
                select(Interaction).where(Interaction.case_id == voicemail.case_id)
            )
            assert row is not None
            row.text = "je voudrais signaler un lampadaire cassé dans ma rue 100%_sure"
        typed = await receive(ctx, submission(text="人民路的路灯坏了，晚上很黑。"))
        sealed = await receive(
            ctx,
            submission(kind="director_mailbox", text="关于路灯维修的建议：lampadaire"),
        )
        return {
            "voicemail": voicemail.tracking_number,
            "typed": typed.tracking_number,
            "sealed": sealed.tracking_number,
        }

    return client.blocking_portal.call(make)


def found(client: TestClient[Any], query: str) -> list[str]:
    page = client.get("/console/cases", params={"q": query})
    assert page.status_code == 200
    table = BeautifulSoup(page.text, "html.parser").find(id="found")
    return [a["href"].rsplit("/", 1)[1] for a in table.select("a")] if table else []  # type: ignore[union-attr]


def test_cases_are_found_by_their_words(client: TestClient[Any]) -> None:
    numbers = three_cases(client)
    sign_in(client, "agent1")
    assert found(client, "lampadaire") == [numbers["voicemail"]]  # never the sealed letter
    assert found(client, "LAMPADAIRE cassé") == [numbers["voicemail"]]
    assert found(client, "lampadaire 路灯") == []  # every word must be there
    assert found(client, "路灯") == [numbers["typed"]]
    assert found(client, "语音留言") == [numbers["voicemail"]]  # the subject counts too
    assert found(client, "100%_") == [numbers["voicemail"]]  # % and _ are plain characters
    assert found(client, "_") == [numbers["voicemail"]]
    assert found(client, "%") == [numbers["voicemail"]]
    page = client.get("/console/cases", params={"q": "lampadaire"})
    assert "signaler un lampadaire cassé" in page.text
    assert 'href="/console/cases"' in page.text  # in the console's navigation

    async def searches() -> list[AuditEntry]:
        async with client.app.state.ctx.db.session() as s:
            return list(
                await s.scalars(select(AuditEntry).where(AuditEntry.action == "case_search"))
            )

    logged = client.blocking_portal.call(searches)
    assert len(logged) == 8 + 1
    assert all("lampadaire" not in str(e.detail) for e in logged)
    assert logged[0].detail == {"terms": 1, "found": 1}


def test_only_people_who_read_cases_may_search(client: TestClient[Any]) -> None:
    three_cases(client)
    sign_in(client, "department_officer1")
    assert client.get("/console/cases", params={"q": "路灯"}).status_code == 403


def test_the_cases_list_pages_with_its_total_and_filters(client: TestClient[Any]) -> None:
    ctx = client.app.state.ctx

    async def make() -> list[str]:
        await seed_city(ctx)
        made = []
        for i in range(55):
            channel = "sms" if i % 5 == 0 else "web"
            sub = submission(text=f"路灯不亮 第{i}盏", channel=channel)
            made.append((await receive(ctx, sub)).tracking_number)
        return made

    made = client.blocking_portal.call(make)
    sign_in(client, "agent1")
    seen: list[str] = []
    params: dict[str, str] = {"q": "路灯", "size": "20"}
    for _ in range(5):
        page = client.get("/console/cases", params=params)
        soup = BeautifulSoup(page.text, "html.parser")
        assert soup.select_one(".pager .total")["data-total"] == "55"  # type: ignore[index]
        seen += [a["href"].rsplit("/", 1)[1] for a in soup.select("#found a")]  # type: ignore[union-attr]
        following = soup.select_one(".pager a.next")
        if following is None:
            break
        params = {"q": "路灯", "size": "20", "after": following["href"].split("after=")[1]}  # type: ignore[union-attr]
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen)) == 55
    sms = BeautifulSoup(
        client.get("/console/cases", params={"q": "路灯", "channel": "sms"}).text, "html.parser"
    )
    assert sms.select_one(".pager .total")["data-total"] == "11"  # type: ignore[index]
    assert len(sms.select("#found a")) == 11


def test_past_the_cap_the_list_says_more_than_in_both_languages(
    client: TestClient[Any], monkeypatch: Any
) -> None:
    import hotline.core.cases.search as search

    monkeypatch.setattr(search, "COUNT_CAP", 3)
    ctx = client.app.state.ctx

    async def make() -> None:
        await seed_city(ctx)
        for i in range(5):
            await receive(ctx, submission(text=f"路灯不亮 第{i}盏"))

    client.blocking_portal.call(make)
    sign_in(client, "agent1")
    for lang, words in (("en", "More than 3 found"), ("zh_CN", "找到超过 3 条")):
        page = client.get("/console/cases", params={"q": "路灯", "size": "2", "lang": lang})
        total = BeautifulSoup(page.text, "html.parser").select_one(".pager .total")
        assert total is not None and words in total.text, total
        assert total["data-more"] == "1"
    exact = client.get("/console/cases", params={"q": "第4盏", "lang": "en"})
    assert "1 in all" in exact.text and "More than" not in exact.text
