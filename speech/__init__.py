"""Speech: offline transcription of recordings (voicemail, voice notes) with Vosk.

Hooks only: ``transcribe`` answers for every language that has a model folder under
``settings.speech_models`` (and ``None`` otherwise, so another engine may answer);
``check_setup`` notes the hotline's languages with no model; ``hotline speech list|install``
manages the models; ``/console/settings/speech`` shows them to administrators.
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

from . import models


@hookimpl
def transcribe(
    ctx: AppContext, audio: bytes, content_type: str, language: str
) -> Awaitable[Transcript] | None:
    folder = models.find(ctx.settings.speech_models, language)
    if folder is None:
        return None
    from . import vosk_engine  # loads the Kaldi library only when a model is there

    return vosk_engine.transcribe(folder, audio, language)


@hookimpl
def check_setup(settings: Settings) -> Sequence[str]:
    return [
        f"note: no speech model for {language} in {settings.speech_models}: its recordings are "
        f"kept without a transcript (hotline speech install {language} ZIP --sha256 HEX)"
        for language in models.missing(settings.speech_models)
    ]


def _list(_args: argparse.Namespace) -> int:
    from hotline.core.foundation.settings import load_settings

    root = load_settings().speech_models
    found = models.installed(root)
    for language, folder in found.items():
        print(f"{language}\t{folder}\t{models.sample_rate(folder)} Hz")
    for language in models.missing(root):
        print(f"{language}\t(no model)")
    return 0


def _install(args: argparse.Namespace) -> int:
    from hotline.core.foundation.settings import load_settings

    root = load_settings().speech_models
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
    install = sub.add_parser("install", help="install a Vosk model from a zip file")
    install.add_argument("language", help="zh_CN, en, fr...")
    install.add_argument("zip", help="the model's zip file, as published")
    install.add_argument("--sha256", required=True, help="the SHA-256 published with it")
    install.add_argument("--replace", action="store_true", help="replace an installed model")
    install.set_defaults(func=_install)


@hookimpl
def register_console_routes(ctx: AppContext) -> Sequence[Any]:
    from .console import CONSOLE_ROUTES

    return CONSOLE_ROUTES


@hookimpl
def register_templates() -> list[str]:
    return ["hotline.speech"]
