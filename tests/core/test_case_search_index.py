"""Case search finds Chinese and English words (a 2-character word too) with the same results on
SQLite (FTS5 trigram) and PostgreSQL (pg_trgm), words of 1 or 2 characters through the grams index; a
total past the cap says "more than" and the pages go on; filters combine with the words; the index follows
every change in the same transaction (a rolled-back change is not found); the migration fills it
for cases that were there before; keyset paging walks 1,000 rows to the same total with no
duplicate and no gap."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.core.cases.search import CaseFilters, search_cases
from hotline.core.intake.receive import receive
from hotline.core.shell.context import AppContext
from hotline.core.storage import migrate
from hotline.core.storage.actors import SYSTEM
from hotline.core.storage.models.cases import Case, Interaction
from hotline.core.storage.models.search import CaseText
from hotline.core.storage.paging import Sort, keyset_page
from tests.factories import submission

TEXTS = {
    "lamp": "人民路的路灯坏了，晚上很黑。",
    "noise": "Loud construction NOISE after midnight on Harbour Road.",
    "pothole": "解放路有一个大坑 near the Harbour bridge.",
    "fax": "A streetlamp is broken; 路口的灯不亮。",
}


async def _cases(ctx: AppContext) -> dict[str, str]:
    made = {}
    for name, text in TEXTS.items():
        channel = "fax" if name == "fax" else "web"
        result = await receive(ctx, submission(text=text, channel=channel, subject=name))
        made[name] = result.tracking_number
    sealed = await receive(ctx, submission(kind="director_mailbox", text="路灯 Harbour letter"))
    made["sealed"] = sealed.tracking_number
    return made


async def _found(ctx: AppContext, query: str, filters: CaseFilters | None = None) -> set[str]:
    page = await search_cases(ctx, query, SYSTEM, filters, size=200)
    assert page.total == len(page.rows)
    return {hit.tracking_number for hit in page.rows}


async def test_chinese_and_english_words_found_alike(ctx: AppContext, city: dict[str, int]) -> None:
    n = await _cases(ctx)
    assert await _found(ctx, "路灯") == {n["lamp"]}  # two characters: no trigram, still found
    assert await _found(ctx, "人民路") == {n["lamp"]}
    assert await _found(ctx, "路") == {n["lamp"], n["pothole"], n["fax"]}
    assert await _found(ctx, "harbour") == {n["noise"], n["pothole"]}  # never the sealed letter
    assert await _found(ctx, "NOISE midnight") == {n["noise"]}  # every word must be there
    assert await _found(ctx, "大坑 bridge") == {n["pothole"]}
    assert await _found(ctx, "大坑 midnight") == set()
    assert await _found(ctx, "100%_") == set()  # LIKE's wildcards are only characters
    assert await _found(ctx, 'lamp"') == set()  # FTS5's quotes are only characters
    assert await _found(ctx, "streetlamp") == {n["fax"]}
    assert await _found(ctx, "pothole") == {n["pothole"]}  # the subject counts


async def test_filters_combine_with_words(ctx: AppContext, city: dict[str, int]) -> None:
    n = await _cases(ctx)
    assert await _found(ctx, "路", CaseFilters(channel="fax")) == {n["fax"]}
    assert await _found(ctx, "路", CaseFilters(channel="web")) == {n["lamp"], n["pothole"]}
    assert await _found(ctx, "harbour", CaseFilters(kind="complaint")) == {n["noise"], n["pothole"]}
    assert await _found(ctx, "harbour", CaseFilters(kind="praise")) == set()
    assert await _found(ctx, "harbour", CaseFilters(status="closed")) == set()
    today = datetime.now(ZoneInfo(ctx.settings.timezone)).date()
    assert await _found(ctx, "路灯", CaseFilters(since=today, until=today)) == {n["lamp"]}
    assert await _found(ctx, "路灯", CaseFilters(until=today.replace(year=today.year - 1))) == set()
    assert len(await _found(ctx, "")) == 4  # no words: the filtered list of every case


async def test_the_index_follows_changes_in_their_transaction(
    ctx: AppContext, city: dict[str, int]
) -> None:
    voicemail = await receive(ctx, submission(channel="phone", text="", subject="语音留言"))
    assert await _found(ctx, "井盖") == set()
    async with ctx.db.transaction() as session:  # as the transcription job leaves it
        row = await session.scalar(
            select(Interaction).where(Interaction.case_id == voicemail.case_id)
        )
        assert row is not None
        row.text = "小区门口的井盖丢了"
    assert await _found(ctx, "井盖") == {voicemail.tracking_number}
    with pytest.raises(RuntimeError):
        async with ctx.db.transaction() as session:
            case = await session.get(Case, voicemail.case_id)
            assert case is not None
            case.subject = "manhole cover"
            await session.flush()
            raise RuntimeError("rolled back")
    assert await _found(ctx, "manhole") == set()
    assert await _found(ctx, "语音留言") == {voicemail.tracking_number}


async def test_the_migration_fills_the_index_for_existing_cases(
    ctx: AppContext, city: dict[str, int], db_url: str
) -> None:
    n = await _cases(ctx)
    await ctx.db.dispose()
    import asyncio

    await asyncio.to_thread(migrate.downgrade, db_url, "0015")
    await asyncio.to_thread(migrate.upgrade, db_url)
    assert await _found(ctx, "路灯") == {n["lamp"]}
    assert await _found(ctx, "harbour") == {n["noise"], n["pothole"]}


async def test_keyset_pages_walk_1000_rows_without_duplicate_or_gap(ctx: AppContext) -> None:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    async with ctx.db.transaction() as session:
        session.add_all(
            Case(
                tracking_number=f"T{i:07d}",
                kind="complaint",
                language="zh",
                first_channel="web",
                subject=f"路灯 {i}",
                created_at=at.replace(minute=i % 7),  # many ties: the id breaks them
            )
            for i in range(1000)
        )
    for sort in (Sort(Case.created_at, Case.id), Sort(Case.created_at, Case.id, ascending=True)):
        seen: list[str] = []
        after = None
        pages = 0
        while True:
            async with ctx.db.session() as session:
                page = await keyset_page(
                    session, select(Case.tracking_number), sort, after=after, size=37
                )
            assert page.total == 1000
            seen.extend(page.scalars())
            pages += 1
            if page.after is None:
                break
            after = page.after
        assert pages == 28 and len(seen) == 1000 and len(set(seen)) == 1000
    # the search pages the same way, with its total
    after, found = None, []
    while True:
        result = await search_cases(ctx, "路灯", SYSTEM, after=after, size=300)
        assert result.total == 1000
        found.extend(hit.tracking_number for hit in result.rows)
        if result.after is None:
            break
        after = result.after
    assert len(found) == 1000 == len(set(found))


async def test_a_foreign_or_forged_cursor_gives_the_first_page(ctx: AppContext) -> None:
    from hotline.core.storage.paging import cursor_of

    async with ctx.db.transaction() as session:
        session.add_all(
            Case(tracking_number=f"F{i:07d}", kind="complaint", language="zh", first_channel="web")
            for i in range(3)
        )
    for cursor in ("not-a-cursor", cursor_of("x", "y"), cursor_of(True, 1), "A" * 500):
        async with ctx.db.session() as session:
            page = await keyset_page(
                session, select(Case.tracking_number), Sort(Case.created_at, Case.id), after=cursor
            )
        assert page.first and page.total == 3 and len(page.rows) == 3


async def test_deadline_order_pages_with_cases_without_deadline(ctx: AppContext) -> None:
    """The supervision lists sort by a deadline that may be missing (admin/supervision.py)."""
    from hotline.admin.supervision import by_deadline

    due = datetime(2026, 3, 1, tzinfo=UTC)
    async with ctx.db.transaction() as session:
        session.add_all(
            Case(
                tracking_number=f"D{i:07d}",
                kind="complaint",
                language="zh",
                first_channel="web",
                reply_deadline=None if i % 3 == 0 else due.replace(day=1 + i % 4),
            )
            for i in range(11)
        )
    seen: list[str] = []
    after = None
    while True:
        async with ctx.db.session() as session:
            page = await keyset_page(
                session,
                select(Case.tracking_number),
                Sort(by_deadline(Case.reply_deadline), Case.id, ascending=True),
                after=after,
                size=4,
            )
        seen += page.scalars()
        if page.after is None:
            break
        after = page.after
    assert len(seen) == 11 == len(set(seen))
    assert seen[-4:] == ["D0000000", "D0000003", "D0000006", "D0000009"]  # no deadline: last


async def test_words_of_one_or_two_characters_use_the_grams_index_alike(
    ctx: AppContext, city: dict[str, int]
) -> None:
    """路灯 and 坑 have no trigram: they are found through ``grams`` (every character and pair of
    characters), with the same results as a plain substring search, on both databases."""
    n = await _cases(ctx)
    extra = await receive(ctx, submission(text="Road 坑洼, 灯\n路 Ro", subject="拼接"))
    async with ctx.db.session() as session:
        grams = await session.scalar(
            select(CaseText.grams).where(CaseText.case_id == extra.case_id)
        )
    assert grams is not None and {"坑洼", "ro", "坑", "灯"} <= set(grams.split())
    assert "灯路" not in grams.split()  # never across a line or a space
    assert await _found(ctx, "坑") == {n["pothole"], extra.tracking_number}
    assert await _found(ctx, "坑洼") == {extra.tracking_number}
    assert await _found(ctx, "RO") == {n["noise"], n["fax"], extra.tracking_number}  # broken
    assert await _found(ctx, "灯路") == set()  # 灯 and 路 only on lines of their own
    assert await _found(ctx, "路灯 坑") == set()
    assert await _found(ctx, "灯 streetlamp") == {n["fax"]}
    assert await _found(ctx, "黑", CaseFilters(channel="web")) == {n["lamp"]}
    assert await _found(ctx, "黑", CaseFilters(channel="fax")) == set()
    assert await _found(ctx, "，") == {n["lamp"]}  # punctuation: the plain search
    # what each 1- or 2-character word finds is what a substring search finds
    async with ctx.db.session() as session:
        bodies = dict((await session.execute(select(CaseText.case_id, CaseText.body))).all())
        numbers = dict((await session.execute(select(Case.id, Case.tracking_number))).all())
        sealed = set(await session.scalars(select(Case.id).where(Case.sealed.is_(True))))
    for word in ("路", "路灯", "灯", "Ha", "h", "大坑", "口的", "no", "1", "洼,"):
        expected = {
            numbers[i]
            for i, body in bodies.items()
            if word.lower() in body.lower() and i not in sealed
        }
        assert await _found(ctx, word) == expected, word


async def test_past_the_cap_the_total_says_more_and_the_pages_go_on(
    ctx: AppContext, city: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    import hotline.core.cases.search as search

    monkeypatch.setattr(search, "COUNT_CAP", 4)
    made = {(await receive(ctx, submission(text=f"路灯 {i}"))).tracking_number for i in range(6)}
    walks = []
    for sort in ("newest", "oldest"):
        after, seen = None, []
        while True:
            page = await search_cases(ctx, "路灯", SYSTEM, after=after, size=4, sort=sort)
            assert page.total == 4 and page.capped  # "more than 4"
            seen += [hit.tracking_number for hit in page.rows]
            if page.after is None:
                break
            after = page.after
        assert len(seen) == 6 and set(seen) == made  # nothing cut off
        walks.append(seen)
    assert walks[0] == walks[1][::-1]
    exact = await search_cases(ctx, "路灯 5", SYSTEM)
    assert exact.total == 1 and not exact.capped
