"""What callers hear when the site has no recordings: espeak-ng in Mandarin and English,
rendered once at the telephone's rate and reused; a site's own recording wins."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

from hotline.channels.phone import prompts as prompts_mod
from hotline.channels.phone.prompts import RATE, PromptBook
from tests.conftest import need


def shape(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path)) as audio:
        return (
            audio.getnchannels(),
            audio.getsampwidth(),
            audio.getframerate(),
            audio.getnframes() / audio.getframerate(),
        )


async def test_prompts_are_synthesised_once_at_the_telephone_rate(
    tmp_path: Path, monkeypatch: object
) -> None:
    need(shutil.which("espeak-ng") is not None, "espeak-ng (apt-get install espeak-ng)")
    book = PromptBook(tmp_path)
    chinese = await book.speak("反映问题请按1。", "zh_CN")
    english = await book.speak("To report a problem, press 1.", "en")
    for path in (chinese, english):
        channels, width, rate, seconds = shape(path)
        assert (channels, width, rate) == (1, 2, RATE) and 0.5 < seconds < 6
    assert chinese != english
    made = chinese.stat().st_mtime_ns
    again = await book.speak("反映问题请按1。", "zh_CN")
    assert again == chinese and again.stat().st_mtime_ns == made  # from the cache
    tone = await book.tone()
    assert shape(tone)[2] == RATE


async def test_a_site_recording_wins_over_synthesis(tmp_path: Path) -> None:
    site = tmp_path / "phone-prompts" / "en"
    site.mkdir(parents=True)
    with wave.open(str(site / "main.wav"), "wb") as out:  # a 16 kHz studio recording
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x10" * 16000)
    played = await PromptBook(tmp_path).node("main", "en", "ignored text")
    assert shape(played)[2] == RATE and abs(shape(played)[3] - 1.0) < 0.01


async def test_a_missing_synthesiser_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    monkeypatch.setattr(prompts_mod, "ESPEAK", str(tmp_path / "no-espeak"))
    with pytest.raises(prompts_mod.SynthesisFailed, match="cannot run"):
        await PromptBook(tmp_path).speak("hello", "en")


async def test_the_music_on_hold_is_built_in_once_and_a_site_replaces_it(tmp_path: Path) -> None:
    import numpy as np
    import soundfile

    book = PromptBook(tmp_path)
    music = await book.hold()
    channels, width, rate, seconds = shape(music)
    assert (channels, width, rate) == (1, 2, RATE) and 20 < seconds < 40
    audio, _ = soundfile.read(str(music), dtype="float32")
    loud = [float(np.sqrt(np.mean(audio[i : i + RATE] ** 2))) for i in range(0, len(audio), RATE)]
    assert min(loud) > 0.02  # music all along, no silent second
    made = music.stat().st_mtime_ns
    assert (await book.hold()).stat().st_mtime_ns == made  # generated once
    with wave.open(str(tmp_path / "phone-prompts" / "hold.wav"), "wb") as out:  # the site's
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x10" * 16000 * 3)
    site = await book.hold()
    assert site != music and shape(site)[2] == RATE and abs(shape(site)[3] - 3.0) < 0.01
