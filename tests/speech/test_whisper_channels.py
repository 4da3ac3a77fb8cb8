"""Telegram voice notes take the voicemail's path: a Mandarin voice note (Ogg/Opus, as the app
records it) sent from a phone whose app speaks English is kept as audio, and the transcription
job hears Mandarin (detected among the hotline's languages, since the app's language is only a
guess), writes it in Simplified characters with the city's district name, and the transcript
is the message's text."""

from __future__ import annotations

import io
from pathlib import Path

import soundfile

from hotline.core.storage.models.reference import RoutingRule
from tests.channels.test_telegram import CHAT, Stand, _inbound, telegram_api, tg  # noqa: F401
from tests.speech.fixtures import FIXTURES
from tests.speech.whisper import link_whisper
from tests.telegram_api import message


def voice_note(name: str) -> bytes:
    samples, rate = soundfile.read(FIXTURES / f"{name}.wav", dtype="float32")
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="OGG", subtype="OPUS")
    return out.getvalue()


def test_a_mandarin_voice_note_becomes_its_transcript(tg: Stand, whisper_base: Path) -> None:  # noqa: F811
    link_whisper(tg.ctx.settings.speech_models, whisper_base)

    async def districts() -> None:
        async with tg.ctx.db.transaction() as s:
            s.add(RoutingRule(kind="district", pattern="滨海新区", department_id=tg.city["roads"]))

    tg.call(districts)
    voice_id = tg.api.add_file(voice_note("zh-10"), "voice/file_9.oga")
    voice = {"file_id": voice_id, "file_unique_id": "v9", "duration": 6, "mime_type": "audio/ogg"}
    assert tg.post(message(CHAT, language="en-GB", voice=voice)).status_code == 200
    tg.run_jobs()
    [case] = tg.cases()
    inbound = tg.call(_inbound, tg.ctx, case.id)
    [kept] = inbound.meta["transcripts"]
    assert kept["engine"] == "whisper" and kept["language"] == "zh_CN"
    assert "滨海新区" in inbound.text, inbound.text
    assert kept["segments"]
