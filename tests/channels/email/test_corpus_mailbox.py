"""The whole corpus and every fixture through a real Dovecot and the IMAP reader, on SQLite and
PostgreSQL: every message is kept exactly once (a case, a held item, or a trace staff can see
with its reason), Chinese subjects, names and bodies come out exactly right, the raw bytes are
kept with the case; reading the whole mailbox again makes no case and loses nothing."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import delete, select

from hotline.channels.email.inbound import content_digest
from hotline.channels.email.listener import read_mailbox
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.cases import Attachment, Case, Citizen, Interaction
from hotline.core.storage.models.intake import HeldMessage, MailCursor, MessageTrace
from tests.channels.email.conftest import append, public

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
FIXTURES = HERE.parents[2] / "channels" / "email" / "fixtures"
EXPECTED: dict[str, dict[str, object]] = json.loads((CORPUS / "expected.json").read_text())


def key(raw: bytes) -> str:
    """A message's content digest as the mailbox gives it back (IMAP cannot carry NUL bytes:
    Dovecot sends 0x80 in their place)."""
    return content_digest(raw.replace(b"\x00", b"\x80"))


def everything() -> dict[str, bytes]:
    found = {f"corpus/{p.name}": p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))}
    found |= {f"fixtures/{p.name}": p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))}
    return found


async def where_kept(ctx: AppContext) -> dict[str, list[tuple[str, object]]]:
    """Each stored message's content digest -> where it is: ("case", interaction) for a
    citizen's message, ("held", row), or (the trace's reason, row)."""
    places: dict[str, list[tuple[str, object]]] = {}
    async with ctx.db.session() as s:
        rows: list[tuple[str, object, str]] = []
        for row in await s.scalars(select(Interaction).where(Interaction.channel == "email")):
            assert row.raw_sha256 is not None  # the raw bytes are kept with the case
            rows.append(("case", row, row.raw_sha256))
        rows += [("held", h, h.sha256) for h in await s.scalars(select(HeldMessage))]
        rows += [(t.reason, t, t.sha256) for t in await s.scalars(select(MessageTrace))]
    for kind, row, sha in rows:
        places.setdefault(key(ctx.files.get(sha)), []).append((kind, row))
    return places


async def test_every_message_is_kept_exactly_once_and_read_right(
    mail_ctx: AppContext, city: dict[str, int]
) -> None:
    ctx = mail_ctx
    messages = everything()
    assert len(messages) >= 75
    await append(ctx, *messages.values())
    first = await read_mailbox(ctx, public(ctx))
    assert first.fetched == len(messages)
    want = Counter(str(w["outcome"]) for w in EXPECTED.values())
    for kind in ("case", "ignored", "bounce", "held", "duplicate"):
        assert first.outcomes.get(kind, 0) >= want[kind], (kind, first.outcomes)

    places = await where_kept(ctx)
    # every message is somewhere, and a message's bytes are in one place only (the
    # re-delivered copy is the one message that is also a duplicate trace)
    for name, raw in messages.items():
        assert key(raw) in places, f"{name} was lost"
    for where in places.values():
        assert len([k for k, _ in where if k != "duplicate"]) == 1, where

    async with ctx.db.session() as s:
        for name, want_one in EXPECTED.items():
            where = places[key(messages[f"corpus/{name}"])]
            kinds = sorted(k for k, _ in where)
            outcome = want_one["outcome"]
            if outcome == "case":  # (s14_a is also the re-delivered copy's duplicate trace)
                assert [k for k in kinds if k != "duplicate"] == ["case"], (name, kinds)
                interaction = next(r for k, r in where if k == "case")
                assert isinstance(interaction, Interaction)
                case = await s.get(Case, interaction.case_id)
                assert case is not None and case.subject == want_one["subject"], name
                pieces = want_one.get("imap_text_has", want_one.get("text_has", []))
                for piece in pieces:  # type: ignore[attr-defined]
                    assert piece in interaction.text, (name, piece)
                if "from_name" in want_one:
                    citizen = await s.get(Citizen, case.citizen_id)
                    assert citizen is not None and citizen.name == want_one["from_name"], name
                if "files" in want_one:
                    files = await s.scalars(
                        select(Attachment.filename)
                        .where(Attachment.interaction_id == interaction.id)
                        .order_by(Attachment.id)
                    )
                    assert list(files) == want_one["files"], name
            elif outcome == "held":
                assert kinds == ["held"], (name, kinds)
                held = where[0][1]
                assert isinstance(held, HeldMessage) and str(want_one["reason"]) in held.reason
            elif outcome == "duplicate":
                assert kinds == ["case", "duplicate"], (name, kinds)
                trace = next(r for k, r in where if k == "duplicate")
                assert isinstance(trace, MessageTrace) and trace.case_id is not None
                assert "same message as case" in trace.detail
            else:  # ignored or bounce: a trace with the reason and the header that shows it
                assert kinds == [want_one["reason"]], (name, kinds)
                trace = where[0][1]
                assert isinstance(trace, MessageTrace) and trace.detail and trace.sender

    cases = await count_cases(ctx)
    async with ctx.db.transaction() as s:  # the cursor is lost: the whole mailbox again
        await s.execute(delete(MailCursor))
    again = await read_mailbox(ctx, public(ctx))
    assert again.fetched == len(messages)
    assert set(again.outcomes) <= {"duplicate", "ignored", "bounce", "held"}, again.outcomes
    assert await count_cases(ctx) == cases  # nothing doubled
    after = await where_kept(ctx)
    assert set(after) == set(places)  # nothing lost, nothing new
    async with ctx.db.session() as s:
        ignored = list(
            await s.scalars(select(MessageTrace).where(MessageTrace.reason != "duplicate"))
        )
    assert ignored and all(t.times == 2 for t in ignored)  # seen again: counted, not doubled


async def count_cases(ctx: AppContext) -> int:
    async with ctx.db.session() as s:
        return len(list(await s.scalars(select(Case.id))))
