"""Every combination of charset x header encoding x structure (tests/channels/email/matrix.py)
reads exactly right: by the parser, and through a real Dovecot and the IMAP reader into cases
(SQLite and PostgreSQL) with the exact subject, the sender's name, the text and the files."""

from __future__ import annotations

from sqlalchemy import select

from hotline.channels.email.inbound import Limits, parse_mail, to_submission
from hotline.channels.email.listener import read_mailbox
from hotline.core.shell.context import AppContext
from hotline.core.storage.models.cases import Attachment, Case, Citizen, Interaction
from tests.channels.email.conftest import append, public
from tests.channels.email.matrix import CHARSETS, made

LIMITS = Limits(max_bytes=1024 * 1024, max_files=10)


def test_the_matrix_covers_every_charset_header_style_and_structure() -> None:
    names = [m.name for m in made()]
    assert len(names) == len(set(names)) >= 120
    for label, *_ in CHARSETS:
        for style in ("B", "Q", "raw"):
            for structure in ("plain", "alternative", "forwarded", "image"):
                assert any(n.startswith(f"{label}/{style}/{structure}/") for n in names)


def test_the_parser_reads_every_combination_exactly() -> None:
    wrong = []
    for m in made():
        mail = parse_mail(m.raw)
        files = tuple(
            a.filename
            for a in to_submission(mail, m.raw, purpose="public", limits=LIMITS).attachments
        )
        got = (mail.subject, mail.from_name, m.text in mail.text, files)
        if got != (m.subject, m.from_name, True, m.files):
            wrong.append((m.name, got))
    assert wrong == []


async def test_every_combination_through_dovecot_into_cases(
    mail_ctx: AppContext, city: dict[str, int]
) -> None:
    ctx = mail_ctx
    messages = made()
    await append(ctx, *(m.raw for m in messages))
    result = await read_mailbox(ctx, public(ctx))
    assert result.outcomes == {"case": len(messages)}
    wrong = []
    async with ctx.db.session() as s:
        rows = list(await s.scalars(select(Interaction).where(Interaction.channel == "email")))
        by_id = {row.meta["message_id"]: row for row in rows}
        for m in messages:
            row = by_id[m.message_id]
            case = await s.get(Case, row.case_id)
            citizen = await s.get(Citizen, case.citizen_id) if case else None
            files = tuple(
                await s.scalars(
                    select(Attachment.filename).where(Attachment.interaction_id == row.id)
                )
            )
            got = (
                case.subject if case else None,
                citizen.name if citizen else None,
                m.text in row.text,
                files,
                row.raw_sha256 is not None,
            )
            if got != (m.subject, m.from_name, True, m.files, True):
                wrong.append((m.name, got))
    assert wrong == []
