"""The phone line's side of the kernel: what the IVR's callers decided becomes cases through
intake (a voicemail with its recording, a call-back request for the AXD queue), and a status
question is answered from the case's public timeline after its lookup code."""

from __future__ import annotations

from pathlib import Path

import anyio

from hotline.core.cases import tracking
from hotline.core.cases.contacts import InvalidContact, normalise_phone
from hotline.core.cases.lookup import LookupLimits, LookupRefused, verified_timeline
from hotline.core.intake.receive import receive
from hotline.core.intake.submission import AttachmentIn, ContactIn, Submission
from hotline.core.reference import labels
from hotline.core.reference.calendar import in_office_hours
from hotline.core.shell.context import AppContext
from hotline.core.storage.enums import CaseKind, ContactKind, Media

from . import texts
from .ivr import Caller

CHANNEL = "phone"
SPEECH_LANGUAGES = ("zh_CN", "en")


class KernelDesk:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

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
