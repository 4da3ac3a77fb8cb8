"""The front-end libraries vendored from npm are whole in the repository: every module a
vendored ES module imports is a file that git tracks (a ``dist/`` folder inside SIP.js was once
ignored by the Python build's ignore rule, so a clean clone served a 404 and no softphone)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"""(?:^|[;\s])(?:import|export)\b[^'"]*?\bfrom\s*['"](\.{1,2}/[^'"]+)['"]""")
BARE = re.compile(r"""(?:^|[;\s])import\s*['"](\.{1,2}/[^'"]+)['"]""")


def tracked() -> set[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return {ROOT / name for name in out.split("\0") if name}


def test_every_module_a_vendored_module_imports_is_tracked() -> None:
    files = tracked()
    modules = [p for p in files if "vendor" in p.parts and p.suffix in (".js", ".mjs")]
    assert modules, "no vendored module found"
    missing = []
    for module in modules:
        text = module.read_text(encoding="utf-8", errors="replace")
        for found in IMPORT.findall(text) + BARE.findall(text):
            target = (module.parent / found).resolve()
            if target not in files:
                missing.append(f"{module.relative_to(ROOT)} imports {found}")
    assert missing == []


def test_no_file_under_a_static_folder_is_ignored_by_git() -> None:
    """What the app serves is never left out of a clone by an ignore rule."""
    files = [
        str(path.relative_to(ROOT))
        for folder in ROOT.glob("*/**/static")
        if not any(part.startswith(".") or part == "node_modules" for part in folder.parts)
        for path in folder.rglob("*")
        if path.is_file()
    ]
    assert files
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(files),
        capture_output=True,
        text=True,
    ).stdout.split()
    assert ignored == []
