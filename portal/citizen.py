"""What the portal tells a citizen about their own case: whether a copy of the receipt really
went out (and by which channel), and what they wrote (the case page repeats it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import select

from hotline.core.cases.contacts import mask
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import ContactKind, DeliveryStatus, Direction
from hotline.core.storage.models.cases import Attachment, Case, ContactPoint, Interaction

ACKNOWLEDGEMENT = "acknowledgement"  # plugins/acknowledge.py's purpose
ON_ITS_WAY = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
GONE = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
WAIT_SECONDS = 1.5  # how long the first receipt waits for the acknowledgement to be queued


def channel_configured(ctx: AppContext, kind: str) -> bool:
    """Is a channel set up that can send to this kind of contact? (The SMS and e-mail
    channels answer "no channel" when their settings are empty.)"""
    settings = ctx.settings
    disabled = set(settings.disabled_plugins)
    if kind == ContactKind.PHONE:
        return bool(getattr(settings, "sms_sendsms_url", "")) and "sms" not in disabled
    if kind == ContactKind.EMAIL:
        return (
            bool(getattr(settings, "smtp_url", ""))
            and bool(getattr(settings, "mail_address", ""))
            and "email" not in disabled
        )
    return False


@dataclass
class Copy:
    """A copy of the receipt: ``state`` is "sent", "sending" or "none"; ``kind`` and ``to``
    (masked) say where, when there is one."""

    state: str = "none"
    kind: str = ""
    to: str = ""
    contact_given: bool = False


async def receipt_copy(ctx: AppContext, number: str, *, wait: bool = True) -> Copy:
    """Whether the acknowledgement (with the number and code) was queued on a channel that
    exists. Only then does the receipt say "we sent you a copy"."""
    async with ctx.db.session() as session:
        row = await session.execute(
            select(Case.id, ContactPoint.kind, ContactPoint.value)
            .join(Interaction, Interaction.case_id == Case.id)
            .join(ContactPoint, ContactPoint.id == Interaction.contact_point_id)
            .where(Case.tracking_number == number, Interaction.direction == Direction.IN)
            .order_by(Interaction.id)
            .limit(1)
        )
        first = row.first()
    if first is None:
        return Copy()
    case_id, kind, value = first
    copy = Copy(kind=str(kind), to=mask(str(value)), contact_given=True)
    if not channel_configured(ctx, str(kind)):
        return copy
    waited = 0.0
    while True:
        async with ctx.db.session() as session:
            status = await session.scalar(
                select(Interaction.delivery_status)
                .where(
                    Interaction.case_id == case_id,
                    Interaction.direction == Direction.OUT,
                    Interaction.meta["purpose"].as_string() == ACKNOWLEDGEMENT,
                )
                .order_by(Interaction.id)
                .limit(1)
            )
        if status in GONE:
            copy.state = "sent"
            return copy
        if status in ON_ITS_WAY:
            copy.state = "sending"
            if not wait or waited >= WAIT_SECONDS:
                return copy
        elif status is not None or not wait or waited >= WAIT_SECONDS:
            return copy  # failed, no channel after all, or not written yet
        await anyio.sleep(0.1)
        waited += 0.1


@dataclass
class Written:
    """What the citizen sent, as the case page repeats it to them."""

    subject: str = ""
    text: str = ""
    place: str = ""
    answers: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    public_place: bool = False


def _answer_text(attr: dict[str, Any], value: Any, zh: bool) -> str:
    names = {
        str(v["key"]): v.get("name_zh" if zh else "name_en", "") for v in attr.get("values", [])
    }
    values = value if isinstance(value, list) else [value]
    return (
        "、".join(names.get(str(v), str(v)) for v in values)
        if zh
        else ", ".join(names.get(str(v), str(v)) for v in values)
    )


async def what_they_wrote(
    ctx: AppContext, case: Case, attributes: list[dict[str, Any]], zh: bool
) -> Written:
    async with ctx.db.session() as session:
        first = await session.scalar(
            select(Interaction)
            .where(Interaction.case_id == case.id, Interaction.direction == Direction.IN)
            .order_by(Interaction.id)
            .limit(1)
        )
        files = list(
            await session.scalars(
                select(Attachment.filename)
                .join(Interaction, Interaction.id == Attachment.interaction_id)
                .where(Interaction.case_id == case.id, Interaction.direction == Direction.IN)
                .order_by(Attachment.id)
                .limit(50)
            )
        )
    meta = (first.meta if first is not None else None) or {}
    given = meta.get("attributes") or {}
    answers = []
    for attr in attributes:
        code = str(attr.get("code"))
        if code in given:
            label = attr.get("description_zh" if zh else "description_en", code)
            answers.append((str(label), _answer_text(attr, given[code], zh)))
    return Written(
        subject=case.subject or "",
        text=case.description or "",
        place=case.location_text or "",
        answers=answers,
        files=[f for f in files if f],
        public_place=meta.get("public_location") == "coarse",
    )
