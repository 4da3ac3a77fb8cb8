"""The phone line's side of the kernel: what the IVR's callers decided becomes cases through
intake (a voicemail with its recording, a call-back request for the AXD queue, a call waiting
for an agent), a status question is answered from the case's public timeline after its lookup
code, and every call leaves its call detail record."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
from sqlalchemy import delete, select

from hotline.core.axd import call_recordings, calls, transfers
from hotline.core.axd.desk_phones import is_extension
from hotline.core.cases import tracking
from hotline.core.cases.contacts import InvalidContact, normalise_phone
from hotline.core.cases.lookup import LookupLimits, LookupRefused, verified_timeline
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import AttachmentIn, ContactIn, Submission
from hotline.core.reference import labels
from hotline.core.reference.calendar import in_office_hours
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseKind, ContactKind, Media, QueueOutcome
from hotline.core.storage.models.axd import AgentPresence, CallRecord, QueueItem

from . import texts
from .ivr import Caller
from .recording import CallAudio, Finished
from .softphone import softphone_user
from .stack import SoftphoneStack
from .waiting import CallDetail, Place

log = logging.getLogger("hotline.channels.phone")
OFFER_JOB = "axd.offer_waiting"  # the distribution plugin's: offer a case's waiting items now

CHANNEL = "phone"
# what the softphones' relay and the agent's panel add to a call's record after the line's leg
TALK_FIELDS = (
    "talk_started_at",
    "talk_ended_at",
    "talk_seconds",
    "recording_id",
    "holds",
    "hold_seconds",
    "on_hold_since",
)
SPEECH_LANGUAGES = ("zh_CN", "en")


class KernelDesk:
    def __init__(self, ctx: AppContext, softphones: SoftphoneStack | None = None) -> None:
        self.ctx = ctx
        self.softphones = softphones

    def _text(self, language: str, message: str) -> str:
        return self.ctx.catalogs.get(language).gettext(message)

    def _contacts(self, caller: Caller) -> list[ContactIn]:
        """The caller's number as a contact, when the network gave one we can call back."""
        if not caller.number:
            return []
        try:
            value = normalise_phone(caller.number, self.ctx.settings.default_region)
        except InvalidContact:
            return []
        return [ContactIn(kind=ContactKind.PHONE, value=value)]

    def _meta(self, caller: Caller) -> dict[str, object]:
        return {
            "menu": list(caller.path),
            "speech_language": caller.language,
            "called": caller.called,
            "withheld": not caller.number,
        }

    async def is_open(self) -> bool:
        return await in_office_hours(self.ctx)

    async def voicemail(
        self, caller: Caller, kind: str, recording: Path, seconds: float
    ) -> tuple[str, str]:
        data = await anyio.Path(recording).read_bytes()
        submission = Submission(
            channel=CHANNEL,
            external_id=f"call:{caller.call_id}",
            kind=CaseKind(kind),
            subject=self._text(caller.language, texts.VOICEMAIL_SUBJECT),
            language=caller.language if caller.language in SPEECH_LANGUAGES else None,  # type: ignore[arg-type]
            contacts=self._contacts(caller),
            attachments=[AttachmentIn(filename="voicemail.wav", data=data)],
            media=Media.VOICEMAIL,
            meta={**self._meta(caller), "seconds": round(seconds, 1)},
        )
        result = await receive(self.ctx, submission)
        return result.tracking_number, result.lookup_code or ""

    async def callback(self, caller: Caller) -> str:
        submission = Submission(
            channel=CHANNEL,
            external_id=f"callback:{caller.call_id}",
            kind=CaseKind.CONSULTATION,
            subject=self._text(caller.language, texts.CALLBACK_SUBJECT),
            text=self._text(caller.language, texts.CALLBACK_TEXT),
            language=caller.language if caller.language in SPEECH_LANGUAGES else None,  # type: ignore[arg-type]
            contacts=self._contacts(caller),
            media=Media.CALLBACK,
            meta=self._meta(caller),
        )
        return (await receive(self.ctx, submission)).tracking_number

    async def status(self, number: str, code: str, caller: Caller) -> str | None:
        try:
            case, events = await verified_timeline(
                self.ctx.db,
                self.ctx.secret_key,
                number,
                code,
                f"phone:{caller.number or '-'}",
                second=caller.number,  # the caller's own number: the second fact with 4 digits
                limits=LookupLimits.from_settings(self.ctx.settings),
            )
        except LookupRefused:
            return None
        language = caller.language
        last = events[-1] if events else None
        return self._text(language, texts.STATUS) % {
            "number": " ".join(tracking.clean(case.tracking_number)),
            "status": self._text(language, labels.STATUS.get(case.status, case.status)),
            "last": self._text(language, labels.EVENT.get(last.action, last.action))
            if last
            else "",
            "date": last.at.astimezone(self.ctx.tz).strftime("%Y-%m-%d") if last else "",
        }

    # --- calls waiting for an agent -------------------------------------------------------

    async def enqueue(self, caller: Caller, queue: str) -> tuple[int, int]:
        """The call as a case (the caller's number matched to the citizen) whose queue item, of
        medium ``voice``, waits in ``queue``; intake offers it at once."""
        submission = Submission(
            channel=CHANNEL,
            external_id=f"queue:{caller.call_id}",
            kind=CaseKind.CONSULTATION,
            subject=self._text(caller.language, texts.CALL_SUBJECT),
            text=self._text(caller.language, texts.CALL_TEXT),
            language=caller.language if caller.language in SPEECH_LANGUAGES else None,  # type: ignore[arg-type]
            contacts=self._contacts(caller),
            media=Media.VOICE,
            skills=[queue],
            meta=self._meta(caller),
        )
        result = await receive(self.ctx, submission)
        item_id = await self.ctx.db.run(
            lambda s: s.scalar(
                select(QueueItem.id).where(
                    QueueItem.interaction_id == result.interaction_id,
                    QueueItem.media == Media.VOICE,
                )
            ),
            write=False,
        )
        assert item_id is not None, "intake queues every call that is not a sealed letter"
        return item_id, result.case_id

    async def place(self, item_id: int) -> Place | None:
        found = await self.ctx.db.run(lambda s: calls.standing(s, item_id), write=False)
        if found is None:
            return None
        return Place(str(found.state), found.agent_id, found.position, found.expected_seconds)

    async def state(self, item_id: int) -> str | None:
        async with self.ctx.db.session() as session:
            found = await session.scalar(select(QueueItem.state).where(QueueItem.id == item_id))
        return None if found is None else str(found)

    async def leave(self, item_id: int, reason: str, caller: Caller) -> float | None:
        left = await calls.leave(self.ctx, item_id, QueueOutcome(reason))
        if left is None:
            return None
        wants_call = reason in (QueueOutcome.CALLBACK, QueueOutcome.LINE_LOST) or (
            reason == QueueOutcome.ABANDONED and self.ctx.settings.phone_abandoned_callback
        )
        if wants_call and self._contacts(caller):
            await self._callback_item(item_id)
        return left.waited_seconds

    async def _callback_item(self, item_id: int, agent_id: int | None = None) -> None:
        made = await calls.add_callback(self.ctx, item_id, agent_id)
        if made is None or agent_id is not None:
            return
        await self._offer_now(made, "the call-back request")

    async def _offer_now(self, item_id: int, what: str) -> None:
        """Offered now rather than at the next sweep of the queue."""
        try:
            async with self.ctx.db.session() as session:
                case_id = await session.scalar(
                    select(QueueItem.case_id).where(QueueItem.id == item_id)
                )
            await self.ctx.jobs.aenqueue(OFFER_JOB, case_id=case_id)
        except Exception:
            log.warning("%s waits for the next sweep of the queue", what)

    async def put_through(self, item_id: int) -> tuple[int, str] | None:
        """To the agent's browser softphone when it is registered, else their desk phone (by
        the softphones' relay when it runs, so that the call is recorded as theirs are)."""
        if self.softphones is not None:
            async with self.ctx.db.session() as session:
                agent, desk_phone = (
                    await session.execute(
                        select(QueueItem.agent_id, AgentPresence.desk_phone)
                        .outerjoin(AgentPresence, AgentPresence.user_id == QueueItem.agent_id)
                        .where(QueueItem.id == item_id)
                    )
                ).one_or_none() or (None, None)
            user = softphone_user(agent) if agent is not None else ""
            if user and await self.softphones.registered(user):
                phone: str | None = user
            elif is_extension(desk_phone):  # registers here, or is out of reach
                phone = desk_phone if await self.softphones.registered(str(desk_phone)) else None
            else:
                phone = desk_phone
            if phone:
                address = await self.softphones.put_through_address(phone, item_id)
                if address is not None:
                    return await calls.put_through(self.ctx, item_id, address=address)
        return await calls.put_through(self.ctx, item_id)

    async def returned(self, item_id: int, agent_id: int, lost: bool = False) -> bool:
        """The agent's phone did not take the call (or ``lost`` it mid-call): it waits again,
        first in its queue, and is offered now to the next agent."""
        if not await calls.returned(self.ctx, item_id, agent_id, missed=not lost):
            return False
        await self._offer_now(item_id, "the returned call")
        return True

    async def take_transfer(self, number: str) -> transfers.Taken | None:
        taken = await transfers.take(self.ctx, number)
        if taken is not None and taken.kind == "queue":
            await self._offer_now(taken.item_id, "the transferred call")
        return taken

    def outside_address(self, number: str) -> str | None:
        trunk = self.ctx.settings.phone_trunk
        return f"sip:{number}@{trunk}" if trunk else None

    async def answered(self, item_id: int, caller: Caller) -> int | None:
        agent = await calls.answered(self.ctx, item_id, QueueOutcome.ANSWERED)
        if agent is not None and self._contacts(caller):
            await self._callback_item(item_id, agent)
        return agent

    async def record_call(self, detail: CallDetail) -> None:
        assert detail.ended_at is not None
        record = CallRecord(
            call_id=detail.call_id[:64],
            caller=detail.caller[:32],
            called=detail.called[:32],
            language=detail.language[:10],
            arrived_at=detail.arrived_at,
            menu_path=list(detail.path),
            queue=detail.queue,
            queued_at=detail.queued_at,
            queue_item_id=detail.item_id,
            case_id=detail.case_id,
            left_reason=detail.left_reason,
            agent_id=detail.agent_id,
            wait_seconds=detail.wait_seconds,
            ended_at=detail.ended_at,
            hung_up_by=detail.hung_up_by,
            put_through_to=detail.put_through_to,
            leg=detail.leg,
        )
        async with self.ctx.db.transaction() as session:
            # a call that came back from an agent's phone is one call: its record is rewritten
            # when it really ends, keeping what the relay added of its talk meanwhile
            earlier = await session.scalar(
                select(CallRecord).where(CallRecord.call_id == record.call_id)
            )
            if earlier is not None:
                for kept in TALK_FIELDS:
                    setattr(record, kept, getattr(earlier, kept))
                await session.execute(
                    delete(CallRecord).where(CallRecord.call_id == record.call_id)
                )
            session.add(record)

    async def recorded(self, found: Finished, audio: CallAudio | None) -> None:
        """A live call's recording on its case (``recording.collect`` hands each ended call)."""
        if audio is None:  # the agent never answered: nothing passed
            return
        if found.item_id is None:
            raise ValueError("a recorded call names no queue item")
        call = call_recordings.Recorded(
            ref=found.pcap.stem,
            wav=audio.wav,
            seconds=audio.seconds,
            split=self.ctx.settings.phone_call_recording == "split",
            talk_started_at=audio.agent_from,
            ended_at=max(audio.ended, found.ended or audio.ended),
        )
        if await call_recordings.attach(self.ctx, found.item_id, call) is None:
            raise ValueError(f"the recorded call's queue item {found.item_id} is unknown")
