"""Exactly once, on SQLite and PostgreSQL: a reused Message-ID with other content is a new
case; the same message again (re-delivered with other relay headers, or taken before this
version, when the bare Message-ID was the intake id) is a duplicate that leaves a trace; the
same copy a third time is counted on its trace, not listed twice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.channels.email.process import process_message
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import ContactIn, Submission
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.cases import Case
from hotline.core.storage.models.intake import HeldMessage, MessageTrace


def mail(mid: str, body: str, relay: str = "") -> bytes:
    return (
        f"{relay}From: Zhang San <zhangsan@example.cn>\r\nTo: 12345@hotline.example.cn\r\n"
        f"Subject: 路灯\r\nDate: Tue, 01 Dec 2026 09:30:00 +0800\r\nMessage-ID: {mid}\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


async def traces(ctx: AppContext) -> list[tuple[str, int, int | None]]:
    async with ctx.db.session() as s:
        rows = await s.scalars(select(MessageTrace).order_by(MessageTrace.id))
        return [(t.reason, t.times, t.case_id) for t in rows]


async def test_a_reused_message_id_is_a_new_case_a_copy_is_a_traced_duplicate(
    ctx: AppContext, city: dict[str, int]
) -> None:
    first = await process_message(
        ctx, mail("<tpl@client.example>", "东门路灯坏了。"), purpose="public"
    )
    other = await process_message(
        ctx, mail("<tpl@client.example>", "西门井盖丢了。"), purpose="public"
    )
    assert (first.kind, other.kind) == ("case", "case") and first.case_id != other.case_id
    relayed = mail("<tpl@client.example>", "东门路灯坏了。", relay="Received: from relay2\r\n")
    copy = await process_message(ctx, relayed, purpose="public")
    assert (copy.kind, copy.case_id) == ("duplicate", first.case_id)
    assert (await process_message(ctx, relayed, purpose="public")).kind == "duplicate"
    assert await traces(ctx) == [("duplicate", 2, first.case_id)]
    # the same message in the director's mailbox is a letter of its own (sealed), not a copy
    letter = await process_message(ctx, relayed, purpose="director")
    assert letter.kind == "case" and letter.case_id not in (first.case_id, other.case_id)


async def test_a_message_taken_before_the_digest_is_still_known(
    ctx: AppContext, city: dict[str, int]
) -> None:
    raw = mail("<old@client.example>", "去年的来信。")
    earlier = await receive(  # as the channel stored it before: the bare Message-ID
        ctx,
        Submission(
            channel="email",
            external_id="<old@client.example>",
            text="去年的来信。",
            contacts=[ContactIn(kind="email", value="zhangsan@example.cn")],
            raw=raw,
        ),
    )
    again = await process_message(ctx, raw, purpose="public")
    assert (again.kind, again.case_id) == ("duplicate", earlier.case_id)
    reused = await process_message(
        ctx, mail("<old@client.example>", "新的内容。"), purpose="public"
    )
    assert reused.kind == "case"
    async with ctx.db.session() as s:
        assert len(list(await s.scalars(select(Case.id)))) == 2


async def test_ignored_mail_made_a_case_of_is_a_duplicate_when_read_again(
    ctx: AppContext, city: dict[str, int]
) -> None:
    raw = mail("<bulk@client.example>", "我补充一下：积水在地铁站B口。").replace(
        b"Subject:", b"Precedence: bulk\r\nSubject:"
    )
    assert (await process_message(ctx, raw, purpose="public")).kind == "ignored"
    made = await process_message(ctx, raw, purpose="public", by_person={"made_by": "agent1"})
    assert made.kind == "case"
    again = await process_message(ctx, raw, purpose="public")  # a lost cursor reads it again
    assert (again.kind, again.case_id) == ("duplicate", made.case_id)
    assert [reason for reason, _, _ in await traces(ctx)] == ["bulk", "duplicate"]


async def test_a_parser_fault_holds_the_message_and_the_mailbox_goes_on(
    ctx: AppContext, city: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message that makes the parser itself fail (a bug of ours) is held with the reason,
    never left to stop every message behind it."""
    import hotline.channels.email.process as process

    def broken(raw: bytes) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(process, "parse_mail", broken)
    raw = mail("<poison@client.example>", "任何内容")
    outcome = await process_message(ctx, raw, purpose="public")
    assert outcome.kind == "held" and "KeyError" in outcome.reason
    async with ctx.db.session() as s:
        held = await s.scalar(select(HeldMessage))
    assert held is not None and ctx.files.get(held.sha256) == raw
