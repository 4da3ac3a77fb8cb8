"""A live call's recording on its case: the call between a waiting caller and the agent who
took it, as the media relay recorded it, becomes an interaction of the call's case with the
WAV attached (played and audited like a voicemail), transcribed by the speech job, and the
call's detail record gains the talk (the agent's first audio to the end) and the recording."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
from sqlalchemy import select

from hotline.core.cases.transcripts import JOB as TRANSCRIBE_JOB
from hotline.core.cases.transcripts import transcribe_key
from hotline.core.storage import outbox
from hotline.core.storage.enums import Direction
from hotline.core.storage.models.axd import CallRecord, QueueItem
from hotline.core.storage.models.cases import Attachment, Interaction

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

CHANNEL = "phone"
PARTIES = ["caller", "agent"]  # a split recording's channels, left and right


@dataclass(frozen=True)
class Recorded:
    """What the relay recorded of one call: ``ref`` names it uniquely (the relay's file)."""

    ref: str
    wav: bytes
    seconds: float
    split: bool
    talk_started_at: datetime | None  # the agent's first audio: None, never answered
    ended_at: datetime


async def attach(ctx: AppContext, item_id: int, call: Recorded) -> int | None:
    """The recording as an interaction of the item's case (once: a second delivery of the same
    ``ref`` changes nothing); the interaction's id, None when the item is unknown."""
    digest = await anyio.to_thread.run_sync(ctx.files.put, call.wav)
    external_id = f"live:{call.ref}"[:255]
    async with ctx.db.transaction() as session:
        item = await session.get(QueueItem, item_id)
        if item is None:
            return None
        known = await session.scalar(
            select(Interaction.id).where(
                Interaction.channel == CHANNEL, Interaction.external_id == external_id
            )
        )
        if known is not None:
            return known
        asked = await session.get(Interaction, item.interaction_id)
        language = (asked.meta or {}).get("speech_language") if asked is not None else None
        meta: dict[str, object] = {
            "live_call": True,
            "seconds": round(call.seconds, 1),
            "agent_id": item.agent_id,
        }
        if language:
            meta["speech_language"] = language
        if call.split:
            meta["parties"] = PARTIES
        row = Interaction(
            case_id=item.case_id,
            direction=Direction.IN,
            channel=CHANNEL,
            external_id=external_id,
            text="",
            meta=meta,
            created_at=call.ended_at,
        )
        session.add(row)
        await session.flush()
        session.add(
            Attachment(
                interaction_id=row.id,
                sha256=digest,
                size=len(call.wav),
                content_type="audio/wav",
                filename=f"call-{call.ended_at:%Y%m%d-%H%M%S}.wav",
                created_at=call.ended_at,
            )
        )
        outbox.add(
            session,
            TRANSCRIBE_JOB,
            key=transcribe_key(row.id),
            args={"interaction_id": row.id},
            case_id=item.case_id,
        )
        record = await session.scalar(
            select(CallRecord)
            .where(CallRecord.queue_item_id == item_id)
            .order_by(CallRecord.id.desc())
            .limit(1)
        )
        if record is not None:
            record.recording_id = row.id
            if call.talk_started_at is not None:
                record.talk_started_at = call.talk_started_at
                record.talk_ended_at = call.ended_at
                record.talk_seconds = round(
                    (call.ended_at - call.talk_started_at).total_seconds(), 2
                )
        return row.id
