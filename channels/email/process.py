"""One raw message -> what the hotline does with it: a new case, an addition to its case, a
bounce noted on the answer that failed, ignored (auto-replies, bulk and list mail, reports,
our own mail coming back), or held for a person (unreadable, or refused by intake). Never
dropped, never twice: what is ignored, and every second copy of a message already taken,
leaves a trace staff can see (``core.intake.traces``), with the reason.

Threading: a reply is appended to its case when In-Reply-To or References name a message the
hotline sent (our signed Message-ID), or when the subject carries a tracking number of a case
whose citizen has this sender's address. A number in the subject from anyone else starts a new
case that mentions it (nobody adds to a stranger's case by typing its number).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio
from sqlalchemy import select

from hotline.channels.fax import receive_fax
from hotline.channels.fax.convert import FaxUnreadable
from hotline.channels.fax.inbound import FAX_TYPES, sender_number
from hotline.core.cases.contacts import InvalidContact, normalise
from hotline.core.cases.lookup import is_citizens_contact
from hotline.core.cases.replies import mark_bounced
from hotline.core.intake.held import hold_message
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import IntakeRefused
from hotline.core.intake.traces import DUPLICATE, Trace, record_trace
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind
from hotline.core.storage.files import sniff
from hotline.core.storage.models.cases import Case, Interaction

from .inbound import (
    Limits,
    MailParseError,
    ParsedMail,
    content_digest,
    external_id,
    parse_mail,
    to_submission,
)
from .outbound import read_message_id

log = logging.getLogger("hotline.channels.email")
CHANNEL = "email"


@dataclass(frozen=True)
class Outcome:
    kind: str  # case | added | duplicate | bounce | ignored | held
    case_id: int | None = None
    tracking_number: str | None = None
    reason: str = ""  # why it was ignored or held


async def _sender_owns(ctx: AppContext, number: str, address: str) -> bool:
    """Is ``address`` a contact point of the case's citizen (stored as intake stores it)?"""
    try:
        address = normalise(ContactKind.EMAIL, address)
    except InvalidContact:
        return False
    return await is_citizens_contact(ctx.db, number, ContactKind.EMAIL, address)


async def thread_of(ctx: AppContext, mail: ParsedMail) -> str | None:
    """The tracking number of the case this message continues, if it may be added to it."""
    for reference in [*mail.in_reply_to, *reversed(mail.references)]:
        ours = read_message_id(ctx.secret_key, reference)
        if ours is not None:
            return ours[0]
    for number in mail.tracking_numbers():
        if await _sender_owns(ctx, number, mail.from_address):
            return number
    return None


def _limits(ctx: AppContext) -> Limits:
    settings = ctx.settings
    return Limits(settings.max_attachment_bytes, settings.max_attachments, settings.max_text_chars)


async def _trace(
    ctx: AppContext,
    mail: ParsedMail,
    raw: bytes,
    purpose: str,
    reason: str,
    detail: str,
    case_id: int | None = None,
) -> None:
    trace = Trace(
        channel=CHANNEL,
        source=purpose,
        reason=reason,
        detail=detail,
        sender=mail.from_address,
        subject=mail.subject,
        message_id=mail.message_id,
        case_id=case_id,
    )
    await record_trace(ctx, trace, raw)


async def _fax(ctx: AppContext, mail: ParsedMail, raw: bytes) -> Outcome:
    """A fax gateway's mail: each TIFF or PDF in it is a fax of its own (OCR in a thread)."""
    images = [f for f in mail.files if sniff(f.data) in FAX_TYPES]
    if not images:
        reason = "fax mailbox: no fax image in it"
        await hold_message(ctx, CHANNEL, raw, reason, source="fax")
        return Outcome("held", reason=reason)
    sender = sender_number(mail.subject, mail.text)
    outcome = Outcome("held", reason="fax not read")
    for index, image in enumerate(images):
        try:
            result = await receive_fax(
                ctx,
                image.data,
                filename=image.filename,
                sender=sender,
                external_id=f"{external_id(mail, 'fax')[:240]}#{index}",
            )
        except (FaxUnreadable, IntakeRefused) as exc:
            await hold_message(ctx, CHANNEL, raw, f"fax not read: {exc}", source="fax")
            continue
        if result.duplicate:
            detail = f"same fax as case {result.tracking_number}"
            await _trace(ctx, mail, raw, "fax", DUPLICATE, detail, result.case_id)
        kind = "duplicate" if result.duplicate else "case"
        outcome = Outcome(kind, result.case_id, result.tracking_number)
    return outcome


async def _taken_before(ctx: AppContext, mail: ParsedMail, purpose: str) -> tuple[int, str] | None:
    """(case id, tracking number) when this very message is a case already: by its intake id
    (Message-ID and content digest), or, for one taken before the id carried the digest (the
    bare Message-ID then), by the same content read from the raw message kept with it."""
    legacy = mail.message_id or ""
    async with ctx.db.session() as session:
        rows = (
            await session.execute(
                select(
                    Interaction.external_id, Interaction.raw_sha256, Case.id, Case.tracking_number
                )
                .join(Case, Case.id == Interaction.case_id)
                .where(
                    Interaction.channel == CHANNEL,
                    Interaction.external_id.in_([external_id(mail, purpose), legacy]),
                )
            )
        ).all()
    for known, raw_sha256, case_id, number in rows:
        if known != legacy:
            return case_id, number
        try:
            kept = await anyio.to_thread.run_sync(ctx.files.get, raw_sha256) if raw_sha256 else b""
        except OSError:
            continue
        if kept and content_digest(kept) == mail.digest:
            return case_id, number
    return None


async def _duplicate(
    ctx: AppContext, mail: ParsedMail, raw: bytes, purpose: str, case_id: int, number: str
) -> Outcome:
    await _trace(ctx, mail, raw, purpose, DUPLICATE, f"same message as case {number}", case_id)
    return Outcome("duplicate", case_id, number, reason=DUPLICATE)


async def process_message(
    ctx: AppContext,
    raw: bytes,
    *,
    purpose: str,
    by_person: dict[str, object] | None = None,
) -> Outcome:
    """What becomes of one message. ``by_person``: a person made a case of it by hand (from
    the traces list): it is taken as a citizen's writing whatever its headers say, and this is
    noted on the case."""
    try:
        mail = parse_mail(raw)
    except MailParseError as exc:
        reason = f"unreadable: {exc}"
        await hold_message(ctx, CHANNEL, raw, reason, source=purpose)
        return Outcome("held", reason=reason)
    except Exception as exc:  # a fault of ours: the message waits, the mailbox goes on
        log.error("message not parsed", extra={"error": type(exc).__name__}, exc_info=False)
        reason = f"unreadable: the parser failed ({type(exc).__name__}); try again after an update"
        await hold_message(ctx, CHANNEL, raw, reason, source=purpose)
        return Outcome("held", reason=reason)
    if purpose == "fax" and any(sniff(f.data) in FAX_TYPES for f in mail.files):
        return await _fax(ctx, mail, raw)  # a gateway's mail is machine-made: the image counts
    earlier = await _taken_before(ctx, mail, purpose)
    if earlier is not None:  # read again (or made a case of by a person before)
        return await _duplicate(ctx, mail, raw, purpose, *earlier)
    own = ctx.settings.mail_address.lower()
    automatic, why = mail.automatic, mail.automatic_why
    if automatic is None and own and mail.from_address.lower() == own:
        automatic, why = "loop", f"From: {mail.from_address}"
    if automatic == "bounce" and by_person is None:
        for reference in mail.bounced:
            ours = read_message_id(ctx.secret_key, reference)
            if ours is not None:
                await mark_bounced(ctx, ours[1], mail.bounce_reason or "returned")
        detail = "; ".join(x for x in (why, mail.bounce_reason) if x)
        await _trace(ctx, mail, raw, purpose, "bounce", detail)
        return Outcome("bounce", reason="bounce")
    if automatic is not None and by_person is None:
        log.info("automatic mail ignored", extra={"why": automatic})
        await _trace(ctx, mail, raw, purpose, automatic, why)
        return Outcome("ignored", reason=automatic)
    if purpose == "fax":
        return await _fax(ctx, mail, raw)  # no fax image in it: held for a person
    number = await thread_of(ctx, mail)
    submission = to_submission(
        mail, raw, purpose=purpose, limits=_limits(ctx), tracking_number=number
    )
    if number is None and mail.tracking_numbers():
        submission.meta["mentions"] = mail.tracking_numbers()[:5]
    if by_person:
        submission.meta.update(by_person)
    try:
        result = await receive(ctx, submission)
    except IntakeRefused as exc:
        reason = "refused: " + "; ".join(f"{p.field}: {p.code}" for p in exc.problems)
        await hold_message(
            ctx, CHANNEL, raw, reason, source=purpose, external_id=submission.external_id
        )
        return Outcome("held", reason=reason)
    if result.duplicate:  # another worker took it a moment ago
        return await _duplicate(ctx, mail, raw, purpose, result.case_id, result.tracking_number)
    kind = "case" if result.created else "added"
    return Outcome(kind, result.case_id, result.tracking_number)
