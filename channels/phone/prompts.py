"""What the caller hears: the site's recordings where it has them
(``<data dir>/phone-prompts/<language>/<node>.wav``), otherwise speech synthesised by
espeak-ng (Debian) in the caller's language, rendered once and cached by its text
(``<data dir>/phone-prompts/cache``), so a prompt costs a file lookup after the first call.
Prompts are 16-bit mono WAV at 8 kHz, the telephone's rate, so the engine plays them as they
are. A short tone before recording, and the music on hold (unless the site places its own at
``<data dir>/phone-prompts/hold.wav``), are generated."""

from __future__ import annotations

import asyncio
import hashlib
import math
import shutil
import struct
import tempfile
import wave
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile
import soxr

RATE = 8000
VOICES = {"zh_CN": "cmn", "en": "en-us", "fr": "fr"}
ESPEAK = shutil.which("espeak-ng") or "/usr/bin/espeak-ng"


class Prompts(Protocol):
    """What the IVR asks for the audio of what it says (``PromptBook`` here)."""

    async def node(self, name: str, language: str, text: str) -> Path: ...

    async def speak(self, text: str, language: str) -> Path: ...

    async def tone(self) -> Path: ...

    async def hold(self) -> Path: ...


class SynthesisFailed(RuntimeError):
    """espeak-ng is missing or could not speak the text."""


def to_telephone(source: Path, target: Path) -> None:
    """Any WAV to 16-bit mono 8 kHz."""
    audio, rate = soundfile.read(str(source), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != RATE:
        mono = soxr.resample(mono, rate, RATE)
    soundfile.write(str(target), np.clip(mono, -1, 1), RATE, subtype="PCM_16")


def write_tone(path: Path, seconds: float = 0.35, hz: float = 1000.0) -> None:
    frames = b"".join(
        struct.pack("<h", int(9000 * math.sin(2 * math.pi * hz * i / RATE)))
        for i in range(int(RATE * seconds))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


# the music on hold: a slow arpeggio (C major, A minor, F major, G major), one note a beat
HOLD_CHORDS = (
    (261.6, 329.6, 392.0),
    (220.0, 261.6, 329.6),
    (174.6, 220.0, 261.6),
    (196.0, 246.9, 293.7),
)


def write_hold_music(path: Path, beat: float = 0.5, rounds: int = 4) -> None:
    """About 24 seconds of soft music, 8 kHz: each note a sine with its octave, faded in and
    out so that looping it has no click."""
    notes = [hz for _ in range(rounds) for chord in HOLD_CHORDS for hz in (*chord, chord[1])]
    t = np.arange(int(RATE * beat)) / RATE
    shape = np.minimum(1.0, t / 0.02) * np.exp(-2.5 * t)
    music = np.concatenate(
        [(np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(4 * np.pi * hz * t)) * shape for hz in notes]
    )
    soundfile.write(str(path), (0.25 * music).astype(np.float32), RATE, subtype="PCM_16")


class PromptBook:
    def __init__(self, data_dir: Path, speed: int = 150) -> None:
        self.site = data_dir / "phone-prompts"
        self.cache = self.site / "cache"
        self.speed = speed
        self._locks: dict[str, asyncio.Lock] = {}

    async def node(self, name: str, language: str, text: str) -> Path:
        recorded = self.site / language / f"{name}.wav"
        if recorded.exists():
            return await self._telephone_copy(recorded)
        return await self.speak(text, language)

    async def speak(self, text: str, language: str) -> Path:
        voice = VOICES.get(language, "en-us")
        key = hashlib.sha256(f"{voice}|{self.speed}|{text}".encode()).hexdigest()[:32]
        target = self.cache / f"{key}.wav"
        if target.exists():
            return target
        async with self._locks.setdefault(key, asyncio.Lock()):
            if not target.exists():
                await self._synthesise(text, voice, target)
        return target

    async def tone(self) -> Path:
        target = self.cache / "tone.wav"
        if not target.exists():
            self.cache.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(write_tone, target)
        return target

    async def hold(self) -> Path:
        """The music on hold: the site's ``phone-prompts/hold.wav`` (any WAV), else the built-in,
        generated once."""
        recorded = self.site / "hold.wav"
        if recorded.exists():
            return await self._telephone_copy(recorded)
        target = self.cache / "hold.wav"
        if not target.exists():
            self.cache.mkdir(parents=True, exist_ok=True)
            part = self.cache / "hold.part.wav"
            await asyncio.to_thread(write_hold_music, part)
            part.replace(target)
        return target

    async def _synthesise(self, text: str, voice: str, target: Path) -> None:
        self.cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.cache) as tmp:
            raw = Path(tmp) / "raw.wav"
            try:
                process = await asyncio.create_subprocess_exec(
                    ESPEAK,
                    "-v",
                    voice,
                    "-s",
                    str(self.speed),
                    "-w",
                    str(raw),
                    "--",
                    text,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
            except OSError as exc:
                raise SynthesisFailed(f"espeak-ng cannot run: {exc}") from exc
            _, err = await process.communicate()
            if process.returncode != 0 or not raw.exists():
                raise SynthesisFailed(f"espeak-ng failed: {err.decode(errors='replace')[:200]}")
            part = Path(tmp) / "tel.wav"
            await asyncio.to_thread(to_telephone, raw, part)
            part.replace(target)  # atomic: a reader never sees half a prompt

    async def _telephone_copy(self, recorded: Path) -> Path:
        stat = recorded.stat()  # noqa: ASYNC240 (one stat of a local file)
        key = hashlib.sha256(f"{recorded}|{stat.st_mtime_ns}|{stat.st_size}".encode()).hexdigest()
        target = self.cache / f"site-{key[:32]}.wav"
        if not target.exists():
            self.cache.mkdir(parents=True, exist_ok=True)
            part = target.with_suffix(".part.wav")
            await asyncio.to_thread(to_telephone, recorded, part)
            part.replace(target)
        return target

    async def warm(self, texts: list[tuple[str, str, str]]) -> int:
        """Render every (node, language, text) now, so the first caller waits for none."""
        for name, language, text in texts:
            await self.node(name, language, text)
        return len(texts)
