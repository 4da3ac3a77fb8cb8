"""Speech models as data: one folder per language under ``settings.speech_models``.

Nothing is downloaded: a site fetches a model's zip itself and installs it with
``hotline speech install LANG ZIP --sha256 HEX``. The zip must match the SHA-256 given, hold no
path that leaves the folder, and look like a Vosk model (``am/final.mdl`` or ``final.mdl``,
``conf/``); it is unpacked beside the models and renamed into place, so a half-unpacked model
is never used.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
WANTED = ("zh_CN", "en")  # the hotline's own languages: `check` notes a missing model


class ModelError(ValueError):
    """A model zip that is refused, with the reason."""


def looks_like_model(folder: Path) -> bool:
    has_model = (folder / "am" / "final.mdl").is_file() or (folder / "final.mdl").is_file()
    return has_model and (folder / "conf").is_dir()


def find(root: Path, language: str) -> Path | None:
    """The model folder for ``language``: exact (``zh_CN``), else its base (``zh``)."""
    for name in (language, language.split("_")[0]):
        folder = root / name
        if name and looks_like_model(folder):
            return folder
    return None


def installed(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if looks_like_model(p)}


def missing(root: Path) -> list[str]:
    return [language for language in WANTED if find(root, language) is None]


def sample_rate(folder: Path) -> int:
    """The rate the model was trained at (conf/mfcc.conf), 16 kHz when it does not say."""
    conf = folder / "conf" / "mfcc.conf"
    if conf.is_file():
        match = re.search(r"--sample-frequency=(\d+)", conf.read_text(errors="replace"))
        if match:
            return int(match[1])
    return 16000


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install(root: Path, language: str, archive: Path, sha256: str, replace: bool = False) -> Path:
    """Unpack ``archive`` as the model for ``language``; refuse it with a ``ModelError``."""
    if not LANGUAGE.match(language):
        raise ModelError(f"{language!r} is not a language code such as zh_CN, en or fr")
    expected = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise ModelError("--sha256 must be the 64 hex digits published with the model")
    if not archive.is_file():
        raise ModelError(f"{archive} is not a file")
    actual = sha256_of(archive)
    if actual != expected:
        raise ModelError(f"{archive.name}: SHA-256 is {actual}, not the {expected} given; refused")
    target = root / language
    if target.exists() and not replace:
        raise ModelError(f"a model for {language} is installed; add --replace to replace it")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{language}-", dir=root))
    try:
        _unpack(archive, staging)
        folder = _model_folder(staging)
        if folder is None:
            raise ModelError(
                f"{archive.name} is not a Vosk model (no am/final.mdl and conf/ inside)"
            )
        old = root / f".{language}-old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        folder.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _unpack(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            base = into.resolve()
            for member in zf.infolist():
                destination = (into / member.filename).resolve()
                if not destination.is_relative_to(base) or member.filename.startswith("/"):
                    raise ModelError(f"{archive.name}: {member.filename!r} leaves the folder")
                if (member.external_attr >> 16) & 0o170000 == 0o120000:
                    raise ModelError(f"{archive.name}: {member.filename!r} is a symbolic link")
            zf.extractall(into)
    except zipfile.BadZipFile:
        raise ModelError(f"{archive.name} is not a zip file") from None


def _model_folder(staging: Path) -> Path | None:
    """The model is the zip's top folder (as the official zips) or the zip's root itself."""
    if looks_like_model(staging):
        inner = staging / "model"
        inner.mkdir()
        for item in list(staging.iterdir()):
            if item != inner:
                item.rename(inner / item.name)
        return inner
    candidates = [p for p in staging.iterdir() if p.is_dir() and looks_like_model(p)]
    return candidates[0] if len(candidates) == 1 else None
