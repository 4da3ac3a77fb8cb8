"""The French model and the spoken fixtures from ../shared (read-only), and word error rate."""

from __future__ import annotations

import io
import os
from pathlib import Path

import jiwer
import soundfile
import soxr


def _shared() -> Path:
    """The project's ``../shared`` (beside the clone, as CI has it); HOTLINE_TEST_SHARED wins."""
    given = os.environ.get("HOTLINE_TEST_SHARED")
    if given:
        return Path(given)
    return Path(__file__).resolve().parents[3] / "shared"


SHARED = _shared()
FRENCH_MODEL = SHARED / "speech-models" / "vosk-model-small-fr-0.22"
FIXTURES = SHARED / "speech-fixtures"
FRENCH = [f"fr-0{i}" for i in range(1, 6)]


def french_available() -> bool:
    return (FRENCH_MODEL / "am" / "final.mdl").is_file() and (FIXTURES / "fr-01.wav").is_file()


def reference(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").strip()


def spoken(name: str, rate: int | None = None) -> bytes:
    """The fixture as WAV bytes, resampled to ``rate`` (8000: as a telephone carries it)."""
    wav = (FIXTURES / f"{name}.wav").read_bytes()
    if rate is None:
        return wav
    samples, source = soundfile.read(io.BytesIO(wav), dtype="float32")
    out = io.BytesIO()
    soundfile.write(out, soxr.resample(samples, source, rate), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def word_error_rate(reference_text: str, heard: str) -> float:
    return float(jiwer.wer(reference_text, heard or "-"))


def install_french(models_dir: Path) -> None:
    """Make the shared French model the ``fr`` model of a data directory (a symbolic link)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    link = models_dir / "fr"
    if not link.exists():
        link.symlink_to(FRENCH_MODEL, target_is_directory=True)
