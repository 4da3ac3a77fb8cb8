"""Which engine hears which language: the administrator's choice on the speech settings page.

Kept as ``engines.json`` beside the models (``{"zh_CN": "whisper", "en": "vosk"}``); a language
with no choice gets Whisper when its model is built (it hears every language the hotline
serves), else Vosk when a Vosk model for the language is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

from hotline.core.foundation.settings import Settings

from . import models, whisper_model

ENGINES = ("whisper", "vosk")
LANGUAGES = models.WANTED


def _path(settings: Settings) -> Path:
    return settings.speech_models / "engines.json"


def chosen(settings: Settings) -> dict[str, str]:
    try:
        data = json.loads(_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items() if v in ENGINES}


def choose(settings: Settings, choices: dict[str, str]) -> None:
    data = {k: v for k, v in choices.items() if v in ENGINES and models.LANGUAGE.match(k)}
    folder = settings.speech_models
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".engines-", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, sort_keys=True)
    os.replace(tmp, _path(settings))


def whisper_folder(settings: Settings) -> Path | None:
    return whisper_model.find(settings.speech_models, settings.whisper_model_dir)


@lru_cache(maxsize=1)
def whisper_packages() -> bool:
    """faster-whisper and OpenCC can be imported (they are dependencies; a trimmed install)."""
    return all(importlib.util.find_spec(m) is not None for m in ("faster_whisper", "opencc"))


def engine_for(settings: Settings, language: str) -> str | None:
    """``whisper``, ``vosk`` or None (nothing can hear this language)."""
    choices = chosen(settings)
    pick = choices.get(language) or choices.get(language.split("_")[0])
    has_whisper = whisper_packages() and whisper_folder(settings) is not None
    has_vosk = models.find(settings.speech_models, language) is not None
    if pick == "vosk" and has_vosk:
        return "vosk"
    if pick == "whisper" and has_whisper:
        return "whisper"
    if has_whisper:
        return "whisper"
    return "vosk" if has_vosk else None
