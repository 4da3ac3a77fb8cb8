"""The Whisper engine: faster-whisper on CTranslate2, offline, one multilingual model.

The model loads once per process (whisper-base: ~150 MB, a second) and is shared; each
recording is decoded to 16 kHz mono (telephone audio, 8 kHz μ-law, is resampled), split into
parts of ``speech_split_seconds`` when longer (every part is heard, none dropped), and
transcribed in a worker thread with the engine's voice activity detection (silence skipped).
At most ``speech_concurrency`` recordings are transcribed at once in a process, each with
``whisper_threads`` CPU threads; the others wait their turn.

The language is the caller's choice (the phone menu, the chat) when there is one; otherwise the
model detects it among the hotline's own languages only. Chinese comes out in Simplified
characters (OpenCC's Traditional→Simplified table) with the model's punctuation, and a stretch
of the transcript that sounds like one of the city's names (district, service and department)
is put right (``correct.py``), so 滨海新区 is not left as 冰海新区. Segments keep their times, so
a reader can jump in the recording to a sentence.

What bought accuracy (whisper-base, the Mandarin fixtures zh-04 … zh-11, character error rate
at 16 kHz / as 8 kHz μ-law, one setting changed at a time from int8, beam 5, VAD, instruction
prompt: 0.147 / 0.129; notes in the speech-cer note): Chinese is given no initial prompt
(``whisper_zh_prompt = "none"``: 0.119 / 0.107). The instruction sentence asking for Simplified
Chinese and punctuation kept the model from writing an English sentence a caller says and
changed single characters; the city's names alone as the prompt gave 0.125 / 0.144, so the
names are put right after decoding instead. Without a prompt a long transcript sometimes comes
without punctuation (zh-11); ``instruction`` punctuates every one. Measured and not taken:
compute type int8_float32 0.147 / 0.132, float32 0.144 / 0.129 (2× the CPU), int16 0.135 /
0.144; beam 1 0.141 / 0.163; no temperature fallback 0.147 / 0.307; conditioning on previous
text and leaving out timestamps, VAD off or its silence and padding changed, OpenCC's tw2sp or
hk2s tables: within ±0.01 (one to three characters of 319).

What bought speed (goal: RTF <= 0.2 on two cores; all 13 fixtures at 16 kHz, 100 s; one
setting changed at a time from the above with two threads, one transcription at a time; run
back to back in one process on the shared two-core VM at load 3-5; wall RTF median of four
rounds / CPU seconds per 2 cores per audio second): two transcriptions at once with one
thread each (``speech_concurrency = 2``, ``whisper_threads = 1``, the model with as many
CTranslate2 workers) 0.093 / 0.071 against 0.145 / 0.080, the same text; one thread, one at
a time 0.137 / 0.065. CTranslate2's second thread helps the encoder (every window is 30 s)
but slows the beam search of so small a decoder (encoder 6.7 s with two threads, 8.4 s with
one; decoder 7.2 s against 3.8 s); a 167 s recording took 0.158 with two threads, 0.076-0.094
with one. Measured and not taken (CER 16 kHz / 8 kHz): beam 4 0.129 / 0.103, beam 3 0.122 /
0.107, beam 2 0.097 / 0.129, none faster beyond the noise (CPU 0.065-0.088); no timestamps
0.119 / 0.129 (CPU 0.070; one segment per window); faster-whisper's BatchedInferencePipeline
over the VAD segments (batch 8, timestamps kept) 0.119 / 0.100 with no less CPU (one window
per fixture) and 0.304 on the 167 s recording; temperature 0 only, best_of 1, no log-prob or
compression thresholds: the same text and time (no fixture falls back).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio.to_thread
import numpy as np

from hotline.core.cases.transcripts import Segment, Transcript

from .audio import to_samples
from .correct import city_names

RATE = 16000
SERVED = {"zh": "zh_CN", "en": "en"}  # Whisper's code -> the hotline's language
PROMPT = {
    "zh": "以下是普通话的句子，使用简体中文和标点符号。",
    "en": "Hello, this is a message for the city hotline.",
}
PROMPT_CHARS = 180  # the prompt is capped (Whisper reads at most 224 prompt tokens)

_models: dict[tuple[Path, str, int, int], Any] = {}
_lock = threading.Lock()
_gates: dict[int, threading.BoundedSemaphore] = {}


@dataclass(frozen=True)
class Options:
    compute_type: str = "int8"
    beam_size: int = 5
    threads: int = 1  # per transcription: two at once on one thread each beat one on two
    vad: bool = True
    zh_prompt: str = "none"  # none | vocabulary | instruction (see ``prompt``)
    split_seconds: int = 600
    concurrency: int = 2


def load_model(folder: Path, compute_type: str = "int8", threads: int = 1, workers: int = 2) -> Any:
    """The model, loaded once per folder and setting. ``workers`` transcriptions can run in it
    at once, each with ``threads`` CPU threads (CTranslate2 queues a call beyond that until one
    is done; the workers share the weights: 231 MB resident with one worker or two)."""
    from faster_whisper import WhisperModel

    key = (folder.resolve(), compute_type, threads, workers)
    with _lock:
        model = _models.get(key)
        if model is None:
            model = _models[key] = WhisperModel(
                str(folder),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=threads,
                num_workers=workers,
                local_files_only=True,  # a folder: nothing is fetched
            )
        return model


def _gate(concurrency: int) -> threading.BoundedSemaphore:
    with _lock:
        gate = _gates.get(concurrency)
        if gate is None:
            gate = _gates[concurrency] = threading.BoundedSemaphore(concurrency)
        return gate


@lru_cache(maxsize=1)
def _simplified() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Traditional → Simplified Chinese (text in other scripts is left as it is)."""
    return str(_simplified().convert(text))


def prompt(language: str, vocabulary: Sequence[str], zh_prompt: str = "none") -> str:
    """The initial prompt: for Chinese, per ``zh_prompt``, nothing (``none``), the city's
    names (``vocabulary``) or the instruction sentence then the names (``instruction``); for
    English, its sentence then the names."""
    base = language.split("_")[0]
    if base == "zh" and zh_prompt == "none":
        return ""
    text = PROMPT.get(base, "") if base != "zh" or zh_prompt == "instruction" else ""
    sep = "、" if base == "zh" else ", "
    for word in vocabulary:
        if len(text) + len(word) + 1 > PROMPT_CHARS:
            break
        text += (sep if text and not text.endswith("。") else "") + word
    return text + ("。" if base == "zh" and vocabulary else "")


def _has_cjk(word: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in word)


def detect(model: Any, samples: np.ndarray) -> str:
    """The served language spoken most likely in the first 30 s (only zh and en count)."""
    _, _, probabilities = model.detect_language(audio=samples[: 30 * RATE])
    served = [(p, code) for code, p in probabilities if code in SERVED]
    return SERVED[max(served)[1]] if served else "zh_CN"


_FULL_WIDTH = str.maketrans({",": "，", "?": "？", "!": "！", ":": "：", ";": "；"})


def chinese_punctuation(text: str) -> str:
    """ASCII commas, question marks... after a Chinese character become full-width."""
    out = []
    for i, ch in enumerate(text):
        if ch in ",?!:;" and i and "\u3400" <= text[i - 1] <= "\u9fff":
            ch = ch.translate(_FULL_WIDTH)
        out.append(ch)
    return "".join(out)


_SENTENCE = re.compile(r"[^。！？!?]+[。！？!?]*|[。！？!?]+")


def sentences(start: float, end: float, text: str) -> list[Segment]:
    """A segment cut at its sentence ends, each sentence timed in proportion to its length
    (the model sometimes gives one segment for 25 s of speech; a reader jumps to a sentence)."""
    parts = [p for p in _SENTENCE.findall(text) if p.strip()] if "." not in text else [text]
    if len(parts) < 2:
        return [Segment(start, end, text)]
    total = sum(len(p) for p in parts)
    out, at = [], start
    for part in parts:
        step = (end - start) * len(part) / total
        out.append(Segment(round(at, 2), round(at + step, 2), part.strip()))
        at += step
    return out


def _join(base: str, parts: list[str]) -> str:
    if base == "zh":
        return "".join(p.strip() for p in parts).strip()
    return " ".join(p.strip() for p in parts if p.strip())


def transcribe_samples(
    model: Any,
    samples: np.ndarray,
    language: str,
    initial_prompt: str,
    options: Options,
    vocabulary: Sequence[str] = (),
) -> tuple[str, list[Segment]]:
    """Transcribe decoded 16 kHz audio, in parts of ``split_seconds``: (text, segments)."""
    base = language.split("_")[0]
    step = options.split_seconds * RATE
    segments: list[Segment] = []
    for offset in range(0, len(samples), step):
        part = samples[offset : offset + step]
        if len(part) < RATE // 10:  # a tail under 0.1 s holds no word
            continue
        heard, _info = model.transcribe(
            part,
            language=base,
            beam_size=options.beam_size,
            vad_filter=options.vad,
            initial_prompt=initial_prompt or None,
            condition_on_previous_text=False,
        )
        shift, length = offset / RATE, len(part) / RATE
        for s in heard:
            text = s.text
            if base == "zh":
                text = city_names(chinese_punctuation(simplified(text)), vocabulary)
            if text.strip():
                start, end = min(s.start, length), min(s.end, length)  # never past the end
                segments.extend(sentences(start + shift, end + shift, text.strip()))
    return _join(base, [s.text for s in segments]), segments


def transcribe_file(
    folder: Path,
    audio: bytes,
    language: str,
    hinted: bool = True,
    vocabulary: Sequence[str] = (),
    options: Options | None = None,
) -> Transcript:
    """Blocking: decode, wait for a free place, detect (unless hinted), transcribe.

    Raises ``AudioError`` for audio that cannot be read or holds nothing."""
    options = options or Options()
    samples, seconds = to_samples(audio, RATE, max_seconds=None)
    with _gate(options.concurrency):
        started = time.perf_counter()
        model = load_model(folder, options.compute_type, options.threads, options.concurrency)
        if not hinted:
            language = detect(model, samples)
        # the city's words written in the language heard (Chinese names for Chinese)
        zh = language.startswith("zh")
        vocabulary = [w for w in vocabulary if _has_cjk(w) == zh]
        text, segments = transcribe_samples(
            model,
            samples,
            language,
            prompt(language, vocabulary, options.zh_prompt),
            options,
            vocabulary,
        )
        elapsed = time.perf_counter() - started
    return Transcript(
        text=text,
        language=language,
        engine="whisper",
        seconds=seconds,
        elapsed=elapsed,
        segments=segments,
    )


async def transcribe(
    folder: Path,
    audio: bytes,
    language: str,
    hinted: bool,
    vocabulary: Sequence[str],
    options: Options,
) -> Transcript:
    return await anyio.to_thread.run_sync(
        transcribe_file, folder, audio, language, hinted, vocabulary, options
    )
