"""The hotline's own languages, English and Mandarin, transcribed by their Vosk models when a
site has them. No such model can be fetched on the machines this suite runs on, so these tests
skip with the reason unless a model folder is given (``HOTLINE_TEST_SPEECH_MODELS``: a folder
holding ``en/`` and/or ``zh_CN/``, e.g. a hotline's own ``<data dir>/speech-models``). Their
bounds are not measured here: they follow the published accuracy of the small models
(vosk-model-small-en-us-0.15: WER 9.85 % on LibriSpeech test-clean)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hotline.speech.models import find
from tests.speech.fixtures import FIXTURES, reference, word_error_rate

ENGLISH = [f"librivox-0{n}" for n in (870, 880, 890, 920, 930)]


def model_for(language: str) -> Path:
    root = os.environ.get("HOTLINE_TEST_SPEECH_MODELS", "")
    folder = find(Path(root), language) if root else None
    if folder is None:
        pytest.skip(
            f"no {language} Vosk model: set HOTLINE_TEST_SPEECH_MODELS to a folder with "
            f"{language}/ in it (see the README, Speech models)"
        )
    return folder


@pytest.mark.parametrize("name", ENGLISH)
def test_english_read_speech_is_heard(name: str) -> None:
    from hotline.speech.vosk_engine import transcribe_file

    model = model_for("en")
    heard = transcribe_file(model, (FIXTURES / f"{name}.wav").read_bytes(), "en")
    assert word_error_rate(reference(name), heard.text) <= 0.35, heard.text


def test_mandarin_is_written_without_spaces(tmp_path: Path) -> None:
    from hotline.speech.vosk_engine import transcribe_file

    model = model_for("zh_CN")
    wav = tmp_path / "zh.wav"
    subprocess.run(
        ["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(wav), "人民路的路灯坏了"], check=True
    )
    heard = transcribe_file(model, wav.read_bytes(), "zh_CN")
    assert heard.text and " " not in heard.text, heard.text
    assert heard.words  # each word still carries its timing and confidence
