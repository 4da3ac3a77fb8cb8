"""Transcription speed: the vosk engine as the hotline runs it against a raw call of the vosk
recogniser on the same audio, in the same run, one core (one recording at a time).

    .venv/bin/python benchmarks/bench_speech.py [--rounds 3]

The hotline's path is ``hotline.speech.vosk_engine.transcribe_file``: decode the WAV, resample
telephone audio to the model's rate, recognise with word timings, build the Transcript. The raw
baseline hands the model's own 16 kHz PCM straight to one KaldiRecognizer. Real-time factor
(RTF) is processing seconds per second of audio (lower is faster); per fixture the word error
rate against its reference is printed too. Uses the French model in ../shared.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import ratio  # noqa: E402
from tests.speech.fixtures import (  # noqa: E402
    FIXTURES,
    FRENCH,
    FRENCH_MODEL,
    french_available,
    reference,
    spoken,
    word_error_rate,
)


def raw_seconds(model: object, pcm: bytes) -> float:
    import vosk

    started = time.perf_counter()
    recogniser = vosk.KaldiRecognizer(model, 16000)
    recogniser.AcceptWaveform(pcm)
    json.loads(recogniser.FinalResult())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="best of N per fixture")
    parser.add_argument("--skip-postgres", action="store_true", help="(no database here)")
    args = parser.parse_args()
    if not french_available():
        print(f"# speech skipped: no French model at {FRENCH_MODEL}")
        return 0
    import soundfile

    from hotline.speech.vosk_engine import load_model, transcribe_file

    model = load_model(FRENCH_MODEL)
    totals = {"app": 0.0, "raw": 0.0, "audio": 0.0}
    for name in FRENCH:
        pcm = soundfile.read(FIXTURES / f"{name}.wav", dtype="int16")[0].tobytes()
        seconds = len(pcm) / 32000
        for label, audio in (("16k", spoken(name)), ("8k", spoken(name, 8000))):
            app = min(
                transcribe_file(FRENCH_MODEL, audio, "fr").elapsed for _ in range(args.rounds)
            )
            heard = transcribe_file(FRENCH_MODEL, audio, "fr")
            error = word_error_rate(reference(name), heard.text)
            print(f"speech_wer_{name}_{label} {error:.2f} ({seconds:.1f} s of audio)")
            print(f"speech_rtf_{name}_{label} {app / seconds:.3f}")
            if label == "16k":
                raw = min(raw_seconds(model, pcm) for _ in range(args.rounds))
                print(f"speech_rtf_raw_{name} {raw / seconds:.3f}")
                totals["app"] += app
                totals["raw"] += raw
                totals["audio"] += seconds
    app_rtf, raw_rtf = totals["app"] / totals["audio"], totals["raw"] / totals["audio"]
    print(f"speech_rtf {app_rtf:.3f} (all fixtures, 16 kHz, one core)")
    print(f"speech_rtf_raw {raw_rtf:.3f} (one KaldiRecognizer on the same PCM)")
    print(f"speech_rtf_ratio {ratio(raw_rtf / app_rtf)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
