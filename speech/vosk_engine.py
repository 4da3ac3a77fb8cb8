"""The built-in speech engine: Vosk (Kaldi), offline, one model per language.

Models load once per process (a small model takes a second or two and ~100 MB) and are shared
by every transcription; each recording gets its own recogniser, run in a worker thread so the
event loop never waits on it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
import vosk

from hotline.core.cases.transcripts import Transcript, Word

from . import models
from .audio import to_pcm16

vosk.SetLogLevel(-1)  # Kaldi's own log lines say nothing a site needs and go to stderr
CHUNK = 8000  # bytes of 16-bit PCM per AcceptWaveform: 0.25 s at 16 kHz
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")

_models: dict[Path, vosk.Model] = {}
_lock = threading.Lock()


def load_model(folder: Path) -> vosk.Model:
    with _lock:
        model = _models.get(folder)
        if model is None:
            model = _models[folder] = vosk.Model(str(folder))
        return model


def recognise(model: vosk.Model, pcm: bytes, rate: int) -> tuple[str, list[Word]]:
    """The words in 16-bit mono ``pcm`` at ``rate``: (text, words with confidences)."""
    recogniser = vosk.KaldiRecognizer(model, rate)
    recogniser.SetWords(True)
    parts: list[dict[str, Any]] = []
    for start in range(0, len(pcm), CHUNK):
        if recogniser.AcceptWaveform(pcm[start : start + CHUNK]):
            parts.append(json.loads(recogniser.Result()))
    parts.append(json.loads(recogniser.FinalResult()))
    words = [
        Word(str(w["word"]), float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)))
        for part in parts
        for w in part.get("result", [])
    ]
    text = " ".join(str(p.get("text", "")).strip() for p in parts if p.get("text")).strip()
    return text, words


def transcribe_file(folder: Path, audio: bytes, language: str) -> Transcript:
    """Blocking: decode, resample to the model's rate, recognise. Raises ``AudioError``."""
    started = time.perf_counter()
    rate = models.sample_rate(folder)
    pcm, seconds = to_pcm16(audio, rate)
    text, words = recognise(load_model(folder), pcm, rate)
    if language.startswith("zh"):  # Chinese models space their words; Chinese text has none
        text = _CJK_GAP.sub("", text)
    return Transcript(
        text=text,
        language=language,
        engine="vosk",
        seconds=seconds,
        words=words,
        elapsed=time.perf_counter() - started,
    )


async def transcribe(folder: Path, audio: bytes, language: str) -> Transcript:
    return await anyio.to_thread.run_sync(transcribe_file, folder, audio, language)
