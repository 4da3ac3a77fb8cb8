"""The hotline's mailboxes on a real Dovecot, answers through a real SMTP server: messages become
cases once, across restarts and lost cursors; replies join their case; automatic mail makes no
case; a bounce marks the answer failed; unreadable mail waits for a person; answers wait for
a stopped SMTP server and go out once it returns. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aioimaplib
import pytest
from sqlalchemy import delete, func, select

from hotline.channels.email.listener import Mailbox, read_mailbox, watch
from hotline.channels.email.outbound import message_id
from hotline.core.cases.replies import deliver, queue_reply
from hotline.core.foundation.settings import Settings
from hotline.core.intake.receive import receive
from hotline.core.shell.context import AppContext, Kernel, open_context
from hotline.core.storage.enums import DeliveryStatus, Direction
from hotline.core.storage.models.cases import Case, CaseEvent, ContactPoint, Interaction
from hotline.core.storage.models.intake import HeldMessage, MailCursor
from tests.channels.email.conftest import OUR_ADDRESS, append, public
from tests.factories import submission
from tests.mailservers import Dovecot, SmtpSink

FIXTURES = Path(__file__).resolve().parents[3] / "channels" / "email" / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def unseen(ctx: AppContext) -> int:
    box = public(ctx)
    imap = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=10)
    await imap.wait_hello_from_server()
    await imap.login(box.username, box.password)
    await imap.select(box.folder)
    found = await imap.search("UNSEEN", charset=None)
    await imap.logout()
    return len(bytes(found.lines[0]).split())


async def count(ctx: AppContext, model: type, *where: object) -> int:
    async with ctx.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def answered_by_mail(ctx: AppContext, text: str = "您好，已处理。") -> tuple[Case, int, str]:
    """A case from fixture 01 read from the mailbox, and an answer queued to its citizen:
    (the case, the answer's outbox row, the Message-ID the answer goes out with)."""
    await append(ctx, fixture("01_plain_zh.eml"))
    await read_mailbox(ctx, public(ctx))
    async with ctx.db.transaction() as s:
        case = await s.scalar(select(Case))
        contact = await s.scalar(select(ContactPoint).where(ContactPoint.kind == "email"))
        assert case is not None and contact is not None
        answer = await queue_reply(s, case, contact, text, "Answer")
    ours = message_id(ctx.secret_key, case.tracking_number, answer.id, "hotline.example.cn")
    return case, answer.id, ours


async def test_each_message_becomes_one_case_across_restarts(
    mail_ctx: AppContext, city: dict[str, int]
) -> None:
    ctx = mail_ctx
    await append(ctx, fixture("01_plain_zh.eml"), fixture("05_gbk_subject.eml"))
    first = await read_mailbox(ctx, public(ctx))
    assert (first.fetched, first.outcomes) == (2, {"case": 2})
    assert await unseen(ctx) == 0  # flagged only after the cases were stored

    again = await read_mailbox(ctx, public(ctx))  # a restart reads from the cursor
    assert again.fetched == 0
    await append(ctx, fixture("13_pdf_attachment.eml"))
    assert (await read_mailbox(ctx, public(ctx))).outcomes == {"case": 1}

    async with ctx.db.transaction() as s:  # the cursor is lost: everything is read again
        await s.execute(delete(MailCursor))
    lost = await read_mailbox(ctx, public(ctx))
    assert (lost.fetched, lost.outcomes) == (3, {"duplicate": 3})
    assert await count(ctx, Case) == 3

    async with ctx.db.session() as s:
        subjects = sorted(await s.scalars(select(Case.subject)))
        sender = await s.scalar(select(ContactPoint.value).where(ContactPoint.kind == "email"))
    assert subjects == ["Complaint letter", "投诉：下水道堵塞", "路灯不亮"]
    assert sender in ("zhangsan@example.cn", "jane@example.org")


async def test_automatic_mail_bounces_and_unreadable_mail(
    mail_ctx: AppContext, city: dict[str, int]
) -> None:
    ctx = mail_ctx
    case, answer_id, ours = await answered_by_mail(ctx)
    bounce = fixture("18_bounce_dsn.eml").replace(
        b"<hotline.2612.42.abcdef@hotline.example.cn>", ours.encode()
    )
    forged = fixture("19_bounce_plain.eml")  # names a Message-ID whose signature is wrong
    await append(
        ctx,
        fixture("15_auto_submitted.eml"),
        fixture("21_read_receipt.eml"),
        fixture("32_loop_from_ourselves.eml"),
        bounce,
        forged,
        fixture("28_no_sender.eml"),
    )
    result = await read_mailbox(ctx, public(ctx))
    assert result.outcomes == {"ignored": 3, "bounce": 2, "held": 1}
    assert await count(ctx, Case) == 1  # none of them made a case
    async with ctx.db.session() as s:
        row = await s.get(Interaction, answer_id)
        held = await s.scalar(select(HeldMessage))
        events = list(await s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case.id)))
    assert row is not None and row.delivery_status == DeliveryStatus.FAILED
    assert "550 5.1.1" in (row.delivery_detail or "") and "reply_bounced" in events
    assert held is not None and "no sender" in held.reason and held.source == "public"
    assert ctx.files.get(held.sha256) == fixture("28_no_sender.eml")  # kept whole


async def test_replies_join_their_case_and_strangers_do_not(
    mail_ctx: AppContext, city: dict[str, int]
) -> None:
    ctx = mail_ctx
    case, _answer_id, ours = await answered_by_mail(ctx)
    number = case.tracking_number
    reply = fixture("22_reply_to_hotline.eml").replace(
        b"<hotline.2612.42.abcdef@hotline.example.cn>", ours.encode()
    )
    spaced = " ".join(number[i : i + 4] for i in range(0, 13, 4))

    def more(sender: str, mid: str) -> bytes:  # the subject carries the case's number
        return (
            f"From: {sender}\r\nTo: {OUR_ADDRESS}\r\nSubject: More photos {spaced}\r\n"
            f"Message-ID: <{mid}@example.net>\r\n\r\nOne more thing about my case.\r\n"
        ).encode()

    own_number = more("Zhang San <zhangsan@example.cn>", "own")
    stranger = more("Someone <someone@example.net>", "stranger")
    await append(ctx, reply, own_number, stranger)
    result = await read_mailbox(ctx, public(ctx))
    assert result.outcomes == {"added": 2, "case": 1}
    assert (
        await count(
            ctx, Interaction, Interaction.case_id == case.id, Interaction.direction == Direction.IN
        )
        == 3
    )
    async with ctx.db.session() as s:
        other = await s.scalar(select(Case).where(Case.id != case.id))
        mention = await s.scalar(
            select(Interaction.meta).where(Interaction.case_id == other.id)  # type: ignore[union-attr]
        )
    assert other is not None and mention["mentions"] == [number]


async def test_the_directors_mailbox_makes_sealed_letters(
    settings: Settings,
    dovecot: Dovecot,
    city: dict[str, int],
) -> None:
    account = dovecot.add_user()
    configured = settings.model_copy(update={"imap_director_url": dovecot.url(*account)})
    async with open_context(configured, Kernel(configured)) as ctx:
        box = Mailbox.from_url("director", configured.imap_director_url)
        imap = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=10)
        await imap.wait_hello_from_server()
        await imap.login(box.username, box.password)
        await imap.append(fixture("33_director.eml"), mailbox="INBOX")
        await imap.logout()
        assert (await read_mailbox(ctx, box)).outcomes == {"case": 1}
        async with ctx.db.session() as s:
            letter = await s.scalar(select(Case))
        assert letter is not None and letter.sealed and letter.kind == "director_mailbox"


async def test_answers_wait_for_the_smtp_server_and_go_out_once(
    mail_ctx: AppContext,
    smtp_sink: SmtpSink,
    city: dict[str, int],
) -> None:
    ctx = mail_ctx
    case, answer_id, ours = await answered_by_mail(ctx, "您好，路灯已修复。")
    async with ctx.db.session() as s:
        citizen_id = await s.scalar(
            select(Interaction.external_id).where(Interaction.direction == Direction.IN)
        )
    smtp_sink.stop()
    with pytest.raises(OSError):
        await deliver(ctx, answer_id)
    async with ctx.db.session() as s:
        waiting = await s.get(Interaction, answer_id)
    assert waiting is not None and waiting.delivery_status == DeliveryStatus.PENDING
    smtp_sink.start()
    assert await deliver(ctx, answer_id) == "sent"
    assert await deliver(ctx, answer_id) == "not pending"  # a second run sends nothing
    [sent] = smtp_sink.received
    assert sent["To"] == "zhangsan@example.cn" and OUR_ADDRESS in sent["From"]
    assert case.tracking_number in sent["Subject"].replace(" ", "")
    assert citizen_id is not None and citizen_id.endswith(" <7906312732964086746@example.cn>")
    assert sent["In-Reply-To"] == "<7906312732964086746@example.cn>"
    assert sent["X-Hotline-Case"] == case.tracking_number
    assert sent.get_content().strip() == "您好，路灯已修复。"
    assert sent["Message-ID"] == ours


async def test_idle_hears_new_mail_at_once(mail_ctx: AppContext) -> None:
    """IMAP IDLE: the server's push of new mail starts a read without waiting for the minute."""
    ctx = mail_ctx
    heard = asyncio.Event()

    async def on_new() -> None:
        heard.set()

    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(public(ctx), on_new, stop))
    await asyncio.sleep(1.0)  # the watcher is idling now
    assert not heard.is_set()
    await append(ctx, fixture("01_plain_zh.eml"))
    await asyncio.wait_for(heard.wait(), 10)
    stop.set()
    await asyncio.wait_for(watcher, 15)


async def test_a_citizen_known_by_another_channel_is_matched_as_intake_stores_them(
    mail_ctx: AppContext, city: dict[str, int]
) -> None:
    """The portal kept the address's local part as typed; a mail from it joins the case."""
    ctx = mail_ctx
    first = await receive(
        ctx, submission(contacts=[{"kind": "email", "value": "Li.Si@Example.cn"}])
    )
    spaced = " ".join(first.tracking_number[i : i + 4] for i in range(0, 13, 4))
    raw = (
        f"From: Li Si <Li.Si@example.cn>\r\nTo: {OUR_ADDRESS}\r\nSubject: Photos {spaced}\r\n"
        "Message-ID: <lisi-1@example.cn>\r\n\r\nTwo more photos.\r\n"
    ).encode()
    await append(ctx, raw)
    assert (await read_mailbox(ctx, public(ctx))).outcomes == {"added": 1}


async def test_a_message_the_server_does_not_return_is_asked_for_again(
    mail_ctx: AppContext, city: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SEARCH lists a message that FETCH does not give (a server fault): the cursor stays
    before it, the next pass reads it; nothing is skipped for good."""
    from hotline.channels.email import listener

    ctx = mail_ctx
    await append(ctx, fixture("01_plain_zh.eml"), fixture("05_gbk_subject.eml"))
    real = listener._messages

    def drops_the_first(lines: list[bytes | bytearray | str]) -> list[tuple[int, bytes]]:
        return real(lines)[1:]

    monkeypatch.setattr(listener, "_messages", drops_the_first)
    first = await read_mailbox(ctx, public(ctx))
    assert first.outcomes == {"case": 1, "not_returned": 1}
    monkeypatch.setattr(listener, "_messages", real)
    again = await read_mailbox(ctx, public(ctx))
    assert again.outcomes == {"case": 1, "duplicate": 1}  # the one read before is traced
    assert await count(ctx, Case) == 2
