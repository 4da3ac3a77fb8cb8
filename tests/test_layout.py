"""The tree's shape (ARCHITECTURE.md): kernel folders that say what they own, small modules.

The layers themselves are checked by import-linter (`deploy/lint-imports.sh`, in CI).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "plugins", "channels", "portal", "admin", "speech")
MAX_LINES = 400


def _modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations/versions" not in path.as_posix()
    ]


def test_no_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in _modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"split these by what they do (ARCHITECTURE.md): {long}"


def test_every_kernel_folder_says_what_it_owns_and_may_import():
    folders = [p for p in (ROOT / "core").iterdir() if (p / "__init__.py").exists()]
    assert {p.name for p in folders} >= {
        "intake",
        "cases",
        "axd",
        "workflow",
        "people",
        "reference",
        "delivery",
        "shell",
        "storage",
        "foundation",
        "commands",
        "plugin_host",
    }
    for folder in folders:
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), (
            f"core/{folder.name}/__init__.py: what may it import?"
        )


def test_the_kernel_has_no_loose_modules():
    loose = [p.name for p in (ROOT / "core").glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"give these a domain folder: {loose}"


def test_plugins_holds_plugins_only():
    assert not (ROOT / "plugins" / "hookspecs.py").exists()
    assert not (ROOT / "plugins" / "manager.py").exists()


def test_the_architecture_map_is_short_and_names_every_kernel_folder():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 200
    for folder in (ROOT / "core").iterdir():
        if (folder / "__init__.py").exists():
            assert f"core/{folder.name}/" in text, folder.name
