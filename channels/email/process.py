"""One raw message -> what the hotline does with it: a new case, an addition to its case, a
bounce noted on the answer that failed, ignored (auto-replies, reports, our own mail coming
back), or held for a person (unreadable, or refused by intake). Never dropped, never twice.

Threading: a reply is appended to its case when In-Reply-To or References name a message the
hotline sent (our signed Message-ID), or when the subject carries a tracking number of a case
whose citizen has this sender's address. A number in the subject from anyone else starts a new
case that mentions it (nobody adds to a stranger's case by typing its number).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hotline.channels.fax import receive_fax
from hotline.channels.fax.convert import FaxUnreadable
from hotline.channels.fax.inbound import FAX_TYPES, sender_number
from hotline.core.contacts import InvalidContact, normalise
from hotline.core.context import AppContext
from hotline.core.enums import ContactKind
from hotline.core.held import hold_message
from hotline.core.intake import receive
from hotline.core.lookup import is_citizens_contact
from hotline.core.replies import mark_bounced
from hotline.core.storage import sniff
from hotline.core.submission import IntakeRefused

from .inbound import Limits, MailParseError, ParsedMail, external_id, parse_mail, to_submission
from .outbound import read_message_id

log = logging.getLogger("hotline.channels.email")
CHANNEL = "email"


@dataclass(frozen=True)
class Outcome:
    kind: str  # case | added | duplicate | bounce | ignored | held
    case_id: int | None = None
    tracking_number: str | None = None


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
    return Limits(ctx.settings.max_attachment_bytes, ctx.settings.max_attachments)


async def _fax(ctx: AppContext, mail: ParsedMail, raw: bytes) -> Outcome:
    """A fax gateway's mail: each TIFF or PDF in it is a fax of its own (OCR in a thread)."""
    images = [f for f in mail.files if sniff(f.data) in FAX_TYPES]
    if not images:
        await hold_message(ctx, CHANNEL, raw, "fax mailbox: no fax image in it", source="fax")
        return Outcome("held")
    sender = sender_number(mail.subject, mail.text)
    outcome = Outcome("held")
    for index, image in enumerate(images):
        try:
            result = await receive_fax(
                ctx,
                image.data,
                filename=image.filename,
                sender=sender,
                external_id=f"{external_id(mail, raw)[:240]}#{index}",
            )
        except (FaxUnreadable, IntakeRefused) as exc:
            await hold_message(ctx, CHANNEL, raw, f"fax not read: {exc}", source="fax")
            continue
        kind = "duplicate" if result.duplicate else "case"
        outcome = Outcome(kind, result.case_id, result.tracking_number)
    return outcome


async def process_message(ctx: AppContext, raw: bytes, *, purpose: str) -> Outcome:
    try:
        mail = parse_mail(raw)
    except MailParseError as exc:
        await hold_message(ctx, CHANNEL, raw, f"unreadable: {exc}", source=purpose)
        return Outcome("held")
    own = ctx.settings.mail_address.lower()
    if mail.automatic == "bounce":
        for reference in mail.bounced:
            ours = read_message_id(ctx.secret_key, reference)
            if ours is not None:
                await mark_bounced(ctx, ours[1], mail.bounce_reason or "returned")
        return Outcome("bounce")
    if mail.automatic is not None or (own and mail.from_address.lower() == own):
        log.info("automatic mail ignored", extra={"why": mail.automatic or "loop"})
        return Outcome("ignored")
    if purpose == "fax":
        return await _fax(ctx, mail, raw)
    number = await thread_of(ctx, mail)
    submission = to_submission(
        mail, raw, purpose=purpose, limits=_limits(ctx), tracking_number=number
    )
    if number is None and mail.tracking_numbers():
        submission.meta["mentions"] = mail.tracking_numbers()[:5]
    try:
        result = await receive(ctx, submission)
    except IntakeRefused as exc:
        reason = "; ".join(f"{p.field}: {p.code}" for p in exc.problems)
        await hold_message(
            ctx,
            CHANNEL,
            raw,
            f"refused: {reason}",
            source=purpose,
            external_id=external_id(mail, raw),
        )
        return Outcome("held")
    if result.duplicate:
        kind = "duplicate"
    else:
        kind = "case" if result.created else "added"
    return Outcome(kind, result.case_id, result.tracking_number)
