"""A live call's talk with the agent: its recording on its case (the call as the media relay
recorded it becomes an interaction of the call's case with the WAV attached, played and
audited like a voicemail, transcribed by the speech job), and what the call's detail record
learns of the talk: from the agent's first audio to the end, the recording, and the caller's
time on hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import anyio
from sqlalchemy import Select, or_, select

from hotline.core.cases.transcripts import JOB as TRANSCRIBE_JOB
from hotline.core.cases.transcripts import transcribe_key
from hotline.core.storage import outbox
from hotline.core.storage.enums import Direction
from hotline.core.storage.models.axd import CallRecord, QueueItem
from hotline.core.storage.models.base import utcnow
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
        asked = await session.get(Interaction, item.interaction_id) if item.interaction_id else None
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
            _hold_ends(record, call.ended_at)  # hung up while the caller was on hold
            if call.talk_started_at is not None:  # a call back in line talks again: summed
                record.talk_started_at = record.talk_started_at or call.talk_started_at
                record.talk_ended_at = call.ended_at
                talked = (call.ended_at - call.talk_started_at).total_seconds()
                record.talk_seconds = round((record.talk_seconds or 0.0) + talked, 2)
        return row.id


def _hold_ends(record: CallRecord, at: datetime) -> None:
    if record.on_hold_since is not None:
        record.hold_seconds = round(
            (record.hold_seconds or 0.0) + (at - record.on_hold_since).total_seconds(), 2
        )
        record.on_hold_since = None


def current_call(agent_id: int) -> Select[Any]:
    """The record of the agent's call in progress: the newest put through to them, or placed
    by them, whose talk has not ended."""
    return (
        select(CallRecord)
        .where(
            CallRecord.agent_id == agent_id,
            or_(CallRecord.left_reason == "answered", CallRecord.leg == "outbound"),
            CallRecord.talk_ended_at.is_(None),
        )
        .order_by(CallRecord.id.desc())
        .limit(1)
    )


async def hold(ctx: AppContext, agent_id: int, on: bool) -> bool:
    """The agent put their caller on hold (``on``) or took them back: counted on the record of
    the agent's call in progress (the newest put through to them whose talk has not ended).
    False when the agent has no such call."""
    async with ctx.db.transaction() as session:
        record: CallRecord | None = await session.scalar(current_call(agent_id))
        if record is None:
            return False
        now = utcnow()
        if on and record.on_hold_since is None:
            record.on_hold_since = now
            record.holds = (record.holds or 0) + 1
        elif not on:
            _hold_ends(record, now)
        return True
