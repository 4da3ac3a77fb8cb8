"""Transcripts of recorded speech (voicemail, voice notes), made off the event loop as a job.

Intake writes a ``transcribe_interaction`` job (a row of the job outbox, in the intake's own
transaction) for every interaction that arrives with audio; the reconciliation writes one for
any recording of the last days that has neither a result nor a job. The job asks the ``transcribe`` hook (the speech plugins: whisper and vosk built in) for each audio file, in the
language the channel chose (``meta['speech_language']``, a hint; else the case's, which an
engine may replace by the language it detects), and keeps the text, the timed segments,
the engine, the timing and each word's confidence on the interaction: ``meta['transcript']``,
and as the interaction's text when it had none, so the transcript is shown and searched like
any message. With no engine or model for the language the interaction says so
(``meta['transcript_missing']``), and audio an engine cannot read is named with the reason
(``meta['transcript_error']``, not retried); either way the recording stays for a person to
hear.
"""

from __future__ import annotations

import inspect
import io
import logging
import time
import wave
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.core.delivery.jobs import JobSpec, Missing
from hotline.core.storage.enums import Direction
from hotline.core.storage.models.cases import Attachment, Case, Interaction
from hotline.core.storage.models.delivery import OutboxJob

if TYPE_CHECKING:
    from hotline.core.shell.context import AppContext

log = logging.getLogger("hotline.transcripts")
JOB = "hotline.transcribe"
RESULTS = ("transcript", "transcript_missing", "transcript_error")


def transcribe_key(interaction_id: int) -> str:
    return f"{JOB}:{interaction_id}"


@dataclass(frozen=True)
class Word:
    word: str
    start: float  # seconds from the start of the recording
    end: float
    confidence: float  # 0..1


@dataclass(frozen=True)
class Segment:
    """A sentence or phrase and where it is in the recording (seconds); in a call recorded one
    party per channel, who said it (``caller``, ``agent``)."""

    start: float
    end: float
    text: str
    party: str = ""


@dataclass(frozen=True)
class Transcript:
    """What an engine heard. ``seconds`` is the audio's length, ``elapsed`` the engine's time."""

    text: str
    language: str
    engine: str
    seconds: float
    words: list[Word] = field(default_factory=list)
    elapsed: float = 0.0
    segments: list[Segment] = field(default_factory=list)

    @property
    def real_time_factor(self) -> float:
        return self.elapsed / self.seconds if self.seconds else 0.0

    def as_meta(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "engine": self.engine,
            "seconds": round(self.seconds, 2),
            "rtf": round(self.real_time_factor, 3),
            "words": [
                [w.word, round(w.start, 2), round(w.end, 2), round(w.confidence, 3)]
                for w in self.words
            ],
            "segments": [
                [round(s.start, 2), round(s.end, 2), s.text, *([s.party] if s.party else [])]
                for s in self.segments
            ],
        }


async def transcribe(
    ctx: AppContext, audio: bytes, content_type: str, language: str, hinted: bool = True
) -> Transcript | None:
    """Ask the speech engines (the ``transcribe`` hook); None when none has this language.

    ``hinted``: the caller chose ``language`` (the phone menu, the chat); otherwise it is only
    the case's language and an engine that can may detect the language spoken."""
    started = time.perf_counter()
    answer: Any = ctx.pm.hook.transcribe(
        ctx=ctx, audio=audio, content_type=content_type, language=language, hinted=hinted
    )
    if inspect.isawaitable(answer):
        answer = await answer
    if answer is None:
        return None
    if not isinstance(answer, Transcript):
        raise TypeError(f"a transcribe hook answered {type(answer).__name__}, not a Transcript")
    heard: Transcript = answer
    if not heard.elapsed:
        heard = replace(heard, elapsed=time.perf_counter() - started)
    return heard


async def transcribe_interaction(ctx: AppContext, interaction_id: int) -> str:
    """Job: transcribe the audio files of one interaction and keep the result on it."""
    async with ctx.db.session() as session:
        row = await session.get(Interaction, interaction_id)
        if row is None:
            return "no interaction"
        case = await session.get(Case, row.case_id)
        files = list(
            await session.scalars(
                select(Attachment)
                .where(Attachment.interaction_id == interaction_id)
                .order_by(Attachment.id)
            )
        )
    audio = [f for f in files if (f.content_type or "").startswith("audio/")]
    if not audio or case is None:
        return "no audio"
    chosen = (row.meta or {}).get("speech_language")
    language = str(chosen or case.language)
    # the caller chose it (the phone menu), unless the channel only guessed it (a chat app's
    # own language): then an engine that can detects the language spoken
    hinted = bool(chosen) and not (row.meta or {}).get("speech_language_guessed")
    heard: list[Transcript] = []
    refused: list[str] = []
    parties = list((row.meta or {}).get("parties") or [])
    for attachment in audio:
        data = ctx.files.get(attachment.sha256)
        channels = split_channels(data, len(parties)) if parties else None
        try:
            if channels is None:
                transcript = await transcribe(
                    ctx, data, attachment.content_type, language, hinted=hinted
                )
            else:  # one party per channel (a live call): who said what
                transcript = await _each_party(ctx, parties, channels, language, hinted)
        except ValueError as exc:  # unreadable or empty audio: trying again changes nothing
            refused.append(f"{attachment.filename}: {exc}")
            continue
        if transcript is not None:
            heard.append(transcript)
    async with ctx.db.transaction() as session:
        row = await session.get(Interaction, interaction_id)
        assert row is not None
        meta = dict(row.meta or {})
        if refused:
            meta["transcript_error"] = refused
            log.warning("audio not transcribed", extra={"interaction": interaction_id})
        if not heard and refused:
            row.meta = meta
            return "bad audio"
        if not heard:
            meta["transcript_missing"] = language
            row.meta = meta
            log.info("no speech engine for the language", extra={"language": language})
            return "no engine"
        text = " ".join(t.text for t in heard if t.text).strip()
        meta["transcript"] = text
        meta["transcripts"] = [t.as_meta() for t in heard]
        meta.pop("transcript_missing", None)
        row.meta = meta
        if not (row.text or "").strip():
            row.text = text
    return "transcribed"


def split_channels(data: bytes, count: int) -> list[bytes] | None:
    """A 16-bit WAV of ``count`` channels as that many mono WAVs; None for any other audio."""
    try:
        with wave.open(io.BytesIO(data)) as w:
            if w.getnchannels() != count or w.getsampwidth() != 2 or count < 2:
                return None
            rate, frames = w.getframerate(), w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        return None
    samples = memoryview(frames).cast("h")
    out = []
    for channel in range(count):
        mono = io.BytesIO()
        with wave.open(mono, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(samples[channel::count].tobytes())
        out.append(mono.getvalue())
    return out


async def _each_party(
    ctx: AppContext, parties: list[str], channels: list[bytes], language: str, hinted: bool
) -> Transcript | None:
    """Each party's channel transcribed apart; a channel an engine cannot read (a party who
    said nothing) leaves that party out, and only both unreadable refuses the recording."""
    heard: list[tuple[str, Transcript | None]] = []
    refused = []
    for party, channel in zip(parties, channels, strict=True):
        try:
            heard.append((party, await transcribe(ctx, channel, "audio/wav", language, hinted)))
        except ValueError as exc:
            refused.append(f"{party}: {exc}")
    if refused and len(refused) == len(parties):
        raise ValueError("; ".join(refused))
    return dialogue(heard)


def _phrases(heard: Transcript) -> list[Segment]:
    """The engine's segments, or its words grouped into phrases at pauses of 0.8 s."""
    if heard.segments:
        return list(heard.segments)
    phrases: list[Segment] = []
    for w in heard.words:
        last = phrases[-1] if phrases else None
        if last is not None and w.start - last.end < 0.8:
            joiner = "" if heard.language.startswith("zh") else " "
            phrases[-1] = Segment(last.start, w.end, f"{last.text}{joiner}{w.word}")
        else:
            phrases.append(Segment(w.start, w.end, w.word))
    return phrases


def dialogue(heard: list[tuple[str, Transcript | None]]) -> Transcript | None:
    """The parties' transcripts (one channel each) as one, its phrases in the order said, each
    marked with its party (``Segment.party``)."""
    found = [(party, t) for party, t in heard if t is not None]
    if not found:
        return None
    segments = sorted(
        (replace(s, party=party) for party, t in found for s in _phrases(t)),
        key=lambda s: s.start,
    )
    first = found[0][1]
    return Transcript(
        text="\n".join(s.text for s in segments),
        language=first.language,
        engine=first.engine,
        seconds=max(t.seconds for _, t in found),
        words=[w for _, t in found for w in t.words],
        elapsed=sum(t.elapsed for _, t in found),
        segments=segments,
    )


async def missing_transcripts(
    session: AsyncSession, since: datetime, case_id: int | None
) -> list[Missing]:
    """Reconciliation: recordings since ``since`` with no result and no job."""
    query = (
        select(Interaction.id, Interaction.case_id, Interaction.meta)
        .join(Attachment, Attachment.interaction_id == Interaction.id)
        .where(
            Interaction.direction == Direction.IN,
            Interaction.created_at >= since,
            Attachment.content_type.like("audio/%"),
        )
    )
    if case_id is not None:
        query = query.where(Interaction.case_id == case_id)
    heard = {
        transcribe_key(row): (row, case)
        for row, case, meta in await session.execute(query.limit(1000))
        if not any(key in (meta or {}) for key in RESULTS)
    }
    if not heard:
        return []
    known = set(await session.scalars(select(OutboxJob.key).where(OutboxJob.key.in_(list(heard)))))
    return [
        Missing(key, case, {"interaction_id": row})
        for key, (row, case) in heard.items()
        if key not in known
    ]


def jobs() -> list[JobSpec]:
    return [
        JobSpec(
            JOB, transcribe_interaction, retries=2, retry_delay=30, reconcile=missing_transcripts
        )
    ]
