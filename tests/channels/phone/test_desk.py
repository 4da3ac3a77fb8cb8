"""What the phone line's callers decide becomes cases through intake: a voicemail with its
recording (a repeated caller joins their history; a withheld number is an anonymous case; a
message for the director is sealed), a call-back request in the AXD queue, and the status of a
case after its lookup code."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

from sqlalchemy import select

from hotline.channels.phone.desk import KernelDesk
from hotline.channels.phone.ivr import Caller
from hotline.core.cases.lookup import lookup_code
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import Media
from hotline.core.storage.models.axd import QueueItem
from hotline.core.storage.models.cases import Attachment, Case, ContactPoint, Interaction
from tests.conftest import drain_jobs


def a_recording(path: Path, seconds: float = 1.5) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x10\x00\xf0\xff" * int(4000 * seconds))
    return path


def caller(call_id: str, number: str = "+8613800138000", language: str = "zh_CN") -> Caller:
    return Caller(call_id, number, "12345", language, ("language", "main", "complaint"))


async def test_a_voicemail_becomes_a_case_with_its_recording(
    ctx: AppContext, tmp_path: Path
) -> None:
    desk = KernelDesk(ctx)
    number, code = await desk.voicemail(
        caller("c1"), "complaint", a_recording(tmp_path / "a.wav"), 1.5
    )
    assert code == lookup_code(ctx.secret_key, number)
    again, _ = await desk.voicemail(caller("c2"), "complaint", a_recording(tmp_path / "b.wav"), 2.0)
    async with ctx.db.session() as s:
        first = await s.scalar(select(Case).where(Case.tracking_number == number))
        second = await s.scalar(select(Case).where(Case.tracking_number == again))
        assert first is not None and second is not None
        assert first.first_channel == "phone" and first.citizen_id == second.citizen_id
        [point] = list(await s.scalars(select(ContactPoint)))
        item = await s.scalar(select(QueueItem).where(QueueItem.case_id == first.id))
        message = await s.scalar(select(Interaction).where(Interaction.case_id == first.id))
        [audio] = list(
            await s.scalars(select(Attachment).where(Attachment.interaction_id == message.id))
        )
    assert point.value == "+8613800138000"
    assert item is not None and item.media == Media.VOICEMAIL
    assert audio.content_type.startswith("audio/") and audio.size > 20000
    assert message.meta["menu"] == ["language", "main", "complaint"]
    assert message.meta["speech_language"] == "zh_CN"
    # with no speech engine installed the recording waits for a person, and says so
    await asyncio.to_thread(drain_jobs, ctx.jobs)
    async with ctx.db.session() as s:
        message = await s.get(Interaction, message.id)
    assert message.meta.get("transcript_missing") == "zh_CN"


async def test_withheld_numbers_and_the_directors_mailbox(ctx: AppContext, tmp_path: Path) -> None:
    desk = KernelDesk(ctx)
    hidden, _ = await desk.voicemail(
        caller("w", number=""), "complaint", a_recording(tmp_path / "w.wav"), 1.0
    )
    sealed, _ = await desk.voicemail(
        caller("d", language="en"), "director_mailbox", a_recording(tmp_path / "d.wav"), 1.0
    )
    async with ctx.db.session() as s:
        anonymous = await s.scalar(select(Case).where(Case.tracking_number == hidden))
        letter = await s.scalar(select(Case).where(Case.tracking_number == sealed))
    assert anonymous is not None and anonymous.citizen_id is None
    assert letter is not None and letter.sealed and letter.language == "en"


async def test_a_call_back_request_waits_in_the_queue(ctx: AppContext) -> None:
    number = await KernelDesk(ctx).callback(caller("cb"))
    async with ctx.db.session() as s:
        case = await s.scalar(select(Case).where(Case.tracking_number == number))
        item = await s.scalar(select(QueueItem).where(QueueItem.case_id == case.id))
    assert item is not None and item.media == Media.CALLBACK


async def test_the_status_needs_the_right_code(ctx: AppContext, tmp_path: Path) -> None:
    desk = KernelDesk(ctx)
    number, code = await desk.voicemail(
        caller("s"), "complaint", a_recording(tmp_path / "s.wav"), 1.0
    )
    said = await desk.status(number, code, caller("q"))
    assert said is not None and " ".join(number) in said and "已受理" in said
    assert await desk.status(number, "000000", caller("q")) is None
    assert await desk.status("1234", code, caller("q")) is None
